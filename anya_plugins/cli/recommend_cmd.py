"""``anya-ext recommend``: what to install next, and why."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from anya_plugins.cli import render


def register(commands: argparse._SubParsersAction[Any], only: str | None = None) -> None:
    """Add this module's one command (``only`` is it, or None for every command)."""
    recommend = commands.add_parser(
        "recommend", help="extensions often installed with yours, top rated, compatible here"
    )
    recommend.add_argument("--category", default=None, help="e.g. core/bitcoin, or just core")
    recommend.add_argument("--limit", type=int, default=10, metavar="N")
    recommend.add_argument(
        "--source", choices=("primary", "community", "enterprise"), default="primary"
    )
    recommend.add_argument("--org", default=None)
    recommend.add_argument(
        "--python", type=Path, default=None, help="the environment's interpreter"
    )
    recommend.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    recommend.set_defaults(handler=recommend_command)


def recommend_command(args: argparse.Namespace) -> int:
    from anya_plugins.analytics.recommending import recommend_here
    from anya_plugins.api.configuration import Configuration
    from anya_plugins.sources.settings import source_name

    config = Configuration.from_user(args.config_overrides).layered()
    result = recommend_here(
        config, python=args.python, source=source_name(args.source, args.org, config),
        category=args.category, limit=args.limit,
    )  # fmt: skip
    if args.json:
        render.say(render.to_json(result))
        return 0
    if result.note:
        render.say(result.note)
    if not result.recommendations:
        render.say("nothing to recommend for this environment")
        return 0
    render.table(
        f"for {result.platform}, host API {result.host_api}"
        + (" (cold start: popularity and ratings)" if result.cold_start else ""),
        ("name", "category", "why"),
        [(r.name, r.category, "; ".join(r.reasons)) for r in result.recommendations],
    )
    return 0
