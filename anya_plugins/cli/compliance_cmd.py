"""``anya-ext compliance report|send|schedule``: evidence from the registry's audit trail, the
clients' audit logs and SBOMs, mapped to the controls of SOC 2, ISO 27001 or PCI DSS; mailed
each month by a systemd timer (or cron)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from anya_plugins.cli import render

if TYPE_CHECKING:
    from anya_plugins.compliance.report import ComplianceReport
    from anya_plugins.compliance.service import ReportRequest
    from anya_plugins.enterprise.policy import EnterprisePolicy

STANDARDS = ("SOC2", "ISO27001", "PCI-DSS")


def register(commands: argparse._SubParsersAction[Any], only: str | None = None) -> None:
    """Add this module's one command (``only`` is it, or None for every command)."""
    compliance = commands.add_parser("compliance", help="compliance reports and their schedule")
    actions = compliance.add_subparsers(dest="compliance_action", metavar="ACTION", required=True)

    report = actions.add_parser("report", help="the evidence per control for one month")
    _add_report_options(report)
    report.add_argument("--format", choices=("json", "html", "pdf"), default="json")
    report.add_argument("--output", "-o", type=Path, default=None, metavar="FILE")
    report.add_argument(
        "--png", type=Path, default=None, metavar="FILE", help="also a picture of the report"
    )
    report.set_defaults(handler=report_command)

    send = actions.add_parser("send", help="mail the report (JSON and PDF attached) over SMTP")
    _add_report_options(send)
    send.add_argument(
        "--to", action="append", default=[], metavar="ADDRESS",
        help="recipient (repeatable; default: the policy's compliance.reporting.recipients)",
    )  # fmt: skip
    send.add_argument("--smtp", default=None, metavar="HOST[:PORT]", help="default: the policy's")
    send.add_argument("--from", dest="sender", default=None, metavar="ADDRESS")
    send.add_argument("--starttls", action="store_true")
    send.add_argument("--smtp-user", default=None, help="password: $ANYA_SMTP_PASSWORD")
    send.add_argument("--no-pdf", action="store_true", help="attach the JSON report only")
    send.set_defaults(handler=send_command)

    schedule = actions.add_parser(
        "schedule", help="a systemd service and timer (and a crontab line) for monthly reports"
    )
    schedule.add_argument(
        "--standard", action="append", default=[], choices=STANDARDS,
        help="repeatable (default: the policy's compliance.standards)",
    )  # fmt: skip
    schedule.add_argument("--policy", type=Path, default=None)
    schedule.add_argument(
        "--send-option", action="append", default=[], metavar="OPTION",
        help="passed to each 'compliance send' (e.g. --send-option=--registry=https://...)",
    )  # fmt: skip
    schedule.add_argument("--environment-file", default=None, metavar="FILE")
    schedule.add_argument("--unit-dir", type=Path, default=None, metavar="DIR")
    schedule.add_argument("--dry-run", action="store_true", help="print the units, write nothing")
    schedule.set_defaults(handler=schedule_command)


def _add_report_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--standard", required=True, choices=STANDARDS)
    parser.add_argument(
        "--period", required=True, metavar="YYYY-MM", help="a month, 'previous' or 'current'"
    )
    parser.add_argument(
        "--trail", type=Path, default=None, metavar="FILE",
        help="the registry's audit trail (the server's file or an export)",
    )  # fmt: skip
    parser.add_argument(
        "--registry", default=None, metavar="URL",
        help="download the trail from this registry instead (as --user, a trail reader)",
    )  # fmt: skip
    parser.add_argument(
        "--user", default=None, help="with --registry (default $ANYA_REGISTRY_USER)"
    )
    parser.add_argument(
        "--client-log", action="append", type=Path, default=None, metavar="FILE",
        help="a client audit log (repeatable; default: this machine's, audit.log)",
    )  # fmt: skip
    parser.add_argument("--sbom", action="append", type=Path, default=[], metavar="FILE")
    parser.add_argument(
        "--policy", type=Path, default=None, help="default: $ANYA_ENTERPRISE_POLICY, if set"
    )


def report_command(args: argparse.Namespace) -> int:
    from anya_plugins.compliance.service import produce_report, report_json

    produced = produce_report(
        _request(args), fmt=args.format, output=args.output, png=args.png, environ=os.environ
    )
    report = produced.report
    if args.output is None and args.format != "json":
        from anya_plugins.compliance.html import render_html

        print(render_html(report))
    elif args.json:
        render.say(render.to_json(produced))
    elif args.output is None:
        print(report_json(report), end="")
    else:
        _summary(report)
        render.say(f"wrote {produced.output}" + (f" and {produced.png}" if produced.png else ""))
    return 0


