"""Scanning packages against OSV records on disk: matching, merging, ratings, bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from packaging.version import Version

from anya_plugins.audit.errors import AdvisoryDatabaseError, VulnerabilityGateError
from anya_plugins.audit.offline import OfflineOsvService
from anya_plugins.audit.vulnerabilities import (
    Finding,
    Package,
    installed_packages,
    resolved_packages,
    scan,
)
from tests.audit.conftest import site_packages


def findings_for(service: OfflineOsvService, name: str, version: str) -> list[Finding]:
    return list(scan([Package(name, version)], service).findings)


def ids_for(service: OfflineOsvService, name: str, version: str) -> list[str]:
    return [finding.advisory for finding in findings_for(service, name, version)]


def test_known_vulnerable_version_is_found(offline: OfflineOsvService) -> None:
    (finding,) = findings_for(offline, "requests", "2.30.0")
    assert finding.package == "requests"
    assert finding.version == "2.30.0"
    assert finding.fixed_versions == ("2.31.0",)


def test_fixed_version_is_not_found(offline: OfflineOsvService) -> None:
    assert findings_for(offline, "requests", "2.31.0") == []


def test_version_before_the_introducing_one_is_not_found(offline: OfflineOsvService) -> None:
    assert findings_for(offline, "requests", "2.2.1") == []


def test_records_that_alias_each_other_become_one_finding(offline: OfflineOsvService) -> None:
    (finding,) = findings_for(offline, "requests", "2.30.0")
    assert finding.advisory == "GHSA-j8r2-6x86-q33q"
    assert finding.aliases == ("CVE-2023-32681", "PYSEC-2023-74")


def test_finding_carries_the_cvss_score_and_level(offline: OfflineOsvService) -> None:
    (finding,) = findings_for(offline, "requests", "2.30.0")
    assert finding.severity is not None
    assert (finding.severity.level, finding.severity.score) == ("medium", 6.1)
    assert finding.severity.method == "CVSS_V3"
    assert finding.severity.vector == "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N"


def test_cvss_v4_vectors_are_scored(offline: OfflineOsvService) -> None:
    (finding,) = findings_for(offline, "anya-ext-btc-wallet", "2.0.4")
    assert finding.severity is not None
    assert (finding.severity.method, finding.severity.level) == ("CVSS_V4", "high")


def test_finding_has_summary_and_publication_date(offline: OfflineOsvService) -> None:
    (finding,) = findings_for(offline, "requests", "2.30.0")
    assert finding.summary == "Unintended leak of Proxy-Authorization header in requests"
    assert finding.published == "2023-05-22T20:36:32Z"


def test_record_without_summary_is_summarised_by_the_first_line_of_its_details(
    advisories: Path, tmp_path: Path
) -> None:
    record = json.loads((advisories / "pypa" / "PYSEC-2023-74.json").read_text())
    (tmp_path / "PYSEC-2023-74.json").write_text(json.dumps(record))
    (finding,) = findings_for(OfflineOsvService(tmp_path), "requests", "2.30.0")
    assert finding.summary.startswith("Requests is a HTTP library.")
    assert "patched" not in finding.summary


def test_package_names_match_in_normalised_form(offline: OfflineOsvService) -> None:
    assert ids_for(offline, "pyyaml", "5.3.1") == ["GHSA-8q59-q68h-6hv4"]
    assert ids_for(offline, "Anya_Ext.BTC-Wallet", "1.2.2") == ["ANYA-2026-0001"]


@pytest.mark.parametrize(
    ("version", "affected"),
    [
        ("0.9.9", False),
        ("1.0.0", True),
        ("1.2.2", True),
        ("1.2.3", False),
        ("1.9", False),
        ("2.0.0", True),
        ("2.0.5rc1", True),
        ("2.0.5", False),
        ("3.1.0", True),
        ("3.1.0.post1", False),
        ("3.1.1", False),
    ],
)
def test_every_range_of_a_record_is_evaluated(
    offline: OfflineOsvService, version: str, affected: bool
) -> None:
    assert bool(ids_for(offline, "anya-ext-btc-wallet", version)) is affected


def test_a_version_in_the_versions_list_is_affected_outside_every_range(
    offline: OfflineOsvService,
) -> None:
    assert ids_for(offline, "anya-ext-btc-wallet", "0.9.0rc1") == ["ANYA-2026-0001"]


def test_fixed_versions_are_those_newer_than_the_installed_one(
    offline: OfflineOsvService,
) -> None:
    (finding,) = findings_for(offline, "anya-ext-btc-wallet", "1.2.2")
    assert finding.fixed_versions == ("1.2.3", "2.0.5")
    (finding,) = findings_for(offline, "anya-ext-btc-wallet", "2.0.1")
    assert finding.fixed_versions == ("2.0.5",)


def test_last_affected_range_knows_no_fix(offline: OfflineOsvService) -> None:
    (finding,) = findings_for(offline, "anya-ext-btc-wallet", "3.0.2")
    assert finding.fixed_versions == ()


def test_withdrawn_records_are_not_reported(offline: OfflineOsvService) -> None:
    assert "ANYA-2026-0002" not in ids_for(offline, "anya-ext-btc-wallet", "0.1.0")


def test_other_ecosystems_do_not_match(offline: OfflineOsvService) -> None:
    assert "ANYA-2026-0001" not in ids_for(offline, "requests", "2.30.0")


def test_git_ranges_are_answered_by_the_versions_list(offline: OfflineOsvService) -> None:
    """PYSEC-2023-74 has a GIT range from "0"; only its ECOSYSTEM range and list count."""
    assert findings_for(offline, "requests", "1.0.0") == []


def test_record_without_a_rating_gives_an_unrated_finding(offline: OfflineOsvService) -> None:
    (finding,) = findings_for(offline, "anya-ext-web5-did", "0.3.0")
    assert finding.severity is None


def test_zip_of_records_gives_the_same_findings(
    offline: OfflineOsvService, advisories_zip: Path
) -> None:
    packages = resolved_packages([("requests", "2.30.0"), ("pyyaml", "5.3"), ("rich", "13.0")])
    from_zip = scan(packages, OfflineOsvService(advisories_zip))
    assert from_zip.findings == scan(packages, offline).findings
    assert from_zip.service == str(advisories_zip)


def test_scan_reports_every_package_checked(offline: OfflineOsvService) -> None:
    packages = resolved_packages([("rich", "13.0"), ("requests", "2.30.0"), ("rich", "13.0")])
    report = scan(packages, offline)
    assert report.packages == (Package("requests", "2.30.0"), Package("rich", "13.0"))
    assert report.vulnerable() == (Package("requests", "2.30.0"),)


def test_package_whose_version_is_not_pep440_is_skipped_with_the_reason(
    offline: OfflineOsvService,
) -> None:
    report = scan([Package("legacy", "2009~snapshot")], offline)
    (skipped,) = report.skipped
    assert skipped.package == Package("legacy", "2009~snapshot")
    assert "PEP 440" in skipped.reason


def test_installed_distributions_are_read_as_packages(tmp_path: Path) -> None:
    installed = site_packages(tmp_path, [("requests", "2.30.0"), ("PyYAML", "5.3.1")])
    packages = installed_packages(installed)
    assert packages == (Package("PyYAML", "5.3.1"), Package("requests", "2.30.0"))


def test_scan_report_renders_as_json(offline: OfflineOsvService) -> None:
    from anya_plugins.cli.render import to_json

    report = scan(resolved_packages([("requests", "2.30.0")]), offline)
    data = json.loads(to_json(report))
    (finding,) = data["findings"]
    assert finding["advisory"] == "GHSA-j8r2-6x86-q33q"
    assert finding["severity"] == {
        "level": "medium",
        "score": 6.1,
        "vector": "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N",
        "method": "CVSS_V3",
    }
    assert data["packages"] == [{"name": "requests", "version": "2.30.0"}]


def test_missing_advisory_path_says_how_to_get_advisories(tmp_path: Path) -> None:
    with pytest.raises(AdvisoryDatabaseError, match=r"no such directory or file") as raised:
        scan([Package("requests", "2.30.0")], OfflineOsvService(tmp_path / "nowhere"))
    assert raised.value.hint is not None
    assert "audit.advisories" in raised.value.hint
    assert raised.value.exit_code == 13


def test_record_that_is_not_json_is_named(tmp_path: Path) -> None:
    (tmp_path / "GHSA-bad.json").write_text("{not json")
    with pytest.raises(AdvisoryDatabaseError, match=r"GHSA-bad\.json: not JSON"):
        scan([Package("requests", "2.30.0")], OfflineOsvService(tmp_path))


def test_record_with_a_wrong_field_names_the_field(tmp_path: Path) -> None:
    record = {"id": "X-1", "affected": [{"package": {"ecosystem": "PyPI"}}]}
    (tmp_path / "X-1.json").write_text(json.dumps(record))
    with pytest.raises(AdvisoryDatabaseError, match=r"affected\[0\]\.package\.name is missing"):
        scan([Package("requests", "2.30.0")], OfflineOsvService(tmp_path))


def test_event_with_two_kinds_is_refused(tmp_path: Path) -> None:
    record = {
        "id": "X-2",
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "requests"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0", "fixed": "1"}]}],
            }
        ],
    }
    (tmp_path / "X-2.json").write_text(json.dumps(record))
    with pytest.raises(AdvisoryDatabaseError, match=r"events\[0\] must hold exactly one"):
        scan([Package("requests", "2.30.0")], OfflineOsvService(tmp_path))


def test_file_that_is_not_a_zip_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "all.zip"
    fake.write_text("not a zip")
    with pytest.raises(VulnerabilityGateError, match=r"not a zip of OSV records"):
        scan([Package("requests", "2.30.0")], OfflineOsvService(fake))


def test_event_version_that_is_not_pep440_is_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    record = {
        "id": "X-3",
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "legacy"},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "1.0"}, {"fixed": "1.x-final"}]}
                ],
            }
        ],
    }
    (tmp_path / "X-3.json").write_text(json.dumps(record))
    service = OfflineOsvService(tmp_path)
    assert [f.advisory for f in service.query(Package("legacy", "2.0"), Version("2.0"))] == ["X-3"]
    assert re.search(r"skipping the fixed event '1\.x-final'", caplog.text)


def test_git_ranges_raise_no_version_warnings(
    offline: OfflineOsvService, caplog: pytest.LogCaptureFixture
) -> None:
    findings_for(offline, "requests", "2.30.0")
    assert caplog.text == ""


def test_a_broken_record_fails_only_the_scans_of_its_packages(tmp_path: Path) -> None:
    record = {
        "id": "X-4",
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "other"},
                "ranges": [{"type": "ECOSYSTEM", "events": "not a list"}],
            }
        ],
    }
    (tmp_path / "X-4.json").write_text(json.dumps(record))
    service = OfflineOsvService(tmp_path)
    assert scan([Package("requests", "2.30.0")], service).findings == ()
    with pytest.raises(AdvisoryDatabaseError, match=r"events is not a JSON array"):
        scan([Package("other", "1.0")], service)
