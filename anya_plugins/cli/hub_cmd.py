"""``anya-ext review``, ``reviews`` and ``collection``: the registry's community hub.

The hub is the configured source's index (``--source``, default ``primary``), or ``--url``
and ``--index``; writing signs in as ``--user`` with ``$ANYA_PUBLISH_PASSWORD``, or with the
credentials in the source's URL.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from anya_plugins.cli import render

if TYPE_CHECKING:
    from anya_plugins.api.hub import Hub
    from anya_plugins.sources.hub import Aggregate

PASSWORD_VARIABLE = "ANYA_PUBLISH_PASSWORD"


def register(commands: argparse._SubParsersAction[Any], only: str | None = None) -> None:
    """Add this module's commands; ``only``: just that one (the command being run)."""
    if only in (None, "review"):
        review = commands.add_parser("review", help="rate and review an extension (one per user)")
        review.add_argument("name")
        review.add_argument("--rating", type=int, required=True, help="1 to 5")
        review.add_argument("--title", required=True)
        review.add_argument("--body", default="")
        review.add_argument("--version", default=None, help="default: the installed one, or latest")
        review.add_argument(
            "--python", type=Path, default=None, help="the environment it is installed in"
        )
        review.add_argument(
            "--unverified", action="store_true", help="send no install proof (download receipt)"
        )
        _hub_options(review)
        review.set_defaults(handler=review_command)

    if only in (None, "reviews"):
        reviews = commands.add_parser("reviews", help="an extension's ratings and reviews")
        reviews.add_argument("name")
        _hub_options(reviews)
        reviews.set_defaults(handler=reviews_command)

    if only in (None, "collection"):
        collection = commands.add_parser("collection", help="curated collections of extensions")
        verbs = collection.add_subparsers(dest="verb", metavar="VERB", required=True)
        listing = verbs.add_parser("list", help="the hub's collections")
        _hub_options(listing)
        listing.set_defaults(handler=collection_list_command)
        show = verbs.add_parser("show", help="a collection's members")
        show.add_argument("collection")
        _hub_options(show)
        show.set_defaults(handler=collection_show_command)
        install = verbs.add_parser("install", help="install every member in one transaction")
        install.add_argument("collection")
        install.add_argument(
            "--python", type=Path, default=None, help="install into this interpreter"
        )
        install.add_argument("--dry-run", action="store_true")
        _hub_options(install)
        install.set_defaults(handler=collection_install_command)
        publish = verbs.add_parser(
            "publish", help="publish a new version of a collection (curators)"
        )
        publish.add_argument("collection")
        publish.add_argument("--title", required=True)
        publish.add_argument("--description", default="")
        publish.add_argument("members", nargs="+", metavar="SPEC", help="e.g. wallet@>=1.2,<2")
        _hub_options(publish)
        publish.set_defaults(handler=collection_publish_command)


def _hub_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--source", default="primary", help="the configured source whose index is the hub"
    )
    parser.add_argument("--url", default=None, help="registry URL (with --index)")
    parser.add_argument("--index", default=None, help="user/index, e.g. anya/primary")
    parser.add_argument(
        "--user", default=None, help="sign in as (password: $ANYA_PUBLISH_PASSWORD)"
    )


def hub_of(args: argparse.Namespace) -> Hub:
    from anya_plugins.api.configuration import Configuration
    from anya_plugins.api.hub import Hub
    from anya_plugins.errors import UsageError

    password = os.environ.get(PASSWORD_VARIABLE) if args.user else None
    if args.url or args.index:
        if not (args.url and args.index):
            raise UsageError(
                "--url and --index go together", hint="e.g. --url URL --index anya/primary"
            )
        return Hub(args.url, args.index, user=args.user, password=password)
    configuration = Configuration.from_user(args.config_overrides)
    return Hub.from_source(configuration, args.source, user=args.user, password=password)


def review_command(args: argparse.Namespace) -> int:
    result = hub_of(args).review(
        args.name, rating=args.rating, title=args.title, body=args.body, version=args.version,
        python=args.python, verified=not args.unverified,
    )  # fmt: skip
    if args.json:
        render.say(render.to_json(result))
        return 0
    proof = f", verified install ({result.receipt_from})" if result.review.verified else ""
    edited = f" (edit {result.review.edits})" if result.review.edits else ""
    shown = f"{result.project} {result.review.version}: {result.review.rating}/5"
    render.say(f"reviewed {shown}{proof}{edited}")
    return 0


def reviews_command(args: argparse.Namespace) -> int:
    found = hub_of(args).reviews(args.name)
    if args.json:
        render.say(render.to_json(found))
        return 0
    render.say(f"{found.project}: {_aggregate(found.overall)}")
    for version, aggregate in found.by_version.items():
        render.say(f"  {version}: {_aggregate(aggregate)}")
    if found.reviews:
        render.table(
            None,
            ("rating", "title", "by", "version", "verified", "helpful"),
            [
                (
                    f"{r.rating}/5",
                    r.title,
                    r.user,
                    r.version,
                    "yes" if r.verified else "-",
                    str(r.helpful),
                )
                for r in found.reviews
            ],
        )
    return 0


def _aggregate(aggregate: Aggregate) -> str:
    if not aggregate.count:
        return "no ratings"
    stars = " ".join(f"{k}:{v}" for k, v in sorted(aggregate.distribution.items()))
    return f"{aggregate.mean}/5 from {aggregate.count} rating(s) ({stars})"


def collection_list_command(args: argparse.Namespace) -> int:
    collections = hub_of(args).collections()
    if args.json:
        render.say(render.to_json(collections))
    elif collections:
        render.table(
            None,
            ("name", "version", "title", "curator", "members"),
            [(c.name, str(c.version), c.title, c.owner, str(len(c.members))) for c in collections],
        )
    else:
        render.say("no collections")
    return 0


def collection_show_command(args: argparse.Namespace) -> int:
    found = hub_of(args).collection(args.collection)
    if args.json:
        render.say(render.to_json(found))
        return 0
    render.say(f"{found.title} ({found.name} v{found.version}, curated by {found.owner})")
    if found.description:
        render.say(found.description)
    render.table(
        None,
        ("extension", "versions", "features", "install spec"),
        [(m.name, m.specifier or "any", ", ".join(m.features) or "-", m.spec())
         for m in found.members],
    )  # fmt: skip
    return 0


def collection_install_command(args: argparse.Namespace) -> int:
    from anya_plugins.api.configuration import Configuration
    from anya_plugins.api.installer import Installer, InstallOptions
    from anya_plugins.cli.progress import download_progress

    configuration = Configuration.from_user(args.config_overrides)
    with download_progress(not args.json) as progress:
        installer = Installer(configuration, python=args.python, progress=progress)
        result = hub_of(args).install_collection(
            args.collection, installer, InstallOptions(source=args.source, dry_run=args.dry_run)
        )
    if args.json:
        render.say(render.to_json(result))
        return 0
    changes = result.report.changes
    verb = "would install" if args.dry_run else "installed"
    render.say(
        f"{verb} collection {result.collection.name} v{result.collection.version}: "
        f"{len(changes)} distribution(s), every file verified first"
    )
    for change in changes:
        render.say(f"  {change.name} {change.old_version or '-'} -> {change.new_version or '-'}")
    return 0


def collection_publish_command(args: argparse.Namespace) -> int:
    found = hub_of(args).publish_collection(
        args.collection, title=args.title, members=args.members, description=args.description
    )
    if args.json:
        render.say(render.to_json(found))
    else:
        render.say(f"published {found.name} v{found.version} ({len(found.members)} members)")
    return 0
