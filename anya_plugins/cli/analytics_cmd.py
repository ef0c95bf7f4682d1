"""``anya-ext analytics``: opt in or out of usage events, reset the installation id, send the
queue, and read the registry's aggregate report; and the one-time question on a terminal."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from anya_plugins.cli import render

if TYPE_CHECKING:
    from anya_plugins.config.layers import LayeredConfig


def register(commands: argparse._SubParsersAction[Any], only: str | None = None) -> None:
    """Add this module's one command (``only`` is it, or None for every command)."""
    analytics = commands.add_parser("analytics", help="usage analytics (opt-in) and reports")
    actions = analytics.add_subparsers(dest="analytics_action", metavar="ACTION", required=True)
    for name, help_text, handler in (
        ("status", "whether events are shared, the installation id, the queue", status_command),
        ("on", "share anonymous usage events with the registry", on_command),
        ("off", "stop sharing (queued events are dropped)", off_command),
        ("reset-id", "a new random installation id (queued events are dropped)", reset_command),
        ("send", "send the queued events now", send_command),
    ):
        action = actions.add_parser(name, help=help_text)
        action.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
        action.set_defaults(handler=handler)
    report = actions.add_parser("report", help="the registry's aggregate report")
    report.add_argument("--last", default="30d", metavar="Nd", help="the period, e.g. 30d")
    report.add_argument(
        "--group-by", default="category",
        choices=("category", "extension", "platform", "source", "day"),
    )  # fmt: skip
    report.add_argument(
        "--metrics", default="downloads,installations,active_users",
        help="comma-separated: downloads, installations, updates, uninstalls, active_users",
    )  # fmt: skip
    report.add_argument("--registry", default=None, metavar="URL", help="default: analytics.url")
    report.add_argument("--html", action="store_true", help="an HTML page with charts")
    report.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    report.set_defaults(handler=report_command)


def _config(args: argparse.Namespace) -> LayeredConfig:
    from anya_plugins.api.configuration import Configuration

    return Configuration.from_user(args.config_overrides).layered()


def status_command(args: argparse.Namespace) -> int:
    from anya_plugins.analytics.status import analytics_status

    status = analytics_status(_config(args))
    if args.json:
        render.say(render.to_json(status))
        return 0
    render.table(
        None,
        ("field", "value"),
        [
            ("sharing", "on" if status.enabled else "off"),
            ("sharing in this process", "yes" if status.sharing_now else "no"),
            ("installation id", status.installation_id or "-"),
            ("queued events", str(status.queued)),
            ("registry", status.registry or "-"),
        ],
    )
    return 0


def on_command(args: argparse.Namespace) -> int:
    return _switched(args, True)


def off_command(args: argparse.Namespace) -> int:
    return _switched(args, False)


def _switched(args: argparse.Namespace, enabled: bool) -> int:
    from anya_plugins.analytics.status import switch

    consent = switch(enabled)
    if args.json:
        render.say(render.to_json(consent))
    else:
        render.say(f"usage analytics {'on' if consent.enabled else 'off'}")
    return 0


def reset_command(args: argparse.Namespace) -> int:
    from anya_plugins.analytics.consent import reset_installation_id

    consent = reset_installation_id()
    render.say(render.to_json(consent) if args.json else f"new id {consent.installation_id}")
    return 0


def send_command(args: argparse.Namespace) -> int:
    from anya_plugins.analytics.status import send_now

    result = send_now(_config(args))
    if args.json:
        render.say(render.to_json(result))
    else:
        render.say(f"sent {result.sent}, {result.pending} queued" +
                   (f" ({result.error})" if result.error else ""))  # fmt: skip
    return 0 if result.error is None else 1


def report_command(args: argparse.Namespace) -> int:
    from anya_plugins.analytics.remote import fetch_report

    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
    report = fetch_report(
        _config(args), registry=args.registry, last=args.last, group_by=args.group_by,
        metrics=metrics,
    )  # fmt: skip
    if args.json:
        render.say(render.to_json(report))
    elif args.html:
        from anya_plugins.analytics.report_html import report_html

        render.say(report_html(report))
    else:
        render.table(
            f"last {report.last_days} days to {report.until} (min group {report.min_group})",
            (report.group_by, *report.metrics),
            [
                (line.group, *("withheld" if (v := line.values.get(m)) is None else str(v)
                               for m in report.metrics))
                for line in report.rows
            ],
        )  # fmt: skip
    return 0


def ask_consent_once() -> None:
    """The one question, on a terminal, outside CI, before the first install or update."""
    from anya_plugins.analytics.consent import QUESTION, set_enabled, should_ask

    if not should_ask():
        return
    print(QUESTION, end="", file=sys.stderr, flush=True)
    try:
        answer = input()
    except EOFError:
        answer = ""
    set_enabled(answer.strip().lower() in ("y", "yes"))
