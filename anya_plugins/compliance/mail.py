"""Mailing a report over SMTP (stdlib ``smtplib``): a text summary, the HTML report as the
alternative body, and the rendered files attached. The SMTP password comes from
``$ANYA_SMTP_PASSWORD`` only, never from a file."""

from __future__ import annotations

import mimetypes
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Final

from anya_plugins.compliance.errors import ComplianceError
from anya_plugins.compliance.html import render_html
from anya_plugins.compliance.report import ComplianceReport

SMTP_PASSWORD_ENV: Final = "ANYA_SMTP_PASSWORD"
TIMEOUT_SECONDS: Final = 30.0


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    starttls: bool = False
    username: str | None = None


@dataclass(frozen=True)
class MailReceipt:
    message_id: str
    subject: str
    recipients: tuple[str, ...]
    attachments: tuple[str, ...]
    refused: Mapping[str, str]
    """Recipients the server refused, with its answer (the others got the report)."""


def subject_of(report: ComplianceReport) -> str:
    who = f"{report.organization}: " if report.organization else ""
    return (
        f"{who}{report.standard} compliance report {report.period} "
        f"({report.supported}/{len(report.controls)} controls supported, {len(report.gaps)} gaps)"
    )


def send_report(
    report: ComplianceReport,
    settings: MailSettings,
    attachments: Sequence[Path] = (),
    *,
    environ: Mapping[str, str],
) -> MailReceipt:
    if not settings.recipients:
        raise ComplianceError(
            "no recipients for the report",
            hint="pass --to ADDRESS or set compliance.reporting.recipients in the policy file",
        )
    message = _message(report, settings, attachments)
    password = environ.get(SMTP_PASSWORD_ENV)
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT_SECONDS) as smtp:
            if settings.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.username:
                if not password:
                    raise ComplianceError(
                        f"no SMTP password for {settings.username}",
                        hint=f"export {SMTP_PASSWORD_ENV}=<password>",
                    )
                smtp.login(settings.username, password)
            refused = smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        raise ComplianceError(
            f"the SMTP server refused every recipient: {', '.join(error.recipients)}"
        ) from None
    except (smtplib.SMTPException, OSError) as error:
        raise ComplianceError(
            f"the report could not be sent through {settings.host}:{settings.port}: {error}",
            hint="check the SMTP host and port (--smtp HOST:PORT) and that it accepts mail",
        ) from None
    return MailReceipt(
        message_id=str(message["Message-ID"]),
        subject=str(message["Subject"]),
        recipients=settings.recipients,
        attachments=tuple(path.name for path in attachments),
        refused={
            address: answer[1].decode(errors="replace") for address, answer in refused.items()
        },
    )


def _message(
    report: ComplianceReport, settings: MailSettings, attachments: Sequence[Path]
) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject_of(report)
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.recipients)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or None)
    gaps = "\n".join(
        f"- {control.id} {control.title}\n" + "".join(f"    {gap}\n" for gap in control.gaps)
        for control in report.gaps
    )
    message.set_content(
        f"{report.standard_name}, {report.period}\n\n"
        f"{report.supported} of {len(report.controls)} controls supported by evidence.\n\n"
        + (f"Gaps:\n{gaps}" if gaps else "No gaps.\n")
    )
    message.add_alternative(render_html(report), subtype="html")
    for path in attachments:
        kind, _ = mimetypes.guess_type(path.name)
        maintype, subtype = (kind or "application/octet-stream").split("/", 1)
        message.add_attachment(
            path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name
        )
    return message
