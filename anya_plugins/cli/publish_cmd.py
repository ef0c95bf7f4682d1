"""``anya-ext publish``: check, sign and upload distributions (building projects first)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from anya_plugins.cli import render


def register(commands: argparse._SubParsersAction[Any]) -> None:
    publish = commands.add_parser("publish", help="check, sign and upload extensions")
    publish.add_argument("targets", nargs="*", type=Path, default=[Path()],
                         help="wheels, sdists or project directories (default: .)")  # fmt: skip
    publish.add_argument("--index", default="anya/primary", help="devpi index, e.g. acme/private")
    publish.add_argument("--url", default=None, help="registry URL (default: the embedded one)")
    publish.add_argument("--user", default=None, help="default: the index owner")
    publish.set_defaults(handler=publish_command)


def publish_command(args: argparse.Namespace) -> int:
    from anya_plugins.errors import UsageError
    from anya_plugins.publish.publishing import collect, publish
    from anya_plugins.registry.devpi import Credentials
    from anya_plugins.registry.embedded import registry_status, user_credentials

    user = args.user or args.index.split("/", 1)[0]
    url = args.url
    credentials: Credentials | None
    password = os.environ.get("ANYA_PUBLISH_PASSWORD")
    if password:
        credentials = Credentials(user, password)
    elif url is None:
        credentials = user_credentials(user)
    else:
        credentials = None
    if url is None:
        current = registry_status()
        if not current.running:
            raise UsageError("the embedded registry is not running", hint="anya-ext registry up")
        url = str(current.url)
    if credentials is None:
        raise UsageError(f"no password for {user}", hint="export ANYA_PUBLISH_PASSWORD=<password>")
    files = collect(args.targets)
    result = publish(files, registry_url=url, index=args.index, credentials=credentials, sign=None)
    if args.json:
        render.say(render.to_json(result))
    else:
        render.table(
            None,
            ("file", "category", "sha256"),
            [(f.filename, f.category, f.sha256[:16]) for f in result.files],
        )
        render.say(f"published {len(result.files)} file(s) to {result.repository_url}")
    return 0
