"""The gate: refusing installs with findings at or above the limit, and what overrides it."""

from __future__ import annotations

import json

import pytest

from anya_plugins.audit.errors import VulnerabilitiesRefused
from anya_plugins.audit.offline import OfflineOsvService
from anya_plugins.audit.vulnerabilities import GatePolicy, gate, resolved_packages, scan
from tests.audit.conftest import FindingFactory


def test_finding_at_the_limit_refuses(make_finding: FindingFactory) -> None:
    decision = gate([make_finding(level="high")], GatePolicy(max_severity="high"))
    assert not decision.allowed
    assert [finding.advisory for finding in decision.refused] == ["GHSA-aaaa-bbbb-cccc"]


def test_finding_above_the_limit_refuses(make_finding: FindingFactory) -> None:
    assert not gate([make_finding(level="critical")], GatePolicy(max_severity="high")).allowed


def test_finding_below_the_limit_is_tolerated(make_finding: FindingFactory) -> None:
    finding = make_finding(level="medium")
    decision = gate([finding], GatePolicy(max_severity="high"))
    assert decision.allowed
    assert decision.tolerated == (finding,)
    assert decision.refused == ()


def test_no_findings_allow(make_finding: FindingFactory) -> None:
    decision = gate([], GatePolicy())
    assert decision.allowed
    assert decision.reasons() == ()


def test_default_limit_is_high(make_finding: FindingFactory) -> None:
    policy = GatePolicy()
    assert gate([make_finding(level="medium")], policy).allowed
    assert not gate([make_finding(level="high")], policy).allowed


def test_ignore_list_overrides_a_finding_by_its_id(make_finding: FindingFactory) -> None:
    decision = gate([make_finding("GHSA-1")], GatePolicy(ignore=("GHSA-1",)))
    assert decision.allowed
    (override,) = decision.overridden
    assert override.finding.advisory == "GHSA-1"
    assert override.reason == "audit.ignore lists GHSA-1"


def test_ignore_list_overrides_a_finding_by_an_alias(make_finding: FindingFactory) -> None:
    finding = make_finding("GHSA-1", aliases=("CVE-2026-1", "PYSEC-2026-1"))
    decision = gate([finding], GatePolicy(ignore=("CVE-2026-1",)))
    assert decision.allowed
    assert decision.reasons() == (f"{finding.describe()} [audit.ignore lists CVE-2026-1]",)


def test_ignore_list_leaves_other_findings_refused(make_finding: FindingFactory) -> None:
    decision = gate(
        [make_finding("GHSA-1"), make_finding("GHSA-2")], GatePolicy(ignore=("GHSA-1",))
    )
    assert not decision.allowed
    assert [finding.advisory for finding in decision.refused] == ["GHSA-2"]


def test_allow_overrides_for_one_install(make_finding: FindingFactory) -> None:
    decision = gate([make_finding("GHSA-1")], GatePolicy(), allow=["GHSA-1"])
    assert decision.allowed
    assert decision.overridden[0].reason == "allowed for this install: GHSA-1"


def test_unrated_finding_is_refused_by_default(make_finding: FindingFactory) -> None:
    assert not gate([make_finding(level=None)], GatePolicy(max_severity="critical")).allowed


def test_unrated_finding_takes_the_configured_unknown_severity(
    make_finding: FindingFactory,
) -> None:
    policy = GatePolicy(max_severity="high", unknown_severity="medium")
    assert gate([make_finding(level=None)], policy).allowed


def test_enforce_raises_install_refused_naming_each_finding(
    make_finding: FindingFactory,
) -> None:
    decision = gate([make_finding("GHSA-1", package="pyyaml")], GatePolicy())
    refused = r"1 known vulnerability rated high or worse"
    with pytest.raises(VulnerabilitiesRefused, match=refused) as err:
        decision.enforce()
    assert "pyyaml 1.0: GHSA-1 (high) GHSA-1 summary; fixed in 1.1" in err.value.message
    assert err.value.exit_code == 13
    assert err.value.hint is not None
    assert "--allow GHSA-1" in err.value.hint


def test_enforce_passes_an_allowed_decision(make_finding: FindingFactory) -> None:
    gate([make_finding(level="low")], GatePolicy()).enforce()


def test_resolved_set_with_a_critical_vulnerability_is_refused(
    offline: OfflineOsvService,
) -> None:
    report = scan(resolved_packages([("pyyaml", "5.3.1"), ("requests", "2.30.0")]), offline)
    decision = gate(report.findings, GatePolicy(max_severity="high"))
    assert [finding.advisory for finding in decision.refused] == ["GHSA-8q59-q68h-6hv4"]
    assert [finding.advisory for finding in decision.tolerated] == ["GHSA-j8r2-6x86-q33q"]


def test_lower_limit_refuses_the_medium_finding_too(offline: OfflineOsvService) -> None:
    report = scan(resolved_packages([("requests", "2.30.0")]), offline)
    assert not gate(report.findings, GatePolicy(max_severity="medium")).allowed
    assert gate(report.findings, GatePolicy(max_severity="high")).allowed


def test_fixed_versions_pass_the_gate(offline: OfflineOsvService) -> None:
    report = scan(resolved_packages([("pyyaml", "5.4"), ("requests", "2.31.0")]), offline)
    assert report.findings == ()
    assert gate(report.findings, GatePolicy(max_severity="low")).allowed


def test_decision_renders_as_json(make_finding: FindingFactory) -> None:
    from anya_plugins.cli.render import to_json

    finding = make_finding("GHSA-1")
    data = json.loads(to_json(gate([finding], GatePolicy(ignore=("GHSA-1",)))))
    assert data["allowed"] is True
    assert data["overridden"][0]["reason"] == "audit.ignore lists GHSA-1"
    assert data["policy"] == {
        "max_severity": "high",
        "unknown_severity": "critical",
        "ignore": ["GHSA-1"],
    }
