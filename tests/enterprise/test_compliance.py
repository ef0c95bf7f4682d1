"""Compliance reports over a month of activity: a real registry's audit trail (uploads, refused
uploads, downloads, failed sign-ins, an index change), a client audit log and SBOMs; the
evidence listed per control of each standard and every gap named."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from anya_plugins.audit.log import AuditLog
from anya_plugins.audit.offline import OfflineOsvService
from anya_plugins.audit.sbom import sbom_json
from anya_plugins.audit.vulnerabilities import resolved_packages, scan
from anya_plugins.compliance.controls import STANDARDS, controls_table
from anya_plugins.compliance.evidence import EVIDENCE_KINDS, EvidenceSources
from anya_plugins.compliance.report import ComplianceReport, build_report
from anya_plugins.registry.devpi import Credentials
from tests.audit.conftest import ADVISORIES
from tests.enterprise.compliance_fixtures import (
    INDEX,
    PASSWORDS,
    TrailRegistry,
    make_wheel,
    trail_registry,
)

__all__ = ["trail_registry"]

SIGNER = {
    "identity": "release@acme.example",
    "issuer": "https://issuer.acme.example",
    "evidence": "pep740",
    "format": "attestation",
    "publisher": "release@acme.example",
}
VULNERABLE = [("requests", "2.30.0"), ("rich", "13.7.1")]
SUPPORTED_RGB = (0x0B, 0x6B, 0x2E)
GAP_RGB = (0xA3, 0x14, 0x1C)
ARTIFACTS = (
    Path(os.environ.get("ANYA_TEST_ARTIFACTS", ""))
    if os.environ.get("ANYA_TEST_ARTIFACTS")
    else None
)


@dataclass(frozen=True)
class Month:
    period: str
    trail: Path
    client_log: Path
    sbom: Path
    clean_sbom: Path


@pytest.fixture(scope="module")
def month(trail_registry: TrailRegistry, tmp_path_factory: pytest.TempPathFactory) -> Month:
    """This month's activity: three releases, a refused upload, downloads, failed sign-ins and
    an index change on the registry; on a client, two installs (one verified by signature, one
    not), an advisory update and a configuration change, written by the client's audit log."""
    work = tmp_path_factory.mktemp("compliance-month")
    for version in ("1.0", "1.1", "2.0"):
        done = trail_registry.upload(make_wheel(work, "ledger", version), "dev")
        assert done.returncode == 0, done.stdout + done.stderr
    assert trail_registry.upload(make_wheel(work, "ledger", "3.0"), "outsider").returncode != 0
    for _ in range(2):
        assert trail_registry.download("ledger-1.0-py3-none-any.whl") == 200
        assert not trail_registry.client().check_password(Credentials("dev", "guess"))
    trail_registry.client("root").modify_index(INDEX, {"acl_upload": ["dev"]})

    client_log = work / "client-audit.jsonl"
    log = AuditLog(client_log)
    log.record("advisories-update", details={"records": 12, "origin": "osv.dev"})
    log.record(
        "install",
        extension="ledger",
        version="2.0",
        source=INDEX,
        hashes={"sha256": "ab" * 32},
        details={"trust": {"signatures": [SIGNER]}},
    )
    log.record(
        "install",
        extension="scratchpad",
        version="0.1",
        source=INDEX,
        hashes={"sha256": "cd" * 32},
        details={"trust": None},
    )
    log.record("config-change", details={"key": "audit.fail_on", "value": "high"})

    findings = scan(resolved_packages(VULNERABLE), OfflineOsvService(ADVISORIES))
    sbom = work / "sbom.cdx.json"
    sbom.write_text(sbom_json(findings.packages, findings.findings, subject="/opt/app/venv"))
    clean = work / "clean.cdx.json"
    clean.write_text(sbom_json(resolved_packages([("rich", "13.7.1")]), subject="/opt/app/venv"))
    period = datetime.now(UTC).strftime("%Y-%m")
    return Month(period, trail_registry.trail, client_log, sbom, clean)


