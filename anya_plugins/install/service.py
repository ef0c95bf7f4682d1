"""The library calls behind ``install``, ``uninstall``, ``update``, ``outdated``, ``lock`` and
``sync``: each wires configuration, sources and checks into one Transaction."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from importlib import metadata as importlib_metadata
from pathlib import Path

from packaging.version import InvalidVersion, Version

from anya_plugins.audit.log import Action
from anya_plugins.config.layers import LayeredConfig, load_config
from anya_plugins.config.paths import user_config_path
from anya_plugins.errors import UsageError
from anya_plugins.install import journal
from anya_plugins.install.environment import TargetEnvironment
from anya_plugins.install.lockfile import (
    LockDocument,
    LockError,
    UnlockedDistribution,
    UnlockedMissing,
    dump_lock,
    load_lock,
)
from anya_plugins.install.receipts import read_receipts, remove_receipt
from anya_plugins.install.specs import distribution_name
from anya_plugins.install.transaction import (
    InstallOptions,
    InstallResult,
    LockedFile,
    Transaction,
    check_extension_contract,
)
from anya_plugins.metadata.taxonomy import DIST_NAME_PREFIX
from anya_plugins.sources.download import Progress
from anya_plugins.sources.settings import SourcesSettings, load_sources
from anya_plugins.trust.policy import TrustPolicy
from anya_plugins.trust.verdicts import Verdicts
from anya_plugins.trust.verification import TrustDecision


@dataclass(frozen=True)
class Target:
    """Where to install and from which source (None: ``primary`` for a new install; for an
    update, the source each extension's receipt names)."""

    python: Path | None = None
    source: str | None = None
    org: str | None = None
    config_overrides: tuple[str, ...] = ()
    config: LayeredConfig | None = None
    """The configuration to use; None: the user's file and environment, with
    ``config_overrides``."""

    @property
    def source_name(self) -> str:
        from anya_plugins.sources.settings import source_name

        return source_name(self.source or "primary", self.org, lambda: _config(self))


def _config(target: Target) -> LayeredConfig:
    if target.config is not None:
        return target.config
    import os

    from anya_plugins.enterprise.policy import configured_policy

    return configured_policy(
        load_config(user_config_path(), overrides=target.config_overrides), os.environ
    )


def transaction_for(
    target: Target,
    *,
    source: str | None = None,
    switch_source: bool = False,
    prerelease: bool = False,
    upgrade: bool = False,
    dry_run: bool = False,
    allow_downgrade: bool = False,
    allow_unsigned: bool = False,
    allow_vulnerable: Sequence[str] = (),
    progress: Callable[[str], Progress | None] | None = None,
) -> Transaction:
    """The transaction ``install``, ``update`` and ``sync`` run for ``target``: its sources,
    trust policy, audit and tool settings read from the target's configuration layers, and
    every per-file and whole-plan check they call for."""
    from anya_plugins.audit.settings import load_audit_settings
    from anya_plugins.install.gatecheck import vulnerability_check
    from anya_plugins.install.pinning import pin_store
    from anya_plugins.install.resolution_memo import ResolutionMemo
    from anya_plugins.install.settings import load_install_settings
    from anya_plugins.install.sourcecheck import source_switch_check
    from anya_plugins.install.trustcheck import publisher_pin_check, trust_check
    from anya_plugins.install.yankcheck import release_state_check
    from anya_plugins.sources.cache import DownloadCache
    from anya_plugins.trust.policy import load_trust_policy

    source = source or target.source_name
    config = _config(target)
    settings = load_sources(config)
    policy = load_trust_policy(config)
    audit = load_audit_settings(config)
    tools = load_install_settings(config)
    options = InstallOptions(
        source=source,
        prerelease=prerelease,
        upgrade=upgrade,
        dry_run=dry_run,
        allow_downgrade=allow_downgrade,
        private_source=source.startswith("enterprise."),
    )
    decisions: list[TrustDecision] = []
    notes: list[str] = []
    env = TargetEnvironment.of(target.python)
    verdicts = _verdicts(policy, settings)
    return Transaction(
        env=env,
        settings=settings,
        options=options,
        resolver=tools.resolver(),
        installer=tools.installer(DownloadCache.from_settings(settings.cache)),
        file_checks=[
            check_extension_contract,
            trust_check(
                policy,
                allow_unsigned=allow_unsigned,
                decisions=decisions,
                notes=notes,
                verdicts=verdicts,
            ),
            publisher_pin_check(pin_store(env), policy, decisions=decisions, notes=notes),
            source_switch_check(env, allow_switch=switch_source),
            release_state_check(notes),
        ],
        set_checks=[
            vulnerability_check(audit, env, allow=allow_vulnerable, decisions=[], notes=notes)
        ],
        progress=progress,
        trust_decisions=decisions,
        notes=notes,
        memo=ResolutionMemo(verdicts),
    )


def _verdicts(policy: TrustPolicy, settings: SourcesSettings) -> Verdicts:
    """Verification results remembered beside the download cache, keyed in the data dir."""
    from anya_plugins.audit.settings import data_dir
    from anya_plugins.trust.verdicts import KEY_FILE, VERDICTS_DIR

    return Verdicts(
        policy, directory=settings.cache.dir / VERDICTS_DIR, key_file=data_dir() / KEY_FILE
    )


def install_extensions(
    typed: Sequence[str],
    target: Target = Target(),
    *,
    prerelease: bool = False,
    dry_run: bool = False,
    upgrade: bool = False,
    allow_downgrade: bool = False,
    allow_unsigned: bool = False,
    allow_vulnerable: Sequence[str] = (),
    switch_source: bool = False,
    extension_config: Sequence[str] = (),
    progress: Callable[[str], Progress | None] | None = None,
) -> InstallResult:
    """Resolve, download, verify and install; then store ``extension_config`` values.
    Something installed from another source is replaced only with ``switch_source`` (and
    never when that source is private)."""
    if not typed:
        raise UsageError("name at least one extension to install")
    transaction = transaction_for(
        target,
        prerelease=prerelease,
        upgrade=upgrade,
        dry_run=dry_run,
        allow_downgrade=allow_downgrade,
        allow_unsigned=allow_unsigned,
        allow_vulnerable=allow_vulnerable,
        switch_source=switch_source,
        progress=progress,
    )
    result = _audited(transaction, target, "install", typed, lambda: transaction.install(typed))
    if extension_config and not dry_run:
        _store_extension_config(typed, extension_config, _config(target).path)
    return result


def _audited(
    transaction: Transaction,
    target: Target,
    action: Action,
    requested: Sequence[str],
    run: Callable[[], InstallResult],
) -> InstallResult:
    """Run a transaction with its outcome — or its refusal — in the audit log."""
    from anya_plugins.analytics.hook import usage_reported
    from anya_plugins.install.auditing import audit_log, record_changes, refusals_recorded

    log = audit_log(_config(target), transaction.env)
    source = transaction.options.source
    with (
        refusals_recorded(log, action, requested, source),
        usage_reported(_config(target), action, requested, source) as usage,
    ):
        result = run()
        usage.succeeded(result)
    record_changes(log, action, result, source, transaction.trust_decisions)
    return replace(result, trust=tuple(transaction.trust_decisions))


def _store_extension_config(typed: Sequence[str], values: Sequence[str], path: Path) -> None:
    """``--config key=value`` of an install: keys without a section go to the (single)
    extension being installed, e.g. ``install lightning --config port=9735``."""
    from anya_plugins.config.store import set_value
    from anya_plugins.install.specs import parse_spec

    sections = [parse_spec(text).name.removeprefix(DIST_NAME_PREFIX) for text in typed]
    for item in values:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--config {item!r}: expected KEY=VALUE")
        if "." not in key:
            if len(sections) != 1:
                raise UsageError(f"--config {key}: say which extension ({', '.join(sections)})")
            key = f"{sections[0]}.{key}"
        set_value(path, key, raw)


@dataclass(frozen=True)
class UninstallResult:
    removed: tuple[str, ...]


def uninstall_extensions(names: Sequence[str], target: Target = Target()) -> UninstallResult:
    """Remove extensions under the journal; their receipts go with them."""
    env = TargetEnvironment.of(target.python)
    dists = [distribution_name(name) for name in names]
    from anya_plugins.install.settings import load_install_settings

    installer = load_install_settings(_config(target)).installer()
    with journal.exclusive(env):
        installed = env.installed()
        missing = [name for name in dists if name not in installed]
        if missing:
            from anya_plugins.errors import ExtensionNotFound

            raise ExtensionNotFound(f"not installed: {', '.join(missing)}")
        # Read before removing: a Distribution reads its metadata lazily, and the
        # importlib_metadata backport (loaded by keyring) raises once it is gone.
        versions = {name: installed[name].version for name in dists}
        with journal.step(env, [installed[name] for name in dists], installing=()):
            installer.uninstall(env, dists)
            for name in dists:
                remove_receipt(env, name)
    from anya_plugins.install.auditing import audit_log

    log = audit_log(_config(target), env)
    for name in dists:
        log.record("uninstall", extension=name, version=versions[name])
    from anya_plugins.analytics.hook import report_uninstall

    report_uninstall(_config(target), versions)
    return UninstallResult(tuple(dists))


def installed_extensions(env: TargetEnvironment) -> dict[str, str]:
    return {
        name: version
        for name, version in env.installed_versions().items()
        if name.startswith(DIST_NAME_PREFIX)
    }


def update_extensions(
    names: Sequence[str],
    target: Target = Target(),
    *,
    everything: bool = False,
    dry_run: bool = False,
    prerelease: bool = False,
    switch_source: bool = False,
    progress: Callable[[str], Progress | None] | None = None,
) -> InstallResult:
    """Upgrade the named extensions (or all installed ones) within their features, each
    from the source its receipt names — one transaction per source — or from the target's
    source when it has no receipt. A source given in ``target`` must match each receipt
    unless ``switch_source``; an extension from a private source never changes source."""
    from anya_plugins.install.sourcecheck import refuse_source_switch

    env = TargetEnvironment.of(target.python)
    if everything == bool(names):
        raise UsageError("name extensions to update, or pass --all (not both)")
    chosen = (
        sorted(installed_extensions(env)) if everything else [distribution_name(n) for n in names]
    )
    if not chosen:
        raise UsageError("no extensions are installed")
    receipts = read_receipts(env)
    if target.source is not None:
        from anya_plugins.install.auditing import audit_log, refusals_recorded

        log = audit_log(_config(target), env)
        with refusals_recorded(log, "update", chosen, target.source_name):
            for name in chosen:
                refuse_source_switch(
                    receipts.get(name), target.source_name, allow_switch=switch_source
                )
    by_source: dict[str, list[str]] = {}
    for name in chosen:
        receipt = receipts.get(name)
        source = (
            receipt.source if receipt is not None and target.source is None else target.source_name
        )
        features = receipt.features if receipt is not None else ()
        by_source.setdefault(source, []).append(
            f"{name}[{','.join(features)}]" if features else name
        )
    results = []
    for source, typed in sorted(by_source.items()):
        transaction = transaction_for(
            target,
            source=source,
            switch_source=switch_source,
            prerelease=prerelease,
            upgrade=True,
            dry_run=dry_run,
            progress=progress,
        )
        results.append(
            _audited(transaction, target, "update", typed, partial(transaction.install, typed))
        )
    return _merged(results)


def _merged(results: Sequence[InstallResult]) -> InstallResult:
    """One result for transactions run one after the other (one per source)."""
    first = results[0]
    if len(results) == 1:
        return first
    return replace(
        first,
        requested=tuple(r for result in results for r in result.requested),
        changes=tuple(c for result in results for c in result.changes),
        index_url=", ".join(dict.fromkeys(result.index_url for result in results)),
        recovered=next((r.recovered for r in results if r.recovered is not None), None),
        notes=tuple(note for result in results for note in result.notes),
    )


@dataclass(frozen=True)
class Outdated:
    name: str
    installed: str
    latest: str
    source: str


def outdated_extensions(target: Target = Target()) -> list[Outdated]:
    """Installed extensions with a newer (final) release on the source each came from (its
    receipt's; the target's source for one installed without a receipt)."""
    from anya_plugins.sources.errors import ProjectNotFound
    from anya_plugins.sources.simple import SimpleIndex

    env = TargetEnvironment.of(target.python)
    settings = load_sources(_config(target))
    receipts = read_receipts(env)
    indexes: dict[str, SimpleIndex] = {}
    rows = []
    for name, version in sorted(installed_extensions(env).items()):
        receipt = receipts.get(name)
        source = receipt.source if receipt is not None else target.source_name
        if source not in indexes:
            indexes[source] = SimpleIndex.from_settings(settings, source)
        try:
            page = indexes[source].project_page(name, refresh=True)
        except ProjectNotFound:
            continue
        versions = [v for v in (link.version for link in page.files) if v and not v.is_prerelease]
        if versions and max(versions) > _version(version):
            rows.append(Outdated(name, version, str(max(versions)), source))
    return rows


def _version(text: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion:
        return Version("0")


@dataclass(frozen=True)
class LockFile:
    path: Path
    entries: tuple[LockedFile, ...]
    unlocked: tuple[UnlockedDistribution, ...] = ()


def write_lock(path: Path, target: Target = Target(), *, allow_unlocked: bool = False) -> LockFile:
    """Lock the installed extensions and every distribution they need — their requirement
    closure in the target environment, markers evaluated for its interpreter — each with
    its version, file, sha256, source and signer from its receipt.

    A distribution of the closure without a receipt (installed by plain pip, from a path,
    editable) has no source to reproduce it from: refused, unless ``allow_unlocked``, which
    lists it in the lock as not reproducible. A set whose requirements are unmet here is
    refused: its lock would not reproduce a working environment."""
    from anya_plugins.install.closure import marker_environment, refuse_unmet, requirement_closure

    env = TargetEnvironment.of(target.python)
    with journal.exclusive(env):
        installed = env.installed()
        receipts = read_receipts(env)
    roots = [(r.name, r.features) for r in receipts.values() if r.requested]
    roots += [(name, ()) for name in installed if name.startswith(DIST_NAME_PREFIX)]
    if not roots:
        raise LockError("no extensions are installed here: there is nothing to lock")
    markers = marker_environment(env)
    closure = requirement_closure(roots, installed, markers)
    refuse_unmet(
        closure,
        f"the extensions installed in {env.prefix}",
        hint="install what is missing ('anya-ext install ...'), then lock",
    )
    entries, unlocked = [], []
    for name in sorted(closure.names):
        receipt = receipts.get(name)
        if receipt is None:
            dist = installed[name]
            unlocked.append(UnlockedDistribution(name, dist.version, _why_unlocked(dist)))
            continue
        entries.append(
            LockedFile(
                name=receipt.name,
                version=receipt.version,
                filename=receipt.filename,
                sha256=receipt.sha256,
                source=receipt.source,
                features=receipt.features,
                requested=receipt.requested,
                index_url=receipt.index_url,
                url=receipt.url,
                signer=receipt.signer,
                issuer=receipt.issuer,
            )
        )
    if unlocked and not allow_unlocked:
        raise LockError(
            "no source is known for "
            + ", ".join(f"{u.name} {u.version} ({u.reason})" for u in unlocked)
            + ": the lock could not reproduce them",
            hint="install them with anya-ext, or pass --allow-unlocked to list them in the "
            "lock as not reproducible (sync then requires them to be installed already)",
        )
    dump_lock(path, LockDocument(tuple(entries), tuple(unlocked), markers))
    return LockFile(path, tuple(entries), tuple(unlocked))


def _why_unlocked(dist: importlib_metadata.Distribution) -> str:
    """How a distribution without a receipt got here, as PEP 610's direct_url.json says."""
    try:
        direct = json.loads(dist.read_text("direct_url.json") or "null")
    except ValueError:
        direct = None
    if isinstance(direct, dict) and isinstance(direct.get("url"), str):
        editable = isinstance(direct.get("dir_info"), dict) and direct["dir_info"].get("editable")
        how = "editable install of" if editable else "installed from"
        return f"{how} {direct['url']}, not by anya-ext"
    return "installed without anya-ext"


def sync_lock(
    path: Path,
    target: Target = Target(),
    *,
    dry_run: bool = False,
    exact: bool = False,
    progress: Callable[[str], Progress | None] | None = None,
) -> InstallResult:
    """Install exactly the locked set in one transaction: every file from the source the lock
    names for it, checked like any install (hash, contract, signature, advisories, source
    kept), installed hash-pinned without resolving. Distributions locked without a source
    must be installed already, at the locked version. ``exact`` also removes whatever the
    lock does not hold (except the installer tooling). A set that would not import is
    refused, and nothing changes."""
    document = load_lock(path)
    if not document.packages and not document.unlocked:
        raise LockError(f"{path} locks nothing")
    env = TargetEnvironment.of(target.python)
    installed = env.installed_versions()
    absent = [u for u in document.unlocked if installed.get(u.name) != u.version]
    if absent:
        raise UnlockedMissing(
            f"{path} lists distributions no source is known for, and this environment does "
            "not have them at the locked version: "
            + ", ".join(
                f"{u.name} {u.version} (here: {installed.get(u.name, 'missing')}; {u.reason})"
                for u in absent
            ),
            hint="install them first (sync installs only what an index serves); nothing "
            "was changed",
        )
    sources = sorted({entry.source for entry in document.packages})
    transaction = transaction_for(
        target,
        source=", ".join(sources) or target.source_name,
        dry_run=dry_run,
        allow_downgrade=True,
        progress=progress,
    )
    sync = partial(
        transaction.sync,
        document.packages,
        unlocked=[u.name for u in document.unlocked],
        exact=exact,
    )
    requested = [f"{entry.name}=={entry.version}" for entry in document.packages]
    result = _audited(transaction, target, "install", requested, sync)
    if not document.unlocked:
        return result
    present = (
        f"locked without a source, so not installed by sync but already here at the locked "
        f"version: {', '.join(f'{u.name} {u.version}' for u in document.unlocked)}"
    )
    return replace(result, notes=(present, *result.notes))


@dataclass(frozen=True)
class InstalledCheck:
    """``anya-ext verify`` for one distribution: its files on disk and its signature."""

    name: str
    version: str
    files_intact: bool
    findings: tuple[str, ...]
    signature: str
    ok: bool


def verify_extensions(
    names: Sequence[str], target: Target = Target(), *, everything: bool = False
) -> list[InstalledCheck]:
    """Re-check installed extensions: every file against RECORD, and the stored provenance
    of the wheel each came from against the trust policy and the publisher pinned for it."""
    from anya_plugins.errors import ExtensionNotFound
    from anya_plugins.install.pinning import pin_store
    from anya_plugins.trust.errors import TrustError
    from anya_plugins.trust.installed import verify_installed
    from anya_plugins.trust.pins import PublisherChanged, publisher_change
    from anya_plugins.trust.policy import load_trust_policy
    from anya_plugins.trust.verification import verify_digest

    if everything == bool(names):
        raise UsageError("name extensions to verify, or pass --all (not both)")
    env = TargetEnvironment.of(target.python)
    installed = env.installed()
    chosen = (
        sorted(installed_extensions(env)) if everything else [distribution_name(n) for n in names]
    )
    missing = [name for name in chosen if name not in installed]
    if missing:
        raise ExtensionNotFound(f"not installed: {', '.join(missing)}")
    receipts = read_receipts(env)
    policy = load_trust_policy(_config(target))
    pins = pin_store(env)
    checks = []
    for name in chosen:
        files = verify_installed(installed[name])
        findings = tuple(f"{f.kind.value}: {f.path}" for f in files.findings)
        receipt = receipts.get(name)
        if receipt is None:
            signature, signed_ok = "no receipt: not installed by anya-ext", False
        else:
            try:
                decision = verify_digest(
                    receipt.filename,
                    receipt.sha256,
                    bundle=None,
                    attestation=receipt.provenance.encode() if receipt.provenance else None,
                    dist_name=name,
                    source=receipt.source,
                    policy=policy,
                    allow_unsigned=receipt.signer is None,
                    offline=policy.trusted_root is not None,
                )
                change = publisher_change(
                    pins.get(name), receipt.filename, decision.identity, decision.issuer
                )
                if change is not None:
                    raise PublisherChanged(change)
                signature = f"{decision.how}" + (
                    f" by {decision.identity}" if decision.identity else ""
                )
                signed_ok = True
            except TrustError as error:
                signature, signed_ok = error.message, False
        checks.append(
            InstalledCheck(
                name=name,
                version=installed[name].version,
                files_intact=files.intact,
                findings=findings,
                signature=signature,
                ok=files.intact and signed_ok,
            )
        )
    return checks
