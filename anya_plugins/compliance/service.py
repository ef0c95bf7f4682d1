"""What ``anya-ext compliance`` does, one call each: produce a report (JSON, HTML or PDF, and a
PNG picture of it), mail one, and the schedule that mails one every month."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Literal

from anya_plugins.compliance.evidence import EvidenceSources
from anya_plugins.compliance.mail import MailReceipt, MailSettings, send_report
from anya_plugins.compliance.report import ComplianceReport, build_report

ReportFormat = Literal["json", "html", "pdf"]
FORMATS: tuple[ReportFormat, ...] = ("json", "html", "pdf")


@dataclass(frozen=True)
class ReportRequest:
    """Which report, and where its evidence is. The registry's trail is read from ``trail``
    (the server's file or an export), or downloaded from ``registry_url`` as
    ``registry_user`` (credentials from the environment or the keyring)."""

    standard: str
    period: str
    trail: Path | None = None
    registry_url: str | None = None
    registry_user: str | None = None
    client_logs: tuple[Path, ...] = ()
    sboms: tuple[Path, ...] = ()
    organization: str = ""


@dataclass(frozen=True)
class ProducedReport:
    report: ComplianceReport
    format: ReportFormat
    output: str | None
    png: str | None = None


def report_json(report: ComplianceReport) -> str:
    document = {
        **asdict(report),
        "summary": {"controls": len(report.controls), "supported": report.supported,
                    "gaps": [control.id for control in report.gaps]},
    }  # fmt: skip
    return json.dumps(document, indent=2) + "\n"


def produce_report(
    request: ReportRequest,
    *,
    fmt: ReportFormat = "json",
    output: Path | None = None,
    png: Path | None = None,
    environ: Mapping[str, str],
) -> ProducedReport:
    """Build the report and write it to ``output`` as ``fmt`` (PDF needs ``output``), and a
    picture of its HTML to ``png`` when given."""
    from anya_plugins.compliance.chromium import html_to_pdf, html_to_png
    from anya_plugins.compliance.errors import ComplianceError
    from anya_plugins.compliance.html import render_html

    report = _build(request, environ)
    if fmt == "pdf" and output is None:
        raise ComplianceError("a PDF report needs a file", hint="pass --output FILE.pdf")
    if output is not None:
        if fmt == "json":
            output.write_text(report_json(report), "utf-8")
        elif fmt == "html":
            output.write_text(render_html(report), "utf-8")
        else:
            html_to_pdf(render_html(report), output)
    if png is not None:
        html_to_png(render_html(report), png)
    return ProducedReport(report, fmt, str(output) if output else None, str(png) if png else None)


def mail_report(
    request: ReportRequest, mail: MailSettings, *, attach_pdf: bool = True,
    environ: Mapping[str, str],
) -> MailReceipt:  # fmt: skip
    """Build the report and mail it to ``mail.recipients``, with its JSON (and PDF) attached."""
    from anya_plugins.compliance.chromium import html_to_pdf
    from anya_plugins.compliance.html import render_html

    report = _build(request, environ)
    with tempfile.TemporaryDirectory(prefix="anya-compliance-") as tmp:
        stem = f"compliance-{report.standard}-{report.period}"
        attachments = [Path(tmp) / f"{stem}.json"]
        attachments[0].write_text(report_json(report), "utf-8")
        if attach_pdf:
            attachments.append(html_to_pdf(render_html(report), Path(tmp) / f"{stem}.pdf"))
        return send_report(report, mail, attachments, environ=environ)


def _build(request: ReportRequest, environ: Mapping[str, str]) -> ComplianceReport:
    with _sources(request, environ) as sources:
        report = build_report(
            request.standard, request.period, sources, organization=request.organization
        )
    if request.trail is None and request.registry_url is not None:
        shown = {**report.sources, "server_trail": [f"{request.registry_url} (/+audit-trail)"]}
        report = replace(report, sources=shown)
    return report


@contextmanager
def _sources(request: ReportRequest, environ: Mapping[str, str]) -> Iterator[EvidenceSources]:
    if request.trail is not None or request.registry_url is None:
        yield EvidenceSources(request.trail, request.client_logs, request.sboms)
        return
    from anya_plugins.enterprise.credentials import registry_credentials
    from anya_plugins.registry.trail_client import download_trail

    credentials = registry_credentials(request.registry_url, request.registry_user, environ)
    export = download_trail(request.registry_url, credentials)
    with tempfile.TemporaryDirectory(prefix="anya-trail-") as tmp:
        trail = Path(tmp) / "trail.jsonl"
        trail.write_bytes(export.lines)
        yield EvidenceSources(trail, request.client_logs, request.sboms)