def report_of(month: Month, standard: str, **sources: object) -> ComplianceReport:
    chosen = {
        "server_trail": month.trail,
        "client_logs": (month.client_log,),
        "sboms": (month.sbom,),
        **sources,
    }
    return build_report(standard, month.period, EvidenceSources(**chosen))  # type: ignore[arg-type]


def control(report: ComplianceReport, control_id: str) -> tuple[str, tuple[str, ...]]:
    found = next(c for c in report.controls if c.id == control_id)
    return found.status, found.gaps


def evidence(report: ComplianceReport, kind: str) -> tuple[bool, tuple[str, ...]]:
    found = next(e for e in report.evidence if e.kind == kind)
    return found.present, found.records


def test_the_controls_table_names_only_evidence_that_is_gathered() -> None:
    table = controls_table()

    assert tuple(table) == STANDARDS
    for standard in table.values():
        assert standard.controls
        for item in standard.controls:
            assert set(item.evidence) <= set(EVIDENCE_KINDS), (standard.id, item.id)


def test_soc2_access_control_is_supported_by_the_refusals_recorded(month: Month) -> None:
    report = report_of(month, "SOC2")

    assert control(report, "CC6.1") == ("supported", ())
    present, records = evidence(report, "access-refusals")
    assert present
    assert any("outsider@127.0.0.1 permission-refused dev/private ledger 3.0" in r for r in records)
    present, records = evidence(report, "sign-in-failures")
    assert present and len([r for r in records if "sign-in-failure" in r]) >= 2


def test_soc2_lists_unsigned_releases_unverified_installs_and_vulnerabilities_as_gaps(
    month: Month,
) -> None:
    report = report_of(month, "SOC2")

    status, gaps = control(report, "CC6.8")
    assert status == "gap"
    assert any(
        g.startswith("published-signed: published without a signature") and "ledger 2.0" in g
        for g in gaps
    )
    assert any(
        "installed-verified: installed without a verified signature" in g and "scratchpad 0.1" in g
        for g in gaps
    )
    assert any("vulnerability-status: known vulnerability: GHSA-j8r2-6x86-q33q" in g for g in gaps)
    assert not any("ledger 2.0" in g and "installed-verified" in g for g in gaps)
    assert "CC6.8" in [c.id for c in report.gaps]


def test_a_clean_sbom_and_signed_installs_close_those_gaps(month: Month) -> None:
    report = report_of(month, "PCI-DSS", sboms=(month.clean_sbom,))

    assert control(report, "6.3.2") == ("supported", ())
    assert control(report, "6.3.3") == ("supported", ())
    assert control(report, "6.3.1") == ("supported", ())
    assert control(report, "10.2.1.4") == ("supported", ())


def test_every_control_is_a_gap_without_evidence(month: Month) -> None:
    report = build_report("ISO27001", month.period, EvidenceSources())

    assert report.supported == 0
    assert {c.id for c in report.gaps} == {c.id for c in controls_table()["ISO27001"].controls}
    assert control(report, "A.8.15")[1] == (
        "server-trail: no registry audit trail was given",
        "client-audit-log: no client audit log was given",
    )


def test_a_month_without_activity_has_no_evidence(month: Month) -> None:
    report = build_report(
        "SOC2", "2026-10", EvidenceSources(month.trail, (month.client_log,), (month.clean_sbom,))
    )

    assert control(report, "CC6.1")[1] == (
        "access-refusals: the registry audit trail has no entry in 2026-10",
        "server-trail: the registry audit trail has no entry in 2026-10",
    )


def test_an_edited_trail_is_a_gap_not_evidence(month: Month, tmp_path: Path) -> None:
    edited = tmp_path / "trail.jsonl"
    lines = month.trail.read_bytes().splitlines(keepends=True)
    number = next(n for n, line in enumerate(lines) if b'"user":"outsider"' in line)
    lines[number] = lines[number].replace(b'"user":"outsider"', b'"user":"dev"')
    edited.write_bytes(b"".join(lines))

    report = report_of(month, "ISO27001", server_trail=edited)

    status, gaps = control(report, "A.5.15")
    assert status == "gap"
    assert gaps == (f"access-refusals: {edited}: chain broken at line {number + 1}: edited",)


