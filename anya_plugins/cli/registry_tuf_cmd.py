"""``anya-ext registry tuf init|rotate``: the TUF key ceremony (docs/howto.md).

Run on a machine that holds the offline directory (root and top-level targets keys); copy
the TUF directory (online keys and the signed root and targets) to the server, which runs
with ``--anya-tuf DIR``, and give clients ``metadata/1.root.json`` as ``tuf_root``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from anya_plugins.cli import render

if TYPE_CHECKING:
    from anya_plugins.registry.tuf_repository import TufCeremony


def register(actions: argparse._SubParsersAction[Any]) -> None:
    tuf = actions.add_parser("tuf", help="TUF metadata keys: create them, rotate one")
    verbs = tuf.add_subparsers(dest="tuf_action", metavar="ACTION", required=True)

    init = verbs.add_parser("init", help="generate every key; sign root and targets")
    _add_directories(init)
    init.add_argument(
        "--index", action="append", required=True, metavar="USER/INDEX",
        help="an index to sign metadata for (repeatable)",
    )  # fmt: skip
    init.set_defaults(handler=init_command)

    rotate = verbs.add_parser(
        "rotate", help="a new key for one role (an index not delegated yet is added)"
    )
    rotate.add_argument("role", help="root, targets, snapshot, timestamp or USER/INDEX")
    _add_directories(rotate)
    rotate.set_defaults(handler=rotate_command)


def _add_directories(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dir", type=Path, required=True, dest="tuf_dir",
        help="the server's TUF directory (online keys, signed root and targets)",
    )  # fmt: skip
    parser.add_argument(
        "--offline-dir", type=Path, required=True,
        help="where the root and targets keys live (keep it offline)",
    )  # fmt: skip


def init_command(args: argparse.Namespace) -> int:
    from anya_plugins.registry.tuf_repository import init_repository

    _show(init_repository(args.tuf_dir, args.offline_dir, args.index), args.json)
    return 0


def rotate_command(args: argparse.Namespace) -> int:
    from anya_plugins.registry.tuf_repository import rotate_key

    _show(rotate_key(args.tuf_dir, args.offline_dir, args.role), args.json)
    return 0


def _show(ceremony: TufCeremony, as_json: bool) -> None:
    if as_json:
        render.say(render.to_json(ceremony))
        return
    render.say(f"new keys: {', '.join(ceremony.rotated)}")
    render.say(f"root version {ceremony.root_version}, targets version {ceremony.targets_version}")
    render.say(f"indexes signed for: {', '.join(ceremony.indexes) or 'none'}")
    render.say(f"server: devpi-server --anya-tuf {ceremony.directory} (the online keys)")
    render.say(f"clients: tuf_root = {ceremony.trusted_root} (give it out with the source URL)")
    render.say(f"keep {ceremony.offline_dir} offline: it holds the root and targets keys")
