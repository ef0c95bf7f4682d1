"""The vulnerability scanner and the audit trail, with the settings of a configuration."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from anya_plugins.api.configuration import Configuration

if TYPE_CHECKING:
    from importlib.metadata import Distribution

    from anya_plugins.audit.environment import AuditReport
    from anya_plugins.audit.log import LogReport
    from anya_plugins.audit.settings import AuditSettings
    from anya_plugins.audit.update import AdvisoryUpdate
    from anya_plugins.audit.vulnerabilities import AdvisoryService, GateDecision, ScanReport


@dataclass(frozen=True)
class EnvironmentAudit:
    """An environment's audit, and the advisory update that preceded it (if asked for)."""

    report: AuditReport
    update: AdvisoryUpdate | None = None


class VulnerabilityScanner:
    """Known vulnerabilities of packages, from an advisory service: by default the offline
    OSV database the configuration names (``audit.advisories``), refreshed with
    :meth:`update_database`; the gate's thresholds come from ``[audit]``."""

    def __init__(
        self, configuration: Configuration, *, service: AdvisoryService | None = None
    ) -> None:
        self.configuration = configuration
        self._service = service

    @property
    def settings(self) -> AuditSettings:
        from anya_plugins.audit.settings import load_audit_settings

        return load_audit_settings(self.configuration.layered(), environ=self.configuration.environ)

    def scan(self, packages: Iterable[tuple[str, str]]) -> ScanReport:
        """Findings for ``(name, version)`` pairs; aliases of one vulnerability are merged."""
        from anya_plugins.audit.vulnerabilities import resolved_packages, scan

        return scan(resolved_packages(packages), self._advisories())

    def gate(self, report: ScanReport, *, allow: Iterable[str] = ()) -> GateDecision:
        """Whether the install gate would let the scanned set in (``allow``: advisory ids or
        aliases accepted this once)."""
        from anya_plugins.audit.vulnerabilities import gate

        return gate(report.findings, self.settings.policy, allow=tuple(allow))

    def audit(
        self,
        python: Path | None = None,
        *,
        update: bool = False,
        from_file: Path | None = None,
        allow_old: bool = False,
    ) -> EnvironmentAudit:
        """Every distribution installed for ``python`` (None: this interpreter) against the
        database, refreshed first when ``update`` (from ``from_file``, a copy of OSV's
        PyPI ``all.zip``, when given)."""
        from anya_plugins.audit.environment import audit_distributions
        from anya_plugins.audit.update import refresh_advisories
        from anya_plugins.errors import UsageError

        if (from_file is not None or allow_old) and not update:
            raise UsageError("from_file and allow_old go with update (--from, --allow-old)")
        settings = self.settings
        refreshed = (
            refresh_advisories(settings, from_file=from_file, allow_old=allow_old)
            if update
            else None
        )
        report = audit_distributions(_distributions(python), settings)
        return EnvironmentAudit(report, refreshed)

    def update_database(
        self, *, from_file: Path | None = None, allow_old: bool = False
    ) -> AdvisoryUpdate:
        """Download OSV's PyPI advisories (or import ``from_file``) into ``audit.advisories``."""
        from anya_plugins.audit.update import refresh_advisories

        return refresh_advisories(self.settings, from_file=from_file, allow_old=allow_old)

    def sbom(self, python: Path | None = None, *, with_vulnerabilities: bool = True) -> str:
        """A CycloneDX SBOM (JSON text) of the environment of ``python``."""
        from anya_plugins.audit.environment import distributions_sbom

        return distributions_sbom(
            _distributions(python), self.settings, with_vulnerabilities=with_vulnerabilities
        )

    def _advisories(self) -> AdvisoryService:
        if self._service is not None:
            return self._service
        from anya_plugins.audit.errors import AdvisoryDatabaseError
        from anya_plugins.audit.offline import OfflineOsvService

        advisories = self.settings.advisories
        if not advisories.exists():
            raise AdvisoryDatabaseError(
                str(advisories), "no advisory database here; run 'anya-ext audit --update'"
            )
        return OfflineOsvService(advisories)


class AuditTrail:
    """The tamper-evident audit log the configuration names (``audit.log``)."""

    def __init__(self, configuration: Configuration) -> None:
        self.configuration = configuration

    def verify(self, python: Path | None = None, *, expected_head: str | None = None) -> LogReport:
        """Check the hash chain entry by entry, and its head against the anchors kept in the
        user's data directory and in the environment of ``python``."""
        from anya_plugins.audit.environment import verify_audit_log
        from anya_plugins.audit.settings import load_audit_settings
        from anya_plugins.install.auditing import log_anchors
        from anya_plugins.install.environment import TargetEnvironment

        settings = load_audit_settings(
            self.configuration.layered(), environ=self.configuration.environ
        )
        anchors = log_anchors(TargetEnvironment.of(python))
        return verify_audit_log(settings, anchors=anchors, expected_head=expected_head)


def _distributions(python: Path | None) -> Iterable[Distribution]:
    from anya_plugins.install.environment import TargetEnvironment

    return TargetEnvironment.of(python).installed().values()
