"""The resolver's view: what an install would put in place, without installing anything."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from anya_plugins.api.configuration import Configuration
from anya_plugins.api.installer import Installer, InstallOptions, PackageChange


class ResolutionStrategy(StrEnum):
    """Which versions the resolver prefers among those every requirement allows."""

    KEEP_INSTALLED = "keep-installed"
    """What is installed stays when it satisfies the requirements (the fewest changes)."""
    NEWEST = "newest"
    """The newest allowed version of everything requested, installed or not."""


@dataclass(frozen=True)
class Conflict:
    """Why the requirements cannot be satisfied together, in the resolver's own words."""

    message: str
    explanation: str


@dataclass(frozen=True)
class Resolution:
    """The set an install would change (each file downloaded and verified already), or the
    conflict that prevents it."""

    requested: tuple[str, ...]
    changes: tuple[PackageChange, ...]
    conflict: Conflict | None
    resolver: str | None

    @property
    def ok(self) -> bool:
        return self.conflict is None


class Resolver:
    """Resolves extension specs against one source for one environment.

    A resolution runs the whole install transaction as a dry run: the same resolver
    (``[install] tool``), the same checks (hashes, contract, signatures, advisories), and
    nothing changes. A conflict is returned as data; every other refusal is raised.
    """

    def __init__(
        self,
        configuration: Configuration,
        *,
        python: Path | None = None,
        source: str | None = None,
        strategy: ResolutionStrategy = ResolutionStrategy.KEEP_INSTALLED,
        prerelease: bool = False,
    ) -> None:
        self.installer = Installer(configuration, python=python)
        self.options = InstallOptions(
            source=source,
            prerelease=prerelease,
            upgrade=strategy is ResolutionStrategy.NEWEST,
            dry_run=True,
        )

    def resolve(self, specs: Sequence[str]) -> Resolution:
        """What installing ``specs`` would change, or the conflict between them."""
        from anya_plugins.install.resolver import ResolutionConflict

        try:
            report = self.installer.install(specs, self.options)
        except ResolutionConflict as conflict:
            message = conflict.message.split("\n\n", 1)[0]
            return Resolution(
                tuple(specs), (), Conflict(message, conflict.explanation.strip()), None
            )
        return Resolution(report.requested, report.changes, None, report.resolver)
