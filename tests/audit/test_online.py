"""Online advisories through pip-audit's services: findings converted, failures made clear."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from packaging.version import Version
from pip_audit._service import (  # type: ignore[import-untyped]
    Dependency,
    VulnerabilityResult,
    VulnerabilityService,
)

from anya_plugins.audit.errors import AdvisoryServiceError
from anya_plugins.audit.online import PipAuditService
from anya_plugins.audit.vulnerabilities import GatePolicy, Package, gate, scan


class CannedService(VulnerabilityService):  # type: ignore[misc]
    """A pip-audit service answering from a table, as OsvService answers from osv.dev."""

    def __init__(self, results: dict[str, list[Any]]) -> None:
        self.results = results

    def query(self, spec: Dependency) -> tuple[Dependency, list[Any]]:
        return spec, self.results.get(spec.canonical_name, [])


REQUESTS_RESULT = VulnerabilityResult.create(
    ids=["GHSA-j8r2-6x86-q33q", "PYSEC-2023-74", "CVE-2023-32681"],
    description="Unintended leak of Proxy-Authorization header in requests",
    fix_versions=[Version("2.31.0"), Version("2.2.0")],
    published=datetime(2023, 5, 26, 18, 15),
)


def test_pip_audit_results_become_findings() -> None:
    service = PipAuditService(CannedService({"requests": [REQUESTS_RESULT]}))
    (finding,) = scan([Package("requests", "2.30.0")], service).findings
    assert finding.advisory == "PYSEC-2023-74"
    assert finding.aliases == ("CVE-2023-32681", "GHSA-j8r2-6x86-q33q")
    assert finding.fixed_versions == ("2.31.0",)
    assert finding.published == "2023-05-26T18:15:00"
    assert finding.severity is None


def test_online_findings_are_gated_by_the_unknown_severity() -> None:
    service = PipAuditService(CannedService({"requests": [REQUESTS_RESULT]}))
    report = scan([Package("requests", "2.30.0")], service)
    assert not gate(report.findings, GatePolicy()).allowed
    assert gate(report.findings, GatePolicy(unknown_severity="medium")).allowed


def test_service_is_described_by_its_class_or_url(unreachable_url: str, tmp_path: Path) -> None:
    assert PipAuditService(CannedService({})).description == "CannedService"
    online = PipAuditService(osv_url=unreachable_url, cache_dir=tmp_path)
    assert online.description == unreachable_url


def test_unreachable_osv_api_is_a_clear_error(unreachable_url: str, tmp_path: Path) -> None:
    service = PipAuditService(osv_url=unreachable_url, cache_dir=tmp_path, timeout=2)
    with pytest.raises(AdvisoryServiceError, match=r"could not check requests 2\.30\.0") as raised:
        scan([Package("requests", "2.30.0")], service)
    assert "Connection refused" in raised.value.message
    assert raised.value.exit_code == 13
