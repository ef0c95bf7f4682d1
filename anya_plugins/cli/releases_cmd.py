"""``anya-ext yank``, ``unyank``, ``deprecate`` and ``delete``: releases over time on a registry.

``deprecate NAME==VERSION`` deprecates one release; ``deprecate NAME`` the project (its PEP 792
status). ``--undo`` lifts either.

Signed in like ``anya-ext publish``: ``$ANYA_PUBLISH_PASSWORD`` for ``--user`` (default: the
index owner), else the stored password of the embedded registry's layout user.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from anya_plugins.cli import render
from anya_plugins.cli.accounts import registry_options, signed_in

if TYPE_CHECKING:
    from anya_plugins.api.releases import ReleaseManager
    from anya_plugins.registry.releases import ReleaseChange


def register(commands: argparse._SubParsersAction[Any], only: str | None = None) -> None:
    """Add this module's commands; ``only``: just that one (the command being run)."""
    if only in (None, "yank"):
        yank = commands.add_parser(
            "yank", help="yank a release (PEP 592): installed only when pinned exactly"
        )
        _release_argument(yank)
        yank.add_argument("--reason", default="", help="why (shown by installers and search)")
        yank.set_defaults(handler=yank_command)

    if only in (None, "unyank"):
        unyank = commands.add_parser(
            "unyank", help="serve a yanked release as an ordinary one again"
        )
        _release_argument(unyank)
        unyank.set_defaults(handler=unyank_command)

    if only in (None, "deprecate"):
        deprecate = commands.add_parser(
            "deprecate",
            help="deprecate a release (NAME==VERSION) or a whole project (NAME: PEP 792 status)",
        )
        deprecate.add_argument("target", metavar="NAME[==VERSION]")
        message = deprecate.add_mutually_exclusive_group(required=True)
        message.add_argument(
            "--message", help="shown by search, info and install, e.g. 'use anya-ext-foo instead'"
        )
        message.add_argument("--undo", action="store_true", help="lift the deprecation")
        registry_options(deprecate)
        deprecate.set_defaults(handler=deprecate_command)

    if only in (None, "delete"):
        delete = commands.add_parser("delete", help="delete a release (volatile indexes only)")
        _release_argument(delete)
        delete.set_defaults(handler=delete_command)


def _release_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("release", metavar="NAME==VERSION")
    registry_options(parser)


def yank_command(args: argparse.Namespace) -> int:
    name, version = _release(args.release)
    return _report(args, _manager(args).yank(name, version, reason=args.reason))


def unyank_command(args: argparse.Namespace) -> int:
    name, version = _release(args.release)
    return _report(args, _manager(args).unyank(name, version))


def deprecate_command(args: argparse.Namespace) -> int:
    name, version = _release(args.target) if "=" in args.target else (args.target.strip(), None)
    message = None if args.undo else args.message
    return _report(args, _manager(args).deprecate(name, message, version=version))


def delete_command(args: argparse.Namespace) -> int:
    name, version = _release(args.release)
    return _report(args, _manager(args).delete(name, version))


def _release(text: str) -> tuple[str, str]:
    """``NAME==VERSION``, nothing else (a release is one exact version)."""
    from anya_plugins.errors import UsageError

    name, separator, version = text.partition("==")
    if not separator or not name.strip() or not version.strip() or "=" in version:
        raise UsageError(f"{text!r} is not NAME==VERSION", hint="e.g. anya-ext-wallet==1.2.0")
    return name.strip(), version.strip()


def _manager(args: argparse.Namespace) -> ReleaseManager:
    from anya_plugins.api.releases import ReleaseManager

    return ReleaseManager(signed_in(args))


def _report(args: argparse.Namespace, change: ReleaseChange) -> int:
    if args.json:
        render.say(render.to_json(change))
        return 0
    release = change.project if change.version is None else f"{change.project}=={change.version}"
    done = {
        "yank": "yanked", "unyank": "un-yanked", "deprecate": "deprecated",
        "undeprecate": "no longer deprecated", "delete": "deleted",
        "status": f"now {change.status}",
    }[change.action]  # fmt: skip
    detail = f": {change.message}" if change.message else ""
    render.say(f"{release} {done} on {change.index}{detail}")
    return 0
