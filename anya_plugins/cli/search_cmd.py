"""``anya-ext search`` and ``anya-ext info --remote``: what the index offers."""

from __future__ import annotations

import argparse

from anya_plugins.cli import render

TYPE_CHECKING = False  # typing costs the start-up milliseconds
if TYPE_CHECKING:
    from typing import Any

    from anya_plugins.api.registry import RegistryClient
    from anya_plugins.sources.search import RemoteExtension, SearchHit


def register(commands: argparse._SubParsersAction[Any], only: str | None = None) -> None:
    """Add this module's one command (``only`` is it, or None for every command)."""
    search = commands.add_parser("search", help="search the index by name, summary, keywords")
    search.add_argument("query", nargs="*", help="optional when --category is given")
    search.add_argument("--category", default=None, help="e.g. core/bitcoin, or just core")
    search.add_argument(
        "--min-rating", type=float, default=None, help="mean hub rating at least (0-5)"
    )
    search.add_argument(
        "--sort", choices=("relevance", "rating", "downloads", "recent"), default="relevance"
    )
    search.add_argument(
        "--source", choices=("primary", "community", "enterprise"), default="primary"
    )
    search.add_argument("--org", default=None)
    search.set_defaults(handler=search_command)


def _source(args: argparse.Namespace) -> str:
    from anya_plugins.api.configuration import Configuration
    from anya_plugins.sources.settings import source_name

    return source_name(
        getattr(args, "source", "primary"), getattr(args, "org", None),
        lambda: Configuration.from_user(args.config_overrides).layered(),
    )  # fmt: skip


def _client(args: argparse.Namespace) -> RegistryClient:
    from anya_plugins.api.configuration import Configuration
    from anya_plugins.api.registry import RegistryClient

    configuration = Configuration.from_user(args.config_overrides)
    return RegistryClient(configuration, source=_source(args))


def search_command(args: argparse.Namespace) -> int:
    if not args.query and not args.category:
        from anya_plugins.errors import UsageError

        raise UsageError("search needs a QUERY or --category", hint="e.g. search --category core")
    hits = _client(args).search(
        " ".join(args.query), category=args.category, min_rating=args.min_rating, sort=args.sort
    )
    if args.json:
        render.say(render.to_json(hits))
    elif hits:
        render.table(
            None,
            ("name", "version", "category", "rating", "summary", "index"),
            [(h.name, h.version, h.category, _rating(h), _summary(h), h.index) for h in hits],
        )
    else:
        render.say("no extension matches")
    return 0


def _rating(hit: SearchHit) -> str:
    return f"{hit.rating}/5 ({hit.ratings})" if hit.rating is not None else "-"


def _summary(hit: SearchHit) -> str:
    """The summary, then the project's status and the release's deprecation, when any."""
    notes = []
    if hit.status != "active":
        notes.append(f"[{hit.status}{f': {hit.status_reason}' if hit.status_reason else ''}]")
    if hit.deprecated is not None:
        notes.append(f"[{hit.version} deprecated{f': {hit.deprecated}' if hit.deprecated else ''}]")
    return " ".join((hit.summary, *notes))


def _deprecations(remote: RemoteExtension) -> str:
    return "; ".join(f"{v}: {m}" if m else v for v, m in remote.deprecated.items()) or "-"


def _status(remote: RemoteExtension) -> str:
    return f"{remote.status}: {remote.status_reason}" if remote.status_reason else remote.status


def remote_info_command(args: argparse.Namespace) -> int:
    remote = _client(args).info(args.name)
    if args.json:
        render.say(render.to_json(remote))
        return 0
    render.table(
        None,
        ("field", "value"),
        [
            ("name", remote.name),
            ("latest", remote.latest),
            ("versions", ", ".join(remote.versions)),
            ("status", _status(remote)),
            ("yanked", ", ".join(remote.yanked) or "-"),
            ("deprecated", _deprecations(remote)),
            ("summary", remote.summary),
            ("category", remote.category),
            ("features", ", ".join(
                f"{f}{' (default)' if f in remote.default_features else ''}"
                for f in remote.features) or "-"),
            ("platforms", ", ".join(remote.platforms)),
            ("host API", remote.host_api),
            ("source", f"{remote.source} ({remote.index_url})"),
        ],
    )  # fmt: skip
    return 0
