"""CycloneDX SBOMs: valid against the 1.6 schema, one component per package with its purl, the
findings as vulnerabilities."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from anya_plugins.audit.offline import OfflineOsvService
from anya_plugins.audit.sbom import purl, sbom_json
from anya_plugins.audit.vulnerabilities import (
    Package,
    installed_packages,
    resolved_packages,
    scan,
)
from tests.audit.conftest import site_packages

PACKAGES = resolved_packages([("requests", "2.30.0"), ("PyYAML", "5.3.1"), ("rich", "13.7.1")])


def valid_sbom(text: str) -> dict[str, Any]:
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    assert error is None, str(error)
    document: dict[str, Any] = json.loads(text)
    return document


def test_sbom_of_a_resolved_set_is_valid_cyclonedx() -> None:
    document = valid_sbom(sbom_json(PACKAGES))
    assert (document["bomFormat"], document["specVersion"]) == ("CycloneDX", "1.6")


def test_sbom_lists_each_package_with_its_purl() -> None:
    document = valid_sbom(sbom_json(PACKAGES))
    components = {(c["name"], c["version"], c["purl"]) for c in document["components"]}
    assert components == {
        ("PyYAML", "5.3.1", "pkg:pypi/pyyaml@5.3.1"),
        ("requests", "2.30.0", "pkg:pypi/requests@2.30.0"),
        ("rich", "13.7.1", "pkg:pypi/rich@13.7.1"),
    }
    assert all(c["type"] == "library" for c in document["components"])


def test_purl_uses_the_normalised_name() -> None:
    assert purl(Package("Anya_Ext.BTC_Wallet", "1.0")) == "pkg:pypi/anya-ext-btc-wallet@1.0"


def test_sbom_names_its_subject_and_its_dependencies() -> None:
    document = valid_sbom(sbom_json(PACKAGES, subject="/opt/anya/venv"))
    assert document["metadata"]["component"]["name"] == "/opt/anya/venv"
    root = document["metadata"]["component"]["bom-ref"]
    (dependency,) = [d for d in document["dependencies"] if d["ref"] == root]
    assert len(dependency["dependsOn"]) == 3


def test_sbom_names_the_tool_that_made_it() -> None:
    document = valid_sbom(sbom_json(PACKAGES))
    tools = document["metadata"]["tools"]["components"]
    assert [tool["name"] for tool in tools] == ["anya-plugins"]


def test_sbom_with_findings_lists_the_vulnerabilities(offline: OfflineOsvService) -> None:
    report = scan(PACKAGES, offline)
    document = valid_sbom(sbom_json(report.packages, report.findings))
    by_id = {v["id"]: v for v in document["vulnerabilities"]}
    assert set(by_id) == {"GHSA-8q59-q68h-6hv4", "GHSA-j8r2-6x86-q33q"}
    requests = by_id["GHSA-j8r2-6x86-q33q"]
    assert requests["affects"] == [
        {
            "ref": "pkg:pypi/requests@2.30.0",
            "versions": [{"version": "2.30.0", "status": "affected"}],
        }
    ]
    assert requests["ratings"] == [
        {
            "source": {"name": "OSV", "url": "https://osv.dev/vulnerability/GHSA-j8r2-6x86-q33q"},
            "score": 6.1,
            "severity": "medium",
            "method": "CVSSv31",
            "vector": "AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N",
        }
    ]
    assert {ref["id"] for ref in requests["references"]} == {"CVE-2023-32681", "PYSEC-2023-74"}
    assert requests["recommendation"] == "Upgrade requests to 2.31.0 or later"


def test_unrated_finding_has_no_rating(offline: OfflineOsvService) -> None:
    report = scan([Package("anya-ext-web5-did", "0.3.0")], offline)
    document = valid_sbom(sbom_json(report.packages, report.findings))
    (vulnerability,) = document["vulnerabilities"]
    assert "ratings" not in vulnerability


def test_sbom_of_an_environment_lists_its_distributions(tmp_path: Path) -> None:
    installed = site_packages(tmp_path, [("requests", "2.31.0"), ("anya_ext_btc_wallet", "1.2.3")])
    packages = installed_packages(installed)
    document = valid_sbom(sbom_json(packages, subject=str(tmp_path)))
    assert sorted(c["purl"] for c in document["components"]) == [
        "pkg:pypi/anya-ext-btc-wallet@1.2.3",
        "pkg:pypi/requests@2.31.0",
    ]
