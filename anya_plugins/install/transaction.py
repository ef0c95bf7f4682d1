"""One install transaction: resolve -> download -> verify everything -> install -> receipts.

Nothing touches the environment until every file of the resolved set is downloaded
and has passed every check; the install step itself runs under the journal, so a
failure — or a killed process, found by the next run — leaves the environment as
it was.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from packaging.utils import canonicalize_name
from packaging.version import Version

from anya_plugins.errors import AnyaError
from anya_plugins.install import journal
from anya_plugins.install.environment import TargetEnvironment
from anya_plugins.install.features_check import check_requested_features
from anya_plugins.install.installer import Installer, VerifiedFile, default_installer
from anya_plugins.install.journal import Recovery
from anya_plugins.install.receipts import (
    Receipt,
    read_receipts,
    write_all_fingerprints,
    write_receipt,
)
from anya_plugins.install.resolver import (
    Pin,
    Resolution,
    Resolver,
    ResolveRequest,
    default_resolver,
)
from anya_plugins.install.scratch import scratch_dir
from anya_plugins.install.specs import RequestedExtension, parse_spec, requirement_text
from anya_plugins.metadata.taxonomy import DIST_NAME_PREFIX
from anya_plugins.sources import pages_ahead
from anya_plugins.sources.download import Progress, download
from anya_plugins.sources.download_receipt import receipt_from
from anya_plugins.sources.settings import SourcesSettings
from anya_plugins.sources.simple import FileLink, ProjectPage, SimpleIndex
from anya_plugins.sources.snapshot import CheckedPages

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from importlib.metadata import Distribution

    from anya_plugins.install.resolution_memo import ResolutionMemo
    from anya_plugins.trust.verification import TrustDecision


class InstallRefused(AnyaError):
    """A check refused the resolved set; nothing was installed."""

    exit_code = 11


class DowngradeRefused(InstallRefused):
    pass


class DependencyConfusion(InstallRefused):
    pass


@dataclass(frozen=True)
class InstallOptions:
    """How to install: where from, which versions are acceptable, whether to change anything."""

    source: str = "primary"
    prerelease: bool = False
    upgrade: bool = False
    dry_run: bool = False
    allow_downgrade: bool = False
    private_source: bool = False


@dataclass(frozen=True)
class Candidate:
    """A downloaded file about to be checked: what it is, where it came from."""

    pin: Pin
    link: FileLink
    path: Path
    source: str
    index_url: str
    installed_version: str | None
    provenance: bytes | None = None
    """The PEP 740 provenance object the index serves for the file, if any."""
    download_receipt: str | None = None
    """The registry's receipt for this download by the signed-in source user, if it gave one
    (:mod:`anya_plugins.sources.download_receipt`); kept in the install receipt."""


_Fetching = tuple[Pin, FileLink, str, Future[Path], Future[bytes | None]]
"""A file of the resolution being fetched: its pin, link, index URL, file and provenance."""

FileCheck = Callable[[Candidate], None]
"""Raises an AnyaError to refuse the file; called for every file before anything installs."""


@runtime_checkable
class CheckAhead(Protocol):
    """A file check that can also do its work ahead of time: :meth:`prepare` runs in the
    background as soon as a file is downloaded, and raises nothing (the check itself raises,
    in order)."""

    def __call__(self, candidate: Candidate) -> None: ...

    def prepare(self, candidate: Candidate) -> None: ...


@runtime_checkable
class RemembersProvenance(Protocol):
    """A file check that keeps the provenance it verified a file with: the transaction takes
    it from there instead of asking the index again."""

    def remembered_provenance(
        self, project: str, version: str, filename: str, sha256: str, source: str
    ) -> bytes | None: ...


SetCheck = Callable[[Sequence[Candidate]], None]
"""Raises to refuse the whole resolved set (e.g. the vulnerability gate)."""


@dataclass(frozen=True)
class LockedFile:
    """One entry of a lock file: exactly which file to install."""

    name: str
    version: str
    filename: str
    sha256: str
    source: str
    features: tuple[str, ...] = ()
    requested: bool = False
    index_url: str = ""
    url: str = ""
    signer: str | None = None
    """The identity whose signature was verified when it was installed, if any."""
    issuer: str | None = None
    """The OIDC issuer that vouched for :attr:`signer`."""


@dataclass(frozen=True)
class Change:
    name: str
    old_version: str | None
    new_version: str
    filename: str
    sha256: str
    url: str


@dataclass(frozen=True)
class InstallResult:
    requested: tuple[str, ...]
    changes: tuple[Change, ...]
    index_url: str
    resolver: str
    installer: str
    dry_run: bool
    recovered: Recovery | None = None
    notes: tuple[str, ...] = field(default=())
    trust: tuple[TrustDecision, ...] = ()
    """Who signed each file let in, or why it needed no signature."""


@dataclass
class Transaction:
    """The moving parts of one install, each swappable (resolver, installer, checks)."""

    env: TargetEnvironment
    settings: SourcesSettings
    options: InstallOptions
    resolver: Resolver = field(default_factory=default_resolver)
    installer: Installer = field(default_factory=default_installer)
    file_checks: list[FileCheck] = field(default_factory=list)
    set_checks: list[SetCheck] = field(default_factory=list)
    progress: Callable[[str], Progress | None] | None = None
    trust_decisions: list[Any] = field(default_factory=list)
    """Filled by the trust check: who signed each file (for receipts and the audit log)."""
    notes: list[str] = field(default_factory=list)
    """Filled by checks: lines for the summary (such as which advisories the gate used)."""
    memo: ResolutionMemo | None = None
    """Where plans are remembered, to be used again while their pages are unchanged."""
    _installed: dict[str, tuple[Distribution, str]] | None = field(
        default=None, init=False, repr=False
    )

    def install(self, typed: Sequence[str]) -> InstallResult:
        """Install the typed specs (``name``, ``name@^1.2``, ``name[feature]``...)."""
        specs = [parse_spec(text) for text in typed]
        index = SimpleIndex.from_settings(self.settings, self.options.source)
        with (
            journal.exclusive(self.env) as recovered,
            scratch_dir("download") as scratch,
            CheckedPages(
                index,
                scratch,
                on_fetched=self.check_ahead,
                remembered_provenance=self.kept_provenance,
            ) as pages,
        ):
            for spec in specs:
                # Our own client first: an unreachable index, an unknown name or a rolled-back
                # mirror is said plainly before the resolver runs.
                pages.page(spec.name)
            resolution, candidates = self._plan_and_download(pages, specs)
            check_requested_features(self.env, specs, {c.pin.name: c.path for c in candidates})
            specs, candidates, resolution = self._with_default_features(
                pages, specs, candidates, resolution
            )
            with _timed("verify", f"{len(candidates)} file(s)"):
                self._check(candidates)
            changes = tuple(_change(candidate) for candidate in candidates)
            if self.options.dry_run or not candidates:
                self._raise_marks(index, candidates)
            else:
                before = read_receipts(self.env, self._installed_versions())
                receipts = self._receipts_of(candidates, specs, before)
                with (
                    _timed("install", f"with {self.installer.name}"),
                    self._install_step(
                        candidates, receipts, meanwhile=lambda: self._raise_marks(index, candidates)
                    ),
                ):
                    write_all_fingerprints(self.env, [c.pin.name for c in candidates])
                    self._pin_first_signers(candidates)
            if not self.options.dry_run:
                self._record_features(specs, candidates)
            index_url = _index_base(pages.page(specs[0].name))
            pages_ahead.remember(
                self.settings.cache.dir, index.mirrors.primary, typed, pages.page_names()
            )
        return InstallResult(
            requested=tuple(typed),
            changes=changes,
            index_url=index_url,
            resolver=resolution.tool,
            installer=self.installer.name,
            dry_run=self.options.dry_run,
            recovered=recovered,
            notes=tuple(self.notes),
        )

    def sync(
        self,
        locked: Sequence[LockedFile],
        *,
        unlocked: Sequence[str] = (),
        exact: bool = False,
    ) -> InstallResult:
        """Install exactly these files (by name, version and hash, each from its own source),
        without resolving. ``unlocked`` names distributions the set needs that have no source
        (they must be installed already). With ``exact``, whatever else is installed is
        removed, except the installer tooling and what it requires. The result is refused —
        before anything changes, and checked again before the step commits — when a
        requirement of the set would be unmet."""
        from anya_plugins.install.closure import (
            marker_environment,
            not_in_closure,
            refuse_unmet,
            requirement_closure,
            wheel_distribution,
        )
        from anya_plugins.install.receipts import read_receipts, remove_receipt

        indexes: dict[str, SimpleIndex] = {}
        markers = marker_environment(self.env)
        roots = [(entry.name, entry.features) for entry in locked]
        roots += [(name, ()) for name in unlocked]
        with (
            journal.exclusive(self.env) as recovered,
            scratch_dir("download") as scratch,
        ):
            installed = self.env.installed()
            receipts = read_receipts(self.env)
            wanted = [
                entry
                for entry in locked
                if entry.name not in installed
                or installed[entry.name].version != entry.version
                or entry.name not in receipts
                or receipts[entry.name].sha256 != entry.sha256
            ]
            removing = not_in_closure(installed, roots, markers) if exact else []
            removed = tuple(
                f"{'would remove' if self.options.dry_run else 'removed'} {name} "
                f"{installed[name].version} (not in the lock)"
                for name in removing
            )
            candidates = [
                self._fetch_locked(self._index_of(indexes, entry), entry, scratch)
                for entry in wanted
            ]
            self._check(candidates)
            _refuse_another_signer(wanted, self.trust_decisions)
            result = {name: dist for name, dist in installed.items() if name not in removing}
            result.update({c.pin.name: wheel_distribution(c.path) for c in candidates})
            refuse_unmet(
                requirement_closure(roots, result, markers), "the locked set", hint=_RELOCK
            )
            for source, index in indexes.items():
                self._raise_marks(index, [c for c in candidates if c.source == source])
            if not self.options.dry_run and (candidates or removing):
                with self._sync_step(candidates, removing):
                    for candidate, entry in zip(candidates, wanted, strict=True):
                        receipt = self._receipt(candidate, entry.features, entry.requested)
                        write_receipt(self.env, receipt)
                    write_all_fingerprints(self.env, [c.pin.name for c in candidates])
                    for name in removing:
                        remove_receipt(self.env, name)
                    now = self.env.installed()
                    refuse_unmet(
                        requirement_closure(roots, now, markers), "the synced set", hint=_RELOCK
                    )
                    self._pin_first_signers(candidates)
        return InstallResult(
            requested=tuple(f"{entry.name}=={entry.version}" for entry in locked),
            changes=tuple(_change(candidate) for candidate in candidates),
            index_url=", ".join(index.mirrors.primary for index in indexes.values()) or "-",
            resolver="lock",
            installer=self.installer.name,
            dry_run=self.options.dry_run,
            recovered=recovered,
            notes=(*self.notes, *removed),
        )

    def _index_of(self, indexes: dict[str, SimpleIndex], entry: LockedFile) -> SimpleIndex:
        if entry.source not in indexes:
            indexes[entry.source] = SimpleIndex.from_settings(self.settings, entry.source)
        return indexes[entry.source]

    @contextmanager
    def _sync_step(
        self, candidates: Sequence[Candidate], removing: Sequence[str]
    ) -> Iterator[None]:
        """Install the verified files and remove ``removing`` in one journaled step; the
        block (receipts, the last check) is part of it."""
        installed = self.env.installed()
        touched = [installed[c.pin.name] for c in candidates if c.pin.name in installed]
        touched += [installed[name] for name in removing]
        with journal.step(self.env, touched, installing=[c.path for c in candidates]):
            if candidates:
                self.installer.install(
                    self.env,
                    [
                        VerifiedFile(c.pin.name, c.pin.version, c.path, str(c.link.sha256))
                        for c in candidates
                    ],
                )
            if removing:
                self.installer.uninstall(self.env, removing)
            yield

    def _fetch_locked(self, index: SimpleIndex, entry: LockedFile, scratch: Path) -> Candidate:
        page = index.project_page(entry.name)
        link = next((link for link in page.files if link.filename == entry.filename), None)
        if link is None:
            raise InstallRefused(
                f"{entry.filename} (locked) is not on the index {index.mirrors.primary} "
                f"(source {entry.source})"
            )
        receipts: list[str] = []
        path = download(
            link,
            scratch,
            expected_sha256=entry.sha256,
            mirrors=index.mirrors,
            cache=index.cache,
            progress=self.progress(link.filename) if self.progress else None,
            on_headers=lambda headers: receipts.extend(
                filter(None, [receipt_from(headers, link.filename, entry.sha256)])
            ),
        )
        pin = Pin(entry.name, entry.version)
        installed = self._installed_versions().get(entry.name)
        provenance = self.kept_provenance(entry.name, link, entry.source)
        return Candidate(
            pin,
            link,
            path,
            entry.source,
            index.mirrors.primary,
            installed,
            index.fetch_provenance(link) if provenance is None else provenance,
            receipts[0] if receipts else None,
        )

    def check_ahead(
        self, project: str, link: FileLink, path: Path, provenance: bytes | None
    ) -> None:
        """A file the resolver is likely to pick is here: let the checks that can work ahead
        (verifying its signature) start, so that :meth:`_check` finds their work done."""
        if link.version is None:
            return
        pin = Pin(project, str(link.version))
        candidate = Candidate(pin, link, path, self.options.source, "", None, provenance)
        for check in self.file_checks:
            if isinstance(check, CheckAhead):
                check.prepare(candidate)

    def kept_provenance(
        self, project: str, link: FileLink, source: str | None = None
    ) -> bytes | None:
        """The provenance a check kept when it verified this very file (from ``source``,
        by default the transaction's) before, if any."""
        if link.version is None or link.sha256 is None:
            return None
        for check in self.file_checks:
            if isinstance(check, RemembersProvenance):
                document = check.remembered_provenance(
                    project,
                    str(link.version),
                    link.filename,
                    link.sha256,
                    source or self.options.source,
                )
                if document is not None:
                    log.info("%s: provenance as verified before (not fetched again)", link.filename)
                    return document
        return None

    def _installed_versions(self) -> dict[str, str]:
        """What was installed when the transaction first asked (it holds the environment's
        lock): read once per transaction, as it reads every METADATA."""
        return {name: version for name, (_dist, version) in self._inventory().items()}

    def _inventory(self) -> dict[str, tuple[Distribution, str]]:
        if self._installed is None:
            self._installed = self.env.inventory()
        return self._installed

    def _plan_and_download(
        self,
        pages: CheckedPages,
        specs: Sequence[RequestedExtension],
        known: Sequence[Candidate] = (),
    ) -> tuple[Resolution, list[Candidate]]:
        """The resolution and its files, downloaded and hash-checked. A plan remembered for
        this very request has its files fetched while its pages are fetched again, and is
        taken only once every page reads as it did (else, or if a changed page made its
        files unfit, the resolver runs); nothing is checked before that. ``known``: files
        already downloaded (by pin), not fetched again."""
        request = ResolveRequest(
            requirements=tuple(requirement_text(spec) for spec in specs),
            index_url=pages.url,
            python=self.env.python,
            prerelease=self.options.prerelease,
            upgrade=self.options.upgrade,
        )
        key = self._memo_key(request)
        kept = None
        if self.memo is not None and key is not None:
            kept = self.memo.recall(key, pages, self.resolver.name)
        if self.memo is not None and kept is not None:
            with _timed("download", f"{len(kept.resolution.to_install)} file(s), plan as kept"):
                try:
                    candidates = self._download(pages, kept.resolution.to_install, known)
                except AnyaError:
                    if self.memo.holds(kept, pages):
                        raise  # the pages are as the plan saw them: a failure of its own
                else:
                    if self.memo.holds(kept, pages):
                        return kept.resolution, candidates
        resolution = self._resolve(pages, request)
        if self.memo is not None and key is not None:
            self.memo.keep(key, resolution, pages)
        with _timed("download", f"{len(resolution.to_install)} file(s)"):
            return resolution, self._download(pages, resolution.to_install, known)

    def _resolve(self, pages: CheckedPages, request: ResolveRequest) -> Resolution:
        """Resolve against the checked pages (and nothing else); a check that failed while
        the resolver read them is raised in place of the resolver's own complaint."""
        try:
            with _timed(
                "resolve",
                f"{len(request.requirements)} requirement(s) with {self.resolver.name}",
            ):
                resolution = self.resolver.resolve(request)
        except AnyaError as error:
            pages.raise_failure()
            source = pages.index.mirrors.primary
            error.message = error.message.replace(pages.url, source)
            error.args = (error.message,)
            raise
        pages.raise_failure()
        return resolution

    def _memo_key(self, request: ResolveRequest) -> str | None:
        """The name of this request's plan among the remembered ones; None when plans are
        not remembered (no memo, a resolver that says it must run, an interpreter that
        cannot be looked at)."""
        if self.memo is None:
            return None
        identity = self.resolver.identity()
        if identity is None:
            return None
        try:
            return self.memo.key(request, identity, self.env.tags, self._installed_versions())
        except OSError:
            return None

    def _download(
        self,
        pages: CheckedPages,
        pins: Sequence[Pin],
        known: Sequence[Candidate] = (),
    ) -> list[Candidate]:
        installed = self._installed_versions()
        already = {candidate.pin: candidate for candidate in known}
        started: list[Candidate | _Fetching] = []
        for pin in pins:
            if pin in already:
                started.append(already[pin])
                continue
            page = pages.page(pin.name)  # the very page the resolver saw
            index_url = _index_base(page)
            if self.options.private_source:
                _refuse_mixed_origins(page, index_url)
            if page.status in ("archived", "deprecated"):
                reason = f": {page.markers.status_reason}" if page.markers.status_reason else ""
                self.notes.append(f"{page.name} is {page.status} on its index{reason}")
            link = self._choose(page, pin)
            expected = link.sha256
            if expected is None:
                raise InstallRefused(
                    f"the index gives no sha256 for {link.filename}",
                    hint="Anya installs only files whose hash the index states",
                )
            report = self.progress(link.filename) if self.progress else None
            # Every file and provenance is fetched at once (most are under way already:
            # the resolver read their metadata); each is waited for below, in order.
            fetching = (
                pin,
                link,
                index_url,
                pages.file(link, report),
                pages.provenance(page.name, link),
            )
            started.append(fetching)
        candidates = []
        for item in started:
            if isinstance(item, Candidate):
                candidates.append(item)
                continue
            pin, link, index_url, path, provenance = item
            candidates.append(
                Candidate(
                    pin,
                    link,
                    path.result(),
                    self.options.source,
                    index_url,
                    installed.get(pin.name),
                    provenance.result(),
                    pages.download_receipt(link),
                )
            )
        return candidates

    def _choose(self, page: ProjectPage, pin: Pin) -> FileLink:
        """The wheel of exactly this version that this interpreter ranks best."""
        wanted = Version(pin.version)
        priority = self.env.tag_priority
        fitting = [
            (min(priority.get(tag, len(priority)) for tag in link.wheel_tags), link.filename, link)
            for link in page.files
            if link.is_wheel and link.version == wanted
        ]
        fitting = [item for item in fitting if item[0] < len(priority)]
        if not fitting:
            raise InstallRefused(
                f"{pin.name} {pin.version}: no wheel on the index fits this interpreter "
                f"({self.env.tags[0] if self.env.tags else 'unknown'})",
                hint="Anya installs wheels only; ask the publisher for a wheel for this platform",
            )
        return min(fitting)[2]

    def _with_default_features(
        self,
        pages: CheckedPages,
        specs: list[RequestedExtension],
        candidates: list[Candidate],
        resolution: Resolution,
    ) -> tuple[list[RequestedExtension], list[Candidate], Resolution]:
        """A requested extension without features gets its default ones; a second resolve
        runs only when those features need anything (most switch on code, not packages)."""
        from anya_plugins.metadata.contract import read_wheel
        from anya_plugins.metadata.switched_on import closure

        by_name = {candidate.pin.name: candidate for candidate in candidates}
        widened = []
        needs_more = False
        for spec in specs:
            candidate = by_name.get(spec.name)
            if spec.features or candidate is None:
                widened.append(spec)
                continue
            contract = read_wheel(candidate.path)
            defaults = contract.default_features
            if not defaults:
                widened.append(spec)
                continue
            widened.append(RequestedExtension(spec.name, defaults, spec.specifier, spec.typed))
            switched_on = set(closure(contract.features, defaults))
            needs_more |= any(f.requires for f in contract.features if f.name in switched_on)
        if widened == specs or not needs_more:
            return widened, candidates, resolution
        resolution, downloaded = self._plan_and_download(pages, widened, candidates)
        return widened, downloaded, resolution

    def _check(self, candidates: Sequence[Candidate]) -> None:
        for candidate in candidates:
            if not self.options.allow_downgrade:
                _refuse_downgrade(candidate)
            for check in self.file_checks:
                check(candidate)
        for set_check in self.set_checks:
            set_check(candidates)

    def _raise_marks(self, index: SimpleIndex, candidates: Sequence[Candidate]) -> None:
        """Rollback protection learns only from releases downloaded and verified: a listing
        alone (a lying mirror's fake 99.0.0) raises no mark."""
        if index.marks is None:
            return
        index.marks.record_all(
            index.mirrors.primary, [(c.pin.name, c.pin.version) for c in candidates]
        )

    @contextmanager
    def _install_step(
        self,
        candidates: Sequence[Candidate],
        receipts: Sequence[Receipt],
        meanwhile: Callable[[], object] = lambda: None,
    ) -> Iterator[None]:
        """Install the verified files under the journal, ``receipts`` written and
        ``meanwhile`` done while the installer runs (a process of its own: waiting for it
        leaves the interpreter free); the block (the installed files' fingerprints) is part
        of the same all-or-nothing step.

        A receipt written before its version is installed is read by nobody (a receipt
        counts only while its version is the installed one), and a failed step removes it
        with everything else it wrote."""
        installed = self._inventory()  # as the transaction read it, under the same lock
        replacing = [installed[c.pin.name][0] for c in candidates if c.pin.name in installed]
        with journal.step(self.env, replacing, installing=[c.path for c in candidates]):
            self.installer.install(
                self.env,
                [
                    VerifiedFile(c.pin.name, c.pin.version, c.path, str(c.link.sha256))
                    for c in candidates
                ],
                meanwhile=lambda: (meanwhile(), [write_receipt(self.env, r) for r in receipts]),
            )
            yield

    def _pin_first_signers(self, candidates: Sequence[Candidate]) -> None:
        """Trust on first use, inside the journaled step: a distribution installed signed
        for the first time is pinned to its signer. A pin is never moved here (only
        ``anya-ext trust repin`` does that); a rolled-back step restores the pins as they
        were, so it pins nothing."""
        from anya_plugins.install.pinning import pin_store

        store = pin_store(self.env)
        pinned = store.pins()
        by_file = {decision.filename: decision for decision in self.trust_decisions}
        first: dict[str, tuple[str, str | None]] = {}
        for candidate in candidates:
            decision = by_file.get(candidate.link.filename)
            name = canonicalize_name(candidate.pin.name)
            if decision is not None and decision.identity is not None and name not in pinned:
                first.setdefault(name, (decision.identity, decision.issuer))
        if first:
            store.pin_all(first)

    def _receipts_of(
        self,
        candidates: Sequence[Candidate],
        specs: Sequence[RequestedExtension],
        before: Mapping[str, Receipt],
    ) -> list[Receipt]:
        """A receipt per installed file; a requested extension keeps the features it had
        (``before``: its earlier requirements are still installed) and gains the ones asked
        for now."""
        features = {spec.name: spec.features for spec in specs}
        receipts = []
        for candidate in candidates:
            name = candidate.pin.name
            old = before[name].features if name in before else ()
            wanted = _union(old, features.get(name, ()))
            receipts.append(self._receipt(candidate, wanted, name in features))
        return receipts

    def _record_features(
        self, specs: Sequence[RequestedExtension], candidates: Sequence[Candidate]
    ) -> None:
        """A requested extension that was already installed (nothing to download) still gets
        the features asked for now into its receipt: ``install x`` then ``install x[tor]``."""
        installed_now = {candidate.pin.name for candidate in candidates}
        # Only the receipts of what this transaction did not install are read: their
        # versions are the ones read before it.
        receipts = read_receipts(self.env, self._installed_versions())
        for spec in specs:
            receipt = receipts.get(spec.name)
            if receipt is None or spec.name in installed_now:
                continue
            features = _union(receipt.features, spec.features)
            if features != receipt.features or not receipt.requested:
                write_receipt(self.env, replace(receipt, features=features, requested=True))

    def _receipt(self, candidate: Candidate, features: tuple[str, ...], requested: bool) -> Receipt:
        decision = next(
            (d for d in self.trust_decisions if d.filename == candidate.link.filename), None
        )
        return Receipt(
            name=candidate.pin.name,
            version=candidate.pin.version,
            filename=candidate.link.filename,
            sha256=str(candidate.link.sha256),
            url=candidate.link.url,
            source=candidate.source,
            index_url=candidate.index_url,
            features=features,
            requested=requested,
            provenance=candidate.provenance.decode() if candidate.provenance else None,
            signer=decision.identity if decision is not None else None,
            issuer=decision.issuer if decision is not None else None,
            download_receipt=candidate.download_receipt,
        )


@contextmanager
def _timed(step: str, detail: str) -> Iterator[None]:
    """``-v``: how long each step of the transaction took."""
    started = time.monotonic()
    yield
    log.info("%s (%s): %.2f s", step, detail, time.monotonic() - started)


def check_extension_contract(candidate: Candidate) -> None:
    """An ``anya-ext-*`` wheel must satisfy the extension contract and fit the host."""
    if not candidate.pin.name.startswith(DIST_NAME_PREFIX):
        return
    from anya_plugins.metadata.contract import read_wheel
    from anya_plugins.metadata.hostapi import check_host_api

    contract = read_wheel(candidate.path)
    if str(canonicalize_name(contract.dist_name)) != candidate.pin.name:
        raise InstallRefused(
            f"{candidate.link.filename} says it is {contract.dist_name}, not {candidate.pin.name}"
        )
    fits = check_host_api(contract.host_api)
    if not fits.ok:
        raise InstallRefused(f"{candidate.pin.name} {candidate.pin.version}: {fits.reason}")


def _refuse_downgrade(candidate: Candidate) -> None:
    old = candidate.installed_version
    if old is not None and Version(candidate.pin.version) < Version(old):
        raise DowngradeRefused(
            f"{candidate.pin.name} would go from {old} down to {candidate.pin.version}",
            hint="pass --allow-downgrade if that is what you want",
        )


def _refuse_another_signer(locked: Sequence[LockedFile], decisions: Sequence[Any]) -> None:
    """A file locked as signed by someone must still verify as signed by them: the lock pins
    the signer as well as the bytes (a provenance swapped on the index is refused)."""
    from anya_plugins.trust.errors import VerificationFailed

    found = {decision.filename: (decision.identity, decision.issuer) for decision in decisions}
    for entry in locked:
        signer, issuer = found.get(entry.filename, (None, None))
        if entry.signer is not None and (
            signer != entry.signer or (entry.issuer is not None and issuer != entry.issuer)
        ):
            locked_as = f"{entry.signer} (issuer {entry.issuer or 'not locked'})"
            raise VerificationFailed(
                entry.filename,
                f"was locked as signed by {locked_as}, but verifies as "
                + (f"signed by {signer} (issuer {issuer})" if signer else "unsigned"),
                expected=[locked_as],
                found=signer,
                hint="nothing was changed; if the new signer is right, lock again where it "
                "was installed",
            )


_RELOCK = (
    "nothing was changed; write the lock again where the set works ('anya-ext lock'), "
    "or install what is missing first"
)


def _refuse_mixed_origins(page: ProjectPage, index_url: str) -> None:
    """On a private source, a name the private index holds must come from it alone: the
    same name also served from another index is what dependency confusion looks like,
    unless the page declares that index (PEP 708 ``alternate-locations`` or ``tracks``).

    A file's origin is its index (devpi's ``/<user>/<index>/+f/`` paths) or, on any other
    server, its host; a declared location's origin is worked out the same way."""
    own = _origin(index_url)
    declared = {own, *(_origin(url) for url in (*page.alternate_locations, *page.tracks))}
    origins = {_origin(link.url) for link in page.files}
    undeclared = sorted(origins - declared)
    if own in origins and undeclared:
        raise DependencyConfusion(
            f"{page.name} is served by more than one index ({', '.join(sorted(origins))}) and "
            f"the page does not declare {', '.join(undeclared)} (PEP 708); "
            "a private name must never be satisfied from a public index",
            hint="check the registry's private-index protection",
        )


def _origin(url: str) -> str:
    """``scheme://host[:port]`` plus, on devpi, the index path (before ``/+f/``/``/+simple``)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    path = parts.path
    for marker in ("/+f/", "/+simple"):
        if marker in path:
            return f"{parts.scheme}://{parts.netloc}{path.split(marker)[0]}"
    return f"{parts.scheme}://{parts.netloc}"


def _union(old: Sequence[str], new: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys([*old, *new]))


def _index_base(page: ProjectPage) -> str:
    """The index URL (of the mirror that served ``page``): the page URL less the project."""
    return page.used_url.removesuffix("/").removesuffix(page.name) or page.used_url


def _change(candidate: Candidate) -> Change:
    return Change(
        name=candidate.pin.name,
        old_version=candidate.installed_version,
        new_version=candidate.pin.version,
        filename=candidate.link.filename,
        sha256=str(candidate.link.sha256),
        url=candidate.link.url,
    )
