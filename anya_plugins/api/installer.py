"""The installer: install, uninstall, update, outdated, lock and sync, as typed calls.

Every call is one transaction of :mod:`anya_plugins.install.service` (resolve, download,
verify, install under the journal, receipts, audit log) with the settings of a
:class:`~anya_plugins.api.Configuration`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from anya_plugins.api.configuration import Configuration

if TYPE_CHECKING:
    from anya_plugins.install.journal import Recovery
    from anya_plugins.install.lockfile import UnlockedDistribution
    from anya_plugins.install.pinning import PinList, Repinned
    from anya_plugins.install.service import InstalledCheck, Target
    from anya_plugins.install.transaction import InstallResult, LockedFile
    from anya_plugins.sources.download import Progress
    from anya_plugins.trust.verification import TrustDecision

ProgressFactory = Callable[[str], "Progress | None"]
"""Called with each file name before it downloads; returns its progress display, or None."""


@dataclass(frozen=True)
class InstallOptions:
    """How to install: where from, which versions are acceptable, what may be let in."""

    source: str | None = None
    """``primary``, ``community`` or ``enterprise.<org>``; None: ``primary`` for an install,
    each extension's own source for an update."""
    prerelease: bool = False
    upgrade: bool = False
    """Take the newest allowed versions even of what is installed already."""
    dry_run: bool = False
    """Resolve, download and verify everything, then say what would change."""
    allow_downgrade: bool = False
    allow_unsigned: bool = False
    """Let unsigned files in where the trust policy permits it (recorded in the audit log)."""
    allow_vulnerable: tuple[str, ...] = ()
    """Advisory ids (or aliases) accepted for this install only (recorded)."""
    switch_source: bool = False
    """Replace what another (non-private) source installed."""
    extension_config: tuple[str, ...] = ()
    """``KEY=VALUE`` values stored in the configuration file after the install; a key
    without a section belongs to the (single) extension installed."""


@dataclass(frozen=True)
class Verification:
    """Who vouched for a file: the signer's identity and issuer, and how (``bundle``,
    ``attestation``, ``bundle+attestation``), or why no signature was needed
    (``unsigned-allowed``, ``unsigned-not-required``; identity and issuer None)."""

    how: str
    identity: str | None
    issuer: str | None

    @classmethod
    def of(cls, decision: TrustDecision) -> Verification:
        return cls(decision.how, decision.identity, decision.issuer)


@dataclass(frozen=True)
class PackageChange:
    """One distribution installed (or, in a dry run, that would be)."""

    name: str
    old_version: str | None
    """The version it replaced; None for a new install."""
    new_version: str
    filename: str
    sha256: str
    url: str
    source: str
    """The configured source it came from."""
    verification: Verification | None
    """Who signed it, or why no signature was needed (None only when no check ran)."""


@dataclass(frozen=True)
class InstallReport:
    """What an install, update or sync did, where, from where, verified by whom."""

    requested: tuple[str, ...]
    changes: tuple[PackageChange, ...]
    prefix: Path
    """The environment changed (``sys.prefix`` of :attr:`python`)."""
    python: Path
    index_url: str
    resolver: str
    """``uv``, ``pip`` or ``lock`` (sync installs the locked files without resolving)."""
    installer: str
    dry_run: bool
    recovered: Recovery | None = None
    """What rolling back an interrupted earlier install did, if one was found."""
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class UninstallReport:
    removed: tuple[str, ...]
    prefix: Path


@dataclass(frozen=True)
class OutdatedPackage:
    name: str
    installed: str
    latest: str
    source: str


@dataclass(frozen=True)
class LockReport:
    """The lock file written: every distribution locked, and those no source is known for."""

    path: Path
    entries: tuple[LockedFile, ...]
    unlocked: tuple[UnlockedDistribution, ...] = ()