def send_command(args: argparse.Namespace) -> int:
    from anya_plugins.compliance.mail import MailSettings
    from anya_plugins.compliance.service import mail_report
    from anya_plugins.errors import UsageError

    policy = _policy(args)
    reporting = policy.compliance.reporting if policy else None
    host, port = _smtp(args.smtp) if args.smtp else (
        (reporting.smtp_host, reporting.smtp_port) if reporting else (None, 25)
    )  # fmt: skip
    if not host:
        raise UsageError("which SMTP server?", hint="pass --smtp HOST:PORT or set it in the policy")
    sender = args.sender or (reporting.sender if reporting else None) or "anya-ext@localhost"
    recipients = tuple(args.to) or (reporting.recipients if reporting else ())
    settings = MailSettings(host, port, sender, recipients, args.starttls, args.smtp_user)
    receipt = mail_report(
        _request(args, policy), settings, attach_pdf=not args.no_pdf, environ=os.environ
    )
    if args.json:
        render.say(render.to_json(receipt))
    else:
        render.say(f"sent '{receipt.subject}' to {', '.join(receipt.recipients)}")
        for address, answer in receipt.refused.items():
            render.error(f"{address}: refused: {answer}")
    return 0 if not receipt.refused else 1


def schedule_command(args: argparse.Namespace) -> int:
    from anya_plugins.compliance.schedule import schedule_units, write_units
    from anya_plugins.errors import UsageError

    policy = _policy(args)
    standards = tuple(args.standard) or (policy.compliance.standards if policy else ())
    if not standards:
        raise UsageError("which standards?", hint="pass --standard or set compliance.standards")
    options = list(args.send_option)
    if policy is not None and not any(o.startswith("--policy") for o in options):
        options.append(f"--policy={Path(policy.path).resolve()}")
    units = schedule_units(
        standards,
        command=(_anya_ext(),),
        send_options=options,
        environment_file=args.environment_file,
    )
    if not args.dry_run:
        directory = args.unit_dir or Path("~/.config/systemd/user").expanduser()
        units = write_units(units, directory)
    if args.json:
        render.say(render.to_json(units))
        return 0
    render.say(f"# {units.service_name}\n{units.service}\n# {units.timer_name}\n{units.timer}")
    render.say(f"# or, with cron (crontab -e):\n{units.cron}")
    for path in units.written:
        render.say(f"wrote {path}")
    if units.written:
        render.say(f"enable it: systemctl --user daemon-reload && systemctl --user enable --now "
                   f"{units.timer_name}")  # fmt: skip
    return 0


def _request(args: argparse.Namespace, policy: EnterprisePolicy | None = None) -> ReportRequest:
    from anya_plugins.compliance.service import ReportRequest

    policy = policy or _policy(args)
    return ReportRequest(
        standard=args.standard,
        period=args.period,
        trail=args.trail,
        registry_url=args.registry,
        registry_user=args.user,
        client_logs=tuple(args.client_log) if args.client_log is not None else _own_log(args),
        sboms=tuple(args.sbom),
        organization=policy.organization if policy else "",
    )


def _own_log(args: argparse.Namespace) -> tuple[Path, ...]:
    from anya_plugins.api.configuration import Configuration
    from anya_plugins.audit.settings import load_audit_settings

    configuration = Configuration.from_user(args.config_overrides)
    settings = load_audit_settings(configuration.layered(), environ=configuration.environ)
    return (settings.log,) if settings.log.is_file() else ()


def _policy(args: argparse.Namespace) -> EnterprisePolicy | None:
    from anya_plugins.enterprise.policy import load_policy, policy_path

    path = args.policy or policy_path(os.environ)
    return load_policy(path) if path is not None else None


def _anya_ext() -> str:
    """This anya-ext's absolute path (systemd runs units with a minimal PATH)."""
    import shutil
    import sys

    beside = Path(sys.executable).parent / "anya-ext"
    return str(beside) if beside.is_file() else shutil.which("anya-ext") or "anya-ext"


def _smtp(value: str) -> tuple[str, int]:
    from anya_plugins.errors import UsageError

    host, _, port = value.partition(":")
    if not host or (port and not port.isdigit()):
        raise UsageError(f"--smtp {value!r} is not HOST[:PORT]")
    return host, int(port or 25)


def _summary(report: ComplianceReport) -> None:
    render.table(
        f"{report.standard} {report.period}: {report.supported}/{len(report.controls)} "
        "controls supported",
        ("control", "status", "title"),
        [(c.id, c.status, c.title) for c in report.controls],
    )
