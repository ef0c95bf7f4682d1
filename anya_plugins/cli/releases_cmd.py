"""``anya-ext yank``, ``unyank``, ``deprecate`` and ``delete``: releases over time on a registry.

``deprecate NAME==VERSION`` deprecates one release; ``deprecate NAME`` the project (its PEP 792
status). ``--undo`` lifts either.

Signed in like ``anya-ext publish``: ``$ANYA_PUBLISH_PASSWORD`` for ``--user`` (default: the
index owner), else the stored password of the embedded registry's layout user.
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

from anya_plugins.cli import render

if TYPE_CHECKING:
    from anya_plugins.registry.devpi import Credentials
    from anya_plugins.registry.releases import ReleaseChange


def register(commands: argparse._SubParsersAction[Any]) -> None:
    yank = commands.add_parser(
        "yank", help="yank a release (PEP 592): installed only when pinned exactly"
    )
    _release_argument(yank)
    yank.add_argument("--reason", default="", help="why (shown by installers and search)")
    yank.set_defaults(handler=yank_command)

    unyank = commands.add_parser("unyank", help="serve a yanked release as an ordinary one again")
    _release_argument(unyank)
    unyank.set_defaults(handler=unyank_command)

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
    _registry_options(deprecate)
    deprecate.set_defaults(handler=deprecate_command)

    delete = commands.add_parser("delete", help="delete a release (volatile indexes only)")
    _release_argument(delete)
    delete.set_defaults(handler=delete_command)


def _release_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("release", metavar="NAME==VERSION")
    _registry_options(parser)


def _registry_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--index", default="anya/primary", help="devpi index, e.g. acme/private")
    parser.add_argument("--url", default=None, help="registry URL (default: the embedded one)")
    parser.add_argument("--user", default=None, help="default: the index owner")


def yank_command(args: argparse.Namespace) -> int:
    from anya_plugins.registry.releases import yank

    name, version = _release(args.release)
    url, credentials = _signed_in(args)
    return _report(args, yank(url, args.index, name, version, credentials, reason=args.reason))


def unyank_command(args: argparse.Namespace) -> int:
    from anya_plugins.registry.releases import unyank

    name, version = _release(args.release)
    url, credentials = _signed_in(args)
    return _report(args, unyank(url, args.index, name, version, credentials))


def deprecate_command(args: argparse.Namespace) -> int:
    from anya_plugins.registry.releases import deprecate

    name, version = _release(args.target) if "=" in args.target else (args.target.strip(), None)
    url, credentials = _signed_in(args)
    message = None if args.undo else args.message
    change = deprecate(url, args.index, name, credentials, message=message, version=version)
    return _report(args, change)


def delete_command(args: argparse.Namespace) -> int:
    from anya_plugins.registry.releases import delete

    name, version = _release(args.release)
    url, credentials = _signed_in(args)
    return _report(args, delete(url, args.index, name, version, credentials))


def _release(text: str) -> tuple[str, str]:
    """``NAME==VERSION``, nothing else (a release is one exact version)."""
    from anya_plugins.errors import UsageError

    name, separator, version = text.partition("==")
    if not separator or not name.strip() or not version.strip() or "=" in version:
        raise UsageError(f"{text!r} is not NAME==VERSION", hint="e.g. anya-ext-wallet==1.2.0")
    return name.strip(), version.strip()


def _signed_in(args: argparse.Namespace) -> tuple[str, Credentials]:
    from anya_plugins.errors import UsageError
    from anya_plugins.registry.devpi import Credentials
    from anya_plugins.registry.embedded import registry_status, user_credentials

    user = args.user or args.index.split("/", 1)[0]
    password = os.environ.get("ANYA_PUBLISH_PASSWORD")
    credentials = Credentials(user, password) if password else None
    url = args.url
    if url is None:
        current = registry_status()
        if not current.running:
            raise UsageError("the embedded registry is not running", hint="anya-ext registry up")
        url = str(current.url)
        credentials = credentials or user_credentials(user)
    if credentials is None:
        raise UsageError(f"no password for {user}", hint="export ANYA_PUBLISH_PASSWORD=<password>")
    return url, credentials


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