class Installer:
    """Installs extensions into one Python environment with one configuration.

    ``python`` is the target interpreter (None: this one). ``progress`` shows downloads.
    Errors are :class:`~anya_plugins.AnyaError` subclasses; nothing changes when one is
    raised.
    """

    def __init__(
        self,
        configuration: Configuration,
        *,
        python: Path | None = None,
        progress: ProgressFactory | None = None,
    ) -> None:
        self.configuration = configuration
        self.python = python
        self.progress = progress

    def install(
        self, specs: Sequence[str], options: InstallOptions = InstallOptions()
    ) -> InstallReport:
        """Install ``specs``: ``name``, ``name@1.2.3``, ``name@^1.2``, ``name@~1.2``,
        ``name[feature]``."""
        from anya_plugins.install.service import install_extensions

        if options.extension_config and self.configuration.file is None:
            from anya_plugins.errors import UsageError

            raise UsageError(
                "extension_config needs a configuration file to store the values in",
                hint="build the Configuration with file=PATH",
            )
        result = install_extensions(
            specs,
            self._target(options.source),
            prerelease=options.prerelease,
            dry_run=options.dry_run,
            upgrade=options.upgrade,
            allow_downgrade=options.allow_downgrade,
            allow_unsigned=options.allow_unsigned,
            allow_vulnerable=options.allow_vulnerable,
            switch_source=options.switch_source,
            extension_config=options.extension_config,
            progress=self.progress,
        )
        return self._report(result, options.source)

    def uninstall(self, names: Sequence[str]) -> UninstallReport:
        """Remove extensions (and their receipts) under the journal."""
        from anya_plugins.install.service import uninstall_extensions

        target = self._target(None)
        removed = uninstall_extensions(names, target)
        return UninstallReport(removed.removed, self._prefix())

    def update(
        self,
        names: Sequence[str] = (),
        *,
        everything: bool = False,
        options: InstallOptions = InstallOptions(),
    ) -> InstallReport:
        """Upgrade the named extensions, or every installed one (``everything``), each from
        the source it was installed from unless ``options.source`` says otherwise."""
        from anya_plugins.install.service import update_extensions

        result = update_extensions(
            names,
            self._target(options.source),
            everything=everything,
            dry_run=options.dry_run,
            prerelease=options.prerelease,
            switch_source=options.switch_source,
            progress=self.progress,
        )
        return self._report(result, options.source)

    def outdated(self, *, source: str | None = None) -> tuple[OutdatedPackage, ...]:
        """Installed extensions with a newer final release on their source."""
        from anya_plugins.install.service import outdated_extensions

        return tuple(
            OutdatedPackage(row.name, row.installed, row.latest, row.source)
            for row in outdated_extensions(self._target(source))
        )

    def lock(self, path: Path, *, allow_unlocked: bool = False) -> LockReport:
        """Write a lock file of the installed extensions and everything they need."""
        from anya_plugins.install.service import write_lock

        lock = write_lock(path, self._target(None), allow_unlocked=allow_unlocked)
        return LockReport(lock.path, lock.entries, lock.unlocked)

    def sync(self, path: Path, *, dry_run: bool = False, exact: bool = False) -> InstallReport:
        """Install exactly what the lock file at ``path`` lists (``exact``: remove the rest)."""
        from anya_plugins.install.service import sync_lock

        result = sync_lock(
            path, self._target(None), dry_run=dry_run, exact=exact, progress=self.progress
        )
        return self._report(result, None)

    def verify_installed(
        self, names: Sequence[str] = (), *, everything: bool = False
    ) -> tuple[InstalledCheck, ...]:
        """Re-check installed extensions (or all, with ``everything``): every file against
        its RECORD, and the stored provenance of the wheel it came from against the policy."""
        from anya_plugins.install.service import verify_extensions

        return tuple(verify_extensions(names, self._target(None), everything=everything))

    def publisher_pins(self) -> PinList:
        """The publisher each installed extension is pinned to (trust on first use)."""
        from anya_plugins.install.pinning import publisher_pins

        return publisher_pins(self._target(None))

    def repin(self, name: str, identity: str, *, issuer: str | None = None) -> Repinned:
        """Pin an extension to another signer (recorded in the audit log); without
        ``issuer`` the pinned issuer is kept."""
        from anya_plugins.install.pinning import repin_publisher

        return repin_publisher(name, identity, self._target(None), issuer=issuer)

    def _target(self, source: str | None) -> Target:
        from anya_plugins.install.service import Target

        return Target(python=self.python, source=source, config=self.configuration.layered())

    def _prefix(self) -> Path:
        from anya_plugins.install.environment import TargetEnvironment

        return TargetEnvironment.of(self.python).prefix

    def _report(self, result: InstallResult, source: str | None) -> InstallReport:
        from anya_plugins.install.environment import TargetEnvironment

        env = TargetEnvironment.of(self.python)
        decisions = {decision.filename: decision for decision in result.trust}
        changes = []
        for change in result.changes:
            decision = decisions.get(change.filename)
            changes.append(
                PackageChange(
                    name=change.name,
                    old_version=change.old_version,
                    new_version=change.new_version,
                    filename=change.filename,
                    sha256=change.sha256,
                    url=change.url,
                    source=decision.source if decision else source or "primary",
                    verification=Verification.of(decision) if decision else None,
                )
            )
        return InstallReport(
            requested=result.requested,
            changes=tuple(changes),
            prefix=env.prefix,
            python=env.python,
            index_url=result.index_url,
            resolver=result.resolver,
            installer=result.installer,
            dry_run=result.dry_run,
            recovered=result.recovered,
            notes=result.notes,
        )
