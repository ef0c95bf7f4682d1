"""The library calls behind ``install``, ``uninstall``, ``update``, ``outdated``, ``lock`` and
``sync``: each wires configuration, sources and checks into one Transaction."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from anya_plugins.audit.log import Action
from anya_plugins.config.layers import LayeredConfig, load_config
from anya_plugins.config.paths import user_config_path
from anya_plugins.errors import AnyaError, UsageError
from anya_plugins.install import journal
from anya_plugins.install.environment import TargetEnvironment
from anya_plugins.install.installer import default_installer
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
from anya_plugins.sources.settings import load_sources
from anya_plugins.trust.verification import TrustDecision

LOCK_FORMAT = 1


class LockError(AnyaError):
    exit_code = 4


@dataclass(frozen=True)
class Target:
    """Where to install and from which source."""

    python: Path | None = None
    source: str = "primary"
    org: str | None = None
    config_overrides: tuple[str, ...] = ()

    @property
    def source_name(self) -> str:
        from anya_plugins.sources.settings import source_name

        return source_name(self.source, self.org)


def _config(target: Target) -> LayeredConfig:
    return load_config(user_config_path(), overrides=target.config_overrides)


def _transaction(
    target: Target,
    *,
    prerelease: bool = False,
    upgrade: bool = False,
    dry_run: bool = False,
    allow_downgrade: bool = False,
    allow_unsigned: bool = False,
    allow_vulnerable: Sequence[str] = (),
    progress: Callable[[str], Progress | None] | None = None,
) -> Transaction:
    from anya_plugins.audit.settings import load_audit_settings
    from anya_plugins.install.gatecheck import vulnerability_check
    from anya_plugins.install.trustcheck import trust_check
    from anya_plugins.trust.policy import load_trust_policy

    source = target.source_name
    config = _config(target)
    settings = load_sources(config)
    policy = load_trust_policy(config)
    audit = load_audit_settings(config)
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
    return Transaction(
        env=env,
        settings=settings,
        options=options,
        file_checks=[
            check_extension_contract,
            trust_check(policy, allow_unsigned=allow_unsigned, decisions=decisions),
        ],
        set_checks=[
            vulnerability_check(audit, env, allow=allow_vulnerable, decisions=[], notes=notes)
        ],
        progress=progress,
        trust_decisions=decisions,
        notes=notes,
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
    extension_config: Sequence[str] = (),
    progress: Callable[[str], Progress | None] | None = None,
) -> InstallResult:
    """Resolve, download, verify and install; then store ``extension_config`` values."""
    if not typed:
        raise UsageError("name at least one extension to install")
    transaction = _transaction(
        target,
        prerelease=prerelease,
        upgrade=upgrade,
        dry_run=dry_run,
        allow_downgrade=allow_downgrade,
        allow_unsigned=allow_unsigned,
        allow_vulnerable=allow_vulnerable,
        progress=progress,
    )
    result = _audited(transaction, target, "install", typed, lambda: transaction.install(typed))
    if extension_config and not dry_run:
        _store_extension_config(typed, extension_config)
    return result


def _audited(
    transaction: Transaction,
    target: Target,
    action: Action,
    requested: Sequence[str],
    run: Callable[[], InstallResult],
) -> InstallResult:
    """Run a transaction with its outcome — or its refusal — in the audit log."""
    from anya_plugins.install.auditing import audit_log, record_changes, refusals_recorded

    log = audit_log(_config(target))
    source = transaction.options.source
    with refusals_recorded(log, action, requested, source):
        result = run()
    record_changes(log, action, result, source, transaction.trust_decisions)
    return result


def _store_extension_config(typed: Sequence[str], values: Sequence[str]) -> None:
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
        set_value(user_config_path(), key, raw)


@dataclass(frozen=True)
class UninstallResult:
    removed: tuple[str, ...]


def uninstall_extensions(names: Sequence[str], target: Target = Target()) -> UninstallResult:
    """Remove extensions under the journal; their receipts go with them."""
    env = TargetEnvironment.of(target.python)
    journal.rollback(env)
    installed = env.installed()
    dists = [distribution_name(name) for name in names]
    missing = [name for name in dists if name not in installed]
    if missing:
        from anya_plugins.errors import ExtensionNotFound

        raise ExtensionNotFound(f"not installed: {', '.join(missing)}")
    journal.begin(env, [installed[name] for name in dists])
    try:
        default_installer().uninstall(env, dists)
    except BaseException:
        journal.rollback(env)
        raise
    journal.commit(env)
    from anya_plugins.install.auditing import audit_log

    log = audit_log(_config(target))
    for name in dists:
        remove_receipt(env, name)
        log.record("uninstall", extension=name, version=installed[name].version)
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
    progress: Callable[[str], Progress | None] | None = None,
) -> InstallResult:
    """Upgrade the named extensions (or all installed ones) within their features."""
    env = TargetEnvironment.of(target.python)
    if everything == bool(names):
        raise UsageError("name extensions to update, or pass --all (not both)")
    chosen = (
        sorted(installed_extensions(env)) if everything else [distribution_name(n) for n in names]
    )
    receipts = read_receipts(env)
    typed = [
        f"{name}[{','.join(receipts[name].features)}]"
        if name in receipts and receipts[name].features
        else name
        for name in chosen
    ]
    if not typed:
        raise UsageError("no extensions are installed")
    transaction = _transaction(
        target, prerelease=prerelease, upgrade=True, dry_run=dry_run, progress=progress
    )
    return _audited(transaction, target, "update", typed, lambda: transaction.install(typed))


@dataclass(frozen=True)
class Outdated:
    name: str
    installed: str
    latest: str


def outdated_extensions(target: Target = Target()) -> list[Outdated]:
    """Installed extensions whose index has a newer (final) release."""
    from anya_plugins.sources.errors import ProjectNotFound
    from anya_plugins.sources.simple import SimpleIndex

    env = TargetEnvironment.of(target.python)
    index = SimpleIndex.from_settings(load_sources(_config(target)), target.source_name)
    rows = []
    for name, version in sorted(installed_extensions(env).items()):
        try:
            page = index.project_page(name, refresh=True)
        except ProjectNotFound:
            continue
        versions = [v for v in (link.version for link in page.files) if v and not v.is_prerelease]
        if versions and max(versions) > _version(version):
            rows.append(Outdated(name, version, str(max(versions))))
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


def write_lock(path: Path, target: Target = Target()) -> LockFile:
    """Record every distribution Anya installed here (versions, sources, hashes)."""
    env = TargetEnvironment.of(target.python)
    entries = tuple(
        LockedFile(r.name, r.version, r.filename, r.sha256, r.source, r.features, r.requested)
        for r in sorted(read_receipts(env).values(), key=lambda r: r.name)
    )
    document = {"lock-version": LOCK_FORMAT, "packages": [asdict(e) for e in entries]}
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    temporary.replace(path)
    return LockFile(path, entries)


def read_lock(path: Path) -> tuple[LockedFile, ...]:
    try:
        document = json.loads(path.read_text())
        if document.get("lock-version") != LOCK_FORMAT:
            raise LockError(f"{path}: unsupported lock-version {document.get('lock-version')!r}")
        return tuple(
            LockedFile(**{**entry, "features": tuple(entry.get("features", ()))})
            for entry in document["packages"]
        )
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise LockError(f"{path} is not a readable Anya lock file: {error}") from error


def sync_lock(
    path: Path,
    target: Target = Target(),
    *,
    dry_run: bool = False,
    progress: Callable[[str], Progress | None] | None = None,
) -> InstallResult:
    """Install exactly the locked files; sources come from the lock, per entry."""
    entries = read_lock(path)
    by_source: dict[str, list[LockedFile]] = {}
    for entry in entries:
        by_source.setdefault(entry.source, []).append(entry)
    results = []
    for source, group in sorted(by_source.items()):
        per_source = Target(target.python, "primary", None, target.config_overrides)
        transaction = _transaction(per_source, dry_run=dry_run, progress=progress)
        transaction.options = InstallOptions(
            source=source, dry_run=dry_run, allow_downgrade=True,
            private_source=source.startswith("enterprise."),
        )  # fmt: skip
        requested = [f"{entry.name}=={entry.version}" for entry in group]
        results.append(
            _audited(transaction, target, "install", requested, partial(transaction.sync, group))
        )
    if not results:
        raise LockError(f"{path} locks nothing")
    first = results[0]
    return InstallResult(
        requested=tuple(r for result in results for r in result.requested),
        changes=tuple(c for result in results for c in result.changes),
        index_url=first.index_url,
        resolver="lock",
        installer=first.installer,
        dry_run=dry_run,
        recovered=first.recovered,
    )


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
    of the wheel each came from against the trust policy."""
    from anya_plugins.errors import ExtensionNotFound
    from anya_plugins.trust.errors import TrustError
    from anya_plugins.trust.installed import verify_installed
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