def anya_ext(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "anya_plugins.cli.main", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **env},
    )


def evidence_options(month: Month) -> list[str]:
    return [
        "--trail",
        str(month.trail),
        "--client-log",
        str(month.client_log),
        "--sbom",
        str(month.sbom),
    ]


def test_the_json_report_lists_evidence_per_control_and_the_gaps(month: Month) -> None:
    done = anya_ext(
        "compliance",
        "report",
        "--standard",
        "ISO27001",
        "--period",
        month.period,
        *evidence_options(month),
    )

    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    controls = {c["id"]: c for c in document["controls"]}
    assert controls["A.8.15"]["status"] == "supported"
    assert controls["A.8.15"]["evidence"] == ["server-trail", "client-audit-log"]
    assert controls["A.8.8"]["status"] == "gap"
    assert document["summary"]["gaps"] == [c for c in controls if controls[c]["status"] == "gap"]
    kinds = {e["kind"]: e for e in document["evidence"]}
    assert kinds["configuration-changes"]["count"] >= 2  # the index change and the client's


def test_a_security_officer_reports_from_the_registry_trail_itself(
    month: Month, trail_registry: TrailRegistry
) -> None:
    done = anya_ext(
        "compliance", "report", "--standard", "SOC2", "--period", month.period,
        "--registry", trail_registry.url, "--client-log", str(month.client_log),
        ANYA_REGISTRY_USER="auditor", ANYA_REGISTRY_PASSWORD=PASSWORDS["auditor"],
    )  # fmt: skip
    outsider = anya_ext(
        "compliance", "report", "--standard", "SOC2", "--period", month.period,
        "--registry", trail_registry.url,
        ANYA_REGISTRY_USER="outsider", ANYA_REGISTRY_PASSWORD=PASSWORDS["outsider"],
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["sources"]["server_trail"] == [f"{trail_registry.url} (/+audit-trail)"]
    assert {c["id"]: c["status"] for c in document["controls"]}["CC6.1"] == "supported"
    assert outsider.returncode != 0
    assert "403" in outsider.stderr


def colours(image: Image.Image) -> set[tuple[int, int, int]]:
    rgb = image.convert("RGB")
    return {rgb.getpixel((x, y)) for x in range(0, rgb.width, 2) for y in range(0, rgb.height, 2)}  # type: ignore[misc]


@pytest.mark.skipif(
    shutil.which("/usr/lib/chromium/chromium") is None and shutil.which("chromium") is None,
    reason="no chromium",
)
def test_the_html_report_shows_supported_controls_and_gaps_in_their_colours(
    month: Month, tmp_path: Path
) -> None:
    html, png = tmp_path / "report.html", tmp_path / "report.png"

    done = anya_ext(
        "compliance",
        "report",
        "--standard",
        "SOC2",
        "--period",
        month.period,
        *evidence_options(month),
        "--format",
        "html",
        "-o",
        str(html),
        "--png",
        str(png),
    )

    assert done.returncode == 0, done.stderr
    assert "Gaps" in html.read_text() and "CC6.8" in html.read_text()
    picture = Image.open(png)
    assert picture.size == (1280, 1600)
    seen = colours(picture)
    assert SUPPORTED_RGB in seen and GAP_RGB in seen
    if ARTIFACTS is not None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(png, ARTIFACTS / "compliance-report-soc2.png")


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="no pdftoppm (poppler-utils)")
def test_the_pdf_report_prints_as_pages_with_the_same_colours(month: Month, tmp_path: Path) -> None:
    pdf = tmp_path / "report.pdf"

    done = anya_ext(
        "compliance",
        "report",
        "--standard",
        "PCI-DSS",
        "--period",
        month.period,
        *evidence_options(month),
        "--format",
        "pdf",
        "-o",
        str(pdf),
    )

    assert done.returncode == 0, done.stderr
    assert pdf.read_bytes().startswith(b"%PDF-")
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
        check=True,
    )
    (page,) = tmp_path.glob("page*.png")
    seen = colours(Image.open(page))
    assert GAP_RGB in seen or any(abs(r - 0xA3) < 12 and g < 40 and b < 50 for r, g, b in seen)
    assert len(seen) > 20  # text, not a blank page


