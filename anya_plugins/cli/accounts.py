"""The options that sign a command in to a registry index (``publish``, ``yank``...)."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from anya_plugins.api.releases import RegistryAccount

PASSWORD_VARIABLE = "ANYA_PUBLISH_PASSWORD"


def registry_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--index", default="anya/primary", help="devpi index, e.g. acme/private")
    parser.add_argument("--url", default=None, help="registry URL (default: the embedded one)")
    parser.add_argument("--user", default=None, help="default: the index owner")


def signed_in(args: argparse.Namespace) -> RegistryAccount:
    """``--user`` with ``$ANYA_PUBLISH_PASSWORD`` on ``--index`` of ``--url`` (default: the
    embedded registry and the password it stored)."""
    from anya_plugins.api.releases import RegistryAccount

    return RegistryAccount.sign_in(
        args.index, url=args.url, user=args.user, password=os.environ.get(PASSWORD_VARIABLE)
    )
