"""``anya-ext registry audit-log export|verify``: the server's audit trail (the client's own log
is ``anya-ext audit-log``).

Signed in as ``--user`` (or ``$ANYA_REGISTRY_USER``) with ``$ANYA_REGISTRY_PASSWORD`` or the
password the system keyring keeps for the registry's host.
"""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from anya_plugins.cli import render

if TYPE_CHECKING:
    from anya_plugins.registry.devpi import Credentials


def register(actions: argparse._SubParsersAction[Any]) -> None:
    trail = actions.add_parser("audit-log", help="the registry server's audit trail")
    verbs = trail.add_subparsers(dest="trail_action", metavar="ACTION", required=True)

    export = verbs.add_parser("export", help="the trail (or a period of it) as JSON lines")
    _add_server_options(export)
    export.add_argument("--since", type=_time, default=None, metavar="ISO-8601")
    export.add_argument("--until", type=_time, default=None, metavar="ISO-8601")
    export.add_argument("--output", "-o", type=Path, default=None, metavar="FILE")
    export.set_defaults(handler=export_command)

    verify = verbs.add_parser("verify", help="check the trail's hash chain, entry by entry")
    verify.add_argument(
        "file", nargs="?", type=Path, default=None,
        help="a trail file (the server's, or a complete export); without it, --url's trail",
    )  # fmt: skip
    _add_server_options(verify)
    verify.add_argument("--expected-head", default=None, help="a head hash noted earlier")
    verify.set_defaults(handler=verify_command)


def _add_server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", default=None, help="the registry (default: $ANYA_REGISTRY_URL)")
    parser.add_argument("--user", default=None, help="a reader of the trail (security, admin)")


def export_command(args: argparse.Namespace) -> int:
    from anya_plugins.registry.trail_client import download_trail

    export = download_trail(
        _url(args), _credentials(args, _url(args)), since=args.since, until=args.until
    )
    if args.output is not None:
        args.output.write_bytes(export.lines)
    if args.json:
        render.say(render.to_json(export))
    elif args.output is None:
        render.say(export.lines.decode("utf-8").rstrip("\n"))
    else:
        render.say(f"wrote {export.entries} entries to {args.output}")
    return 0


def verify_command(args: argparse.Namespace) -> int:
    from anya_plugins.registry.audit_trail import verify_trail
    from anya_plugins.registry.trail_client import verify_remote_trail

    if args.file is not None:
        report = verify_trail(args.file, expected_head=args.expected_head)
    else:
        url = _url(args)
        report = verify_remote_trail(url, _credentials(args, url), expected_head=args.expected_head)
    if args.json:
        render.say(render.to_json(report))
    elif report.ok:
        head = f"#{report.head_seq} {report.head}" if report.head else "none"
        render.say(f"{report.path}: {report.entries} entries, chain intact (head {head})")
    else:
        for problem in report.problems:
            render.error(f"{report.path}:{problem.line}: {problem.kind}: {problem.message}")
    return 0 if report.ok else 1


def _url(args: argparse.Namespace) -> str:
    from anya_plugins.errors import UsageError

    url = args.url or os.environ.get("ANYA_REGISTRY_URL")
    if not url:
        raise UsageError("which registry?", hint="pass --url URL or export ANYA_REGISTRY_URL")
    return str(url)


def _credentials(args: argparse.Namespace, url: str) -> Credentials:
    from anya_plugins.enterprise.credentials import registry_credentials

    return registry_credentials(url, args.user, os.environ)


def _time(value: str) -> datetime:
    try:
        time = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an ISO 8601 time") from None
    return time if time.tzinfo is not None else time.replace(tzinfo=UTC)