def test_the_schedule_is_a_monthly_systemd_timer_and_a_cron_line(tmp_path: Path) -> None:
    policy = tmp_path / "enterprise-registry.yml"
    policy.write_text(POLICY)

    done = anya_ext(
        "--json",
        "compliance",
        "schedule",
        "--dry-run",
        "--policy",
        str(policy),
        "--environment-file",
        "/etc/anya/compliance.env",
    )

    assert done.returncode == 0, done.stderr
    units = json.loads(done.stdout)
    assert units["written"] == []
    assert "OnCalendar=*-*-01 06:00:00\nPersistent=true" in units["timer"]
    assert "EnvironmentFile=/etc/anya/compliance.env" in units["service"]
    anya_ext_path = Path(sys.executable).parent / "anya-ext"
    for standard in ("SOC2", "ISO27001"):
        assert (
            f"ExecStart={anya_ext_path} compliance send --standard {standard} --period "
            f"previous --policy={policy.resolve()}\n"
        ) in units["service"]
    assert units["cron"].startswith(f"0 6 1 * * {anya_ext_path} compliance send --standard SOC2")
    if shutil.which("systemd-analyze"):
        for name in ("service", "timer"):
            (tmp_path / f"anya-compliance-report.{name}").write_text(units[name])
        checked = subprocess.run(
            ["systemd-analyze", "verify", "--man=no", "anya-compliance-report.timer"],
            capture_output=True,
            text=True,
            check=False,
            cwd=tmp_path,
        )
        assert checked.returncode == 0, checked.stderr


POLICY = """\
organization: Acme Corp
registry_url: https://registry.acme.example/acme/private/+simple/
compliance:
  standards: [SOC2, ISO27001]
  reporting:
    frequency: monthly
    recipients: [compliance@acme.example, ciso@acme.example]
    sender: anya@acme.example
"""


@dataclass
class Inbox:
    messages: list[tuple[str, list[str], bytes]]

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append(
            (envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)  # type: ignore[attr-defined]
        )
        return "250 OK"


def test_send_mails_the_report_to_the_policy_recipients_over_smtp(
    month: Month, tmp_path: Path
) -> None:
    from email import message_from_bytes
    from email import policy as email_policy

    from aiosmtpd.controller import Controller

    inbox = Inbox([])
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        done = send_soc2(month, tmp_path, "--smtp", f"127.0.0.1:{port}")
    finally:
        controller.stop()

    assert done.returncode == 0, done.stderr
    ((sender, recipients, raw),) = inbox.messages
    assert (sender, recipients) == (
        "anya@acme.example",
        ["compliance@acme.example", "ciso@acme.example"],
    )
    message = message_from_bytes(raw, policy=email_policy.default)
    assert (
        str(message["Subject"])
        .strip()
        .startswith(f"Acme Corp: SOC2 compliance report {month.period}")
    )
    names = sorted(str(part.get_filename()) for part in message.iter_attachments())
    assert names == [f"compliance-SOC2-{month.period}.json", f"compliance-SOC2-{month.period}.pdf"]
    body = message.get_body(("plain",))
    assert body is not None and "Gaps:" in body.get_content() and "CC6.8" in body.get_content()


def send_soc2(month: Month, tmp_path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    policy = tmp_path / "enterprise-registry.yml"
    policy.write_text(POLICY)
    return anya_ext(
        "compliance", "send", "--standard", "SOC2", "--period", month.period,
        "--policy", str(policy), *options, *evidence_options(month),
    )  # fmt: skip


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_send_without_an_smtp_server_says_so(month: Month, tmp_path: Path) -> None:
    done = send_soc2(month, tmp_path, "--smtp", "127.0.0.1:1", "--no-pdf")

    assert done.returncode == 8
    assert "could not be sent through 127.0.0.1:1" in done.stderr
