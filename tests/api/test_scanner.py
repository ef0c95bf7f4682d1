"""VulnerabilityScanner and AuditTrail with the settings of a configuration built in code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anya_plugins import AuditTrail, Configuration, VulnerabilityScanner
from anya_plugins.audit.errors import AdvisoryDatabaseError

ADVISORY = {
    "schema_version": "1.6.0",
    "id": "GHSA-api-0001",
    "aliases": ["CVE-2026-0001"],
    "summary": "wallet leaks keys",
    "modified": "2026-11-01T00:00:00Z",
    "affected": [
        {
            "package": {"ecosystem": "PyPI", "name": "anya-ext-wallet"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.1"}]}],
        }
    ],
    "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
}


@pytest.fixture
def configuration(tmp_path: Path) -> Configuration:
    advisories = tmp_path / "advisories"
    advisories.mkdir()
    (advisories / "GHSA-api-0001.json").write_text(json.dumps(ADVISORY))
    return Configuration(
        values={"audit": {"advisories": str(advisories), "log": str(tmp_path / "audit.jsonl")}}
    )


def test_scan_finds_the_advisory_and_the_gate_refuses_then_allows_once(
    configuration: Configuration,
) -> None:
    scanner = VulnerabilityScanner(configuration)

    report = scanner.scan([("anya-ext-wallet", "1.0"), ("anya-ext-wallet-ui", "1.0")])

    assert [(f.package, f.advisory) for f in report.findings] == [
        ("anya-ext-wallet", "GHSA-api-0001")
    ]
    assert not scanner.gate(report).allowed
    assert scanner.gate(report, allow=["CVE-2026-0001"]).allowed
    assert scanner.scan([("anya-ext-wallet", "1.1")]).findings == ()


def test_without_a_database_scanning_is_refused_not_silently_clean(tmp_path: Path) -> None:
    empty = Configuration(values={"audit.advisories": str(tmp_path / "missing.zip")})

    with pytest.raises(AdvisoryDatabaseError, match="no advisory database"):
        VulnerabilityScanner(empty).scan([("anya-ext-wallet", "1.0")])


def test_the_environment_audit_and_sbom_cover_this_interpreter(
    configuration: Configuration,
) -> None:
    scanner = VulnerabilityScanner(configuration)

    audit = scanner.audit()
    sbom = json.loads(scanner.sbom())

    assert audit.update is None and audit.report.ok and audit.report.packages > 10
    assert any(c["name"] == "anya-plugins" for c in sbom["components"])


def test_the_audit_trail_of_an_empty_log_verifies(
    configuration: Configuration, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANYA_DATA_DIR", str(tmp_path / "data"))

    report = AuditTrail(configuration).verify()

    assert report.ok and report.entries == 0
