"""``anya-ext mirrors [--source NAME] [--json]``: which mirror each source would use, and why."""

from __future__ import annotations

import argparse
from typing import Any

from anya_plugins.cli import render


def register(commands: argparse._SubParsersAction[Any], only: str | None = None) -> None:
    """Add this module's one command (``only`` is it, or None for every command)."""
    mirrors = commands.add_parser(
        "mirrors", help="probe each source's mirrors: the order the client would use, and why"
    )
    mirrors.add_argument(
        "--source", default=None, help="one source (primary, community, enterprise.ORG)"
    )
    mirrors.set_defaults(handler=mirrors_command)


def mirrors_command(args: argparse.Namespace) -> int:
    from anya_plugins.api.configuration import Configuration
    from anya_plugins.sources.regions import explain

    configuration = Configuration.from_user(args.config_overrides)
    report = explain(configuration.sources_settings(), source=args.source)
    answered = 0 if all(source.chosen for source in report.sources) else 1
    if args.json:
        render.say(render.to_json(report))
        return answered
    if report.region:
        render.say(f"this client's region: {report.region}")
    for source in report.sources:
        render.table(
            f"{source.name}: would use {source.chosen or 'nothing (no mirror answers)'}",
            ("#", "url", "region", "up", "latency ms", "serial", "why"),
            [
                (
                    str(rank),
                    choice.url,
                    choice.region,
                    "yes" if choice.up else "no",
                    f"{choice.latency_ms:.1f}" if choice.latency_ms is not None else "-",
                    str(choice.serial) if choice.serial is not None else "-",
                    choice.reason,
                )
                for rank, choice in enumerate(source.choices, start=1)
            ],
        )
    return answered