@dataclass(frozen=True)
class AuditReport:
    """``anya-ext audit``: what the advisories say about the installed environment."""

    advisories: str
    packages: int
    findings: tuple[Any, ...]
    refused: tuple[str, ...]
    ok: bool


def audit_environment(target: Target = Target(), *, update: bool = False) -> AuditReport:
    """Check every installed distribution against the advisory database (fetched first
    with ``update``); ``ok`` is False when the gate would refuse any of them."""
    from anya_plugins.audit.errors import AdvisoryDatabaseError
    from anya_plugins.audit.offline import OfflineOsvService
    from anya_plugins.audit.settings import load_audit_settings
    from anya_plugins.audit.update import update_advisories
    from anya_plugins.audit.vulnerabilities import gate, installed_packages, scan

    settings = load_audit_settings(_config(target))
    if update:
        update_advisories(settings.advisories)
    if not settings.advisories.exists():
        raise AdvisoryDatabaseError(
            str(settings.advisories), "no advisory database here; run 'anya-ext audit --update'"
        )
    env = TargetEnvironment.of(target.python)
    packages = installed_packages(env.installed().values())
    report = scan(packages, OfflineOsvService(settings.advisories))
    decision = gate(report.findings, settings.policy)
    return AuditReport(
        advisories=str(settings.advisories),
        packages=len(packages),
        findings=tuple(report.findings),
        refused=decision.reasons() if not decision.allowed else (),
        ok=decision.allowed,
    )


def environment_sbom(target: Target = Target(), *, with_vulnerabilities: bool = True) -> str:
    """A CycloneDX SBOM (JSON) of the installed environment."""
    from anya_plugins.audit.offline import OfflineOsvService
    from anya_plugins.audit.sbom import sbom_json
    from anya_plugins.audit.settings import load_audit_settings
    from anya_plugins.audit.vulnerabilities import installed_packages, scan

    env = TargetEnvironment.of(target.python)
    packages = installed_packages(env.installed().values())
    findings: tuple[Any, ...] = ()
    advisories = load_audit_settings(_config(target)).advisories
    if with_vulnerabilities and advisories.exists():
        findings = tuple(scan(packages, OfflineOsvService(advisories)).findings)
    return sbom_json(packages, findings)


def verify_audit_log(target: Target = Target(), *, expected_head: str | None = None) -> Any:
    """Check the audit log's hash chain (LogReport: entries, head, problems by line)."""
    from anya_plugins.audit.log import verify_log
    from anya_plugins.audit.settings import load_audit_settings

    return verify_log(load_audit_settings(_config(target)).log, expected_head=expected_head)
