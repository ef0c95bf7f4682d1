"""``anya-ext audit``, ``sbom`` and ``audit-log verify``."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from anya_plugins.cli import render

if TYPE_CHECKING:
    from anya_plugins.api.configuration import Configuration


def register(commands: argparse._SubParsersAction[Any], only: str | None = None) -> None:
    """Add this module's commands; ``only``: just that one (the command being run)."""
    if only in (None, "audit"):
        audit = commands.add_parser("audit", help="check installed packages against advisories")
        audit.add_argument(
            "--update", action="store_true",
            help="fetch the advisory database (osv.dev's PyPI/all.zip) first",
        )  # fmt: skip
        audit.add_argument(
            "--from", dest="from_file", type=Path, default=None, metavar="FILE",
            help="with --update: import this copy of PyPI/all.zip instead of downloading it",
        )  # fmt: skip
        audit.add_argument(
            "--allow-old", action="store_true",
            help="with --update: store advisories older than audit.max_database_age_days "
            "(recorded)",
        )  # fmt: skip
        audit.add_argument("--python", type=Path, default=None)
        audit.set_defaults(handler=audit_command)

    if only in (None, "sbom"):
        sbom = commands.add_parser("sbom", help="a CycloneDX SBOM of the environment")
        sbom.add_argument("--python", type=Path, default=None)
        sbom.add_argument("--output", "-o", type=Path, default=None)
        sbom.set_defaults(handler=sbom_command)

    if only in (None, "audit-log"):
        log = commands.add_parser("audit-log", help="the tamper-evident audit log")
        actions = log.add_subparsers(dest="log_action", metavar="ACTION", required=True)
        verify = actions.add_parser("verify", help="check the hash chain, entry by entry")
        verify.add_argument(
            "--expected-head", default=None,
            help="a head hash noted earlier (the anchors kept in the data directory and in the "
            "environment are checked without it)",
        )  # fmt: skip
        verify.add_argument(
            "--python", type=Path, default=None,
            help="also check the anchor of this interpreter's environment "
            "(default: anya-ext's own)",
        )  # fmt: skip
        verify.set_defaults(handler=log_verify_command)


def _configuration(args: argparse.Namespace) -> Configuration:
    from anya_plugins.api.configuration import Configuration

    return Configuration.from_user(args.config_overrides)


def audit_command(args: argparse.Namespace) -> int:
    from anya_plugins.api.audit import VulnerabilityScanner
    from anya_plugins.errors import UsageError

    if (args.from_file is not None or args.allow_old) and not args.update:
        raise UsageError("--from and --allow-old go with --update")
    audit = VulnerabilityScanner(_configuration(args)).audit(
        args.python, update=args.update, from_file=args.from_file, allow_old=args.allow_old
    )
    report, update = audit.report, audit.update
    if update is not None and not args.json:
        newest = update.newest_modified.date().isoformat() if update.newest_modified else "-"
        old = " (older than audit.max_database_age_days: --allow-old)" if update.allowed_old else ""
        render.say(
            f"advisories: {update.records} records from {update.origin} stored in {update.path}, "
            f"newest modified {newest}{old}"
        )
    if args.json:
        document = report if update is None else {"update": update, **asdict(report)}
        render.say(render.to_json(document))
    elif report.findings:
        render.table(
            None,
            ("package", "version", "advisory", "severity", "fixed in"),
            [
                (
                    f.package,
                    f.version,
                    f.advisory,
                    f.severity.level if f.severity else "unknown",
                    ", ".join(f.fixed_versions) or "-",
                )
                for f in report.findings
            ],
        )
    else:
        render.say(f"{report.packages} packages, no known vulnerabilities ({report.advisories})")
    return 0 if report.ok else 1


def sbom_command(args: argparse.Namespace) -> int:
    from anya_plugins.api.audit import VulnerabilityScanner

    document = VulnerabilityScanner(_configuration(args)).sbom(args.python)
    if args.output is None:
        print(document)
    else:
        args.output.write_text(document)
        render.say(f"wrote {args.output}")
    return 0


def log_verify_command(args: argparse.Namespace) -> int:
    from anya_plugins.api.audit import AuditTrail

    report = AuditTrail(_configuration(args)).verify(args.python, expected_head=args.expected_head)
    if args.json:
        render.say(render.to_json(report))
    elif report.ok:
        anchored = f", agrees with {len(report.anchored)} anchor(s)" if report.anchored else ""
        render.say(
            f"{report.path}: {report.entries} entries, chain intact "
            f"(head {f'#{report.head_seq} {report.head}' if report.head else 'none'}{anchored})"
        )
    else:
        for problem in report.problems:
            render.error(f"{report.path}:{problem.line}: {problem.kind}: {problem.message}")
    return 0 if report.ok else 1
