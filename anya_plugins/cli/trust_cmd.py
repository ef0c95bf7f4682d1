"""``anya-ext trust pins`` and ``anya-ext trust repin``: the publisher each extension is
pinned to (trust on first use), listed, and changed deliberately; ``anya-ext trust
add-publisher``: a publisher written to the user configuration's trust policy."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from anya_plugins.cli import render

if TYPE_CHECKING:
    from anya_plugins.api.installer import Installer


def register(commands: argparse._SubParsersAction[Any], only: str | None = None) -> None:
    """Add this module's one command (``only`` is it, or None for every command)."""
    trust = commands.add_parser("trust", help="the publishers extensions are pinned to")
    actions = trust.add_subparsers(dest="trust_action", metavar="ACTION", required=True)

    pins = actions.add_parser("pins", help="list the pinned publishers of an environment")
    pins.add_argument("--python", type=Path, default=None, help="the environment's interpreter")
    pins.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    pins.set_defaults(handler=pins_command)

    repin = actions.add_parser(
        "repin", help="pin an extension to another publisher (recorded in the audit log)"
    )
    repin.add_argument("name", metavar="NAME", help="the extension (or distribution)")
    repin.add_argument("--identity", required=True, metavar="ID", help="the new signer")
    repin.add_argument(
        "--issuer", default=None, metavar="URL",
        help="the OIDC issuer that vouches for ID (default: the pinned one)",
    )  # fmt: skip
    repin.add_argument("--python", type=Path, default=None, help="the environment's interpreter")
    repin.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    repin.set_defaults(handler=repin_command)

    add = actions.add_parser(
        "add-publisher", help="trust a publisher: write it to the user configuration file"
    )
    add.add_argument("identity", metavar="IDENTITY", help="the signer (e-mail or URI), or a glob")
    add.add_argument("--issuer", required=True, metavar="URL", help="the OIDC issuer, exact")
    add.add_argument(
        "--names", required=True, action="append", metavar="GLOB",
        help="distribution names it may sign (repeatable)",
    )  # fmt: skip
    add.add_argument(
        "--org", default=None, metavar="ORG",
        help="only for the source enterprise.ORG (its allowed_publishers)",
    )  # fmt: skip
    add.add_argument(
        "--sources", action="append", default=None, metavar="GLOB",
        help="the sources it applies to (repeatable; default every source)",
    )  # fmt: skip
    add.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    add.set_defaults(handler=add_publisher_command)


def _installer(args: argparse.Namespace) -> Installer:
    from anya_plugins.api.configuration import Configuration
    from anya_plugins.api.installer import Installer

    return Installer(Configuration.from_user(args.config_overrides), python=args.python)


def pins_command(args: argparse.Namespace) -> int:
    listing = _installer(args).publisher_pins()
    if args.json:
        render.say(render.to_json(listing))
    elif listing.pins:
        render.table(
            f"publisher pins of {listing.environment}",
            ("extension", "identity", "issuer", "pinned at"),
            [(p.name, p.identity, p.issuer or "-", p.pinned_at) for p in listing.pins],
        )
    else:
        render.say(f"no publisher pins in {listing.environment}")
    return 0


def repin_command(args: argparse.Namespace) -> int:
    done = _installer(args).repin(args.name, args.identity, issuer=args.issuer)
    if args.json:
        render.say(render.to_json(done))
    else:
        before = f"from {done.previous} " if done.previous is not None else ""
        render.say(f"{done.name}: pinned {before}to {done.pin} (recorded in the audit log)")
    return 0


def add_publisher_command(args: argparse.Namespace) -> int:
    from anya_plugins.config.paths import user_config_path
    from anya_plugins.trust.publisher_config import add_publisher

    done = add_publisher(
        user_config_path(), args.identity, args.issuer, args.names,
        org=args.org, sources=args.sources,
    )  # fmt: skip
    if args.json:
        render.say(render.to_json(done))
    elif done.added:
        render.say(f"{done.publisher} may sign {', '.join(done.publisher.names)}: "
                   f"added to {done.key} in {done.path}")  # fmt: skip
    else:
        render.say(f"{done.publisher} is already in {done.key} in {done.path}")
    return 0
