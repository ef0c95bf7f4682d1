"""Auditing a set of installed distributions: advisories, SBOM, the audit log's chain.

The caller says which distributions (``TargetEnvironment.installed().values()``, or
``importlib.metadata.distributions(path=...)``): nothing here knows how they were installed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib.metadata import Distribution
from pathlib import Path

from anya_plugins.audit.errors import AdvisoryDatabaseError
from anya_plugins.audit.log import LogReport
from anya_plugins.audit.settings import AuditSettings
from anya_plugins.audit.vulnerabilities import Finding


@dataclass(frozen=True)
class AuditReport:
    """``anya-ext audit``: what the advisories say about the installed environment."""

    advisories: str
    packages: int
    findings: tuple[Finding, ...]
    refused: tuple[str, ...]
    ok: bool


def audit_distributions(
    distributions: Iterable[Distribution], settings: AuditSettings, *, update: bool = False
) -> AuditReport:
    """Check every distribution against the advisory database (fetched first with
    ``update``); ``ok`` is False when the gate would refuse any of them."""
    from anya_plugins.audit.offline import OfflineOsvService
    from anya_plugins.audit.update import update_advisories
    from anya_plugins.audit.vulnerabilities import gate, installed_packages, scan

    if update:
        update_advisories(settings.advisories)
    if not settings.advisories.exists():
        raise AdvisoryDatabaseError(
            str(settings.advisories), "no advisory database here; run 'anya-ext audit --update'"
        )
    packages = installed_packages(distributions)
    report = scan(packages, OfflineOsvService(settings.advisories))
    decision = gate(report.findings, settings.policy)
    return AuditReport(
        advisories=str(settings.advisories),
        packages=len(packages),
        findings=tuple(report.findings),
        refused=decision.reasons() if not decision.allowed else (),
        ok=decision.allowed,
    )


def distributions_sbom(
    distributions: Iterable[Distribution],
    settings: AuditSettings,
    *,
    with_vulnerabilities: bool = True,
) -> str:
    """A CycloneDX SBOM (JSON) of the distributions, with their known vulnerabilities when
    ``with_vulnerabilities`` and an advisory database is there."""
    from anya_plugins.audit.offline import OfflineOsvService
    from anya_plugins.audit.sbom import sbom_json
    from anya_plugins.audit.vulnerabilities import installed_packages, scan

    packages = installed_packages(distributions)
    findings: tuple[Finding, ...] = ()
    if with_vulnerabilities and settings.advisories.exists():
        findings = tuple(scan(packages, OfflineOsvService(settings.advisories)).findings)
    return sbom_json(packages, findings)


def verify_audit_log(
    settings: AuditSettings, *, anchors: Sequence[Path], expected_head: str | None = None
) -> LogReport:
    """Check the configured audit log's hash chain, and its head against ``anchors``."""
    from anya_plugins.audit.log import verify_log

    return verify_log(settings.log, expected_head=expected_head, anchors=anchors)
