"""``anya-ext publish``: check, sign and upload distributions (building projects first)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from anya_plugins.cli import render
from anya_plugins.cli.accounts import registry_options, signed_in


def register(commands: argparse._SubParsersAction[Any], only: str | None = None) -> None:
    """Add this module's commands; ``only``: just that one (the command being run)."""
    if only in (None, "publish"):
        publish = commands.add_parser("publish", help="check, sign and upload extensions")
        publish.add_argument("targets", nargs="*", type=Path, default=[Path()],
                             help="wheels, sdists or project directories (default: .)")  # fmt: skip
        registry_options(publish)
        _signing_options(publish)
        publish.add_argument(
            "--no-sign",
            action="store_true",
            help="upload without attestations (indexes may refuse)",
        )
        publish.set_defaults(handler=publish_command)

    if only in (None, "sign"):
        sign = commands.add_parser("sign", help="make Sigstore bundles for distribution files")
        sign.add_argument("files", nargs="+", type=Path)
        _signing_options(sign)
        sign.add_argument(
            "--attest", action="store_true", help="PEP 740 attestations instead of plain bundles"
        )
        sign.set_defaults(handler=sign_command)


def _signing_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--identity-token", default=os.environ.get("ANYA_IDENTITY_TOKEN"),
        help="OIDC token (default: $ANYA_IDENTITY_TOKEN, then the CI's ambient credential)",
    )  # fmt: skip
    parser.add_argument(
        "--trust-config", type=Path, default=_env_path("ANYA_SIGSTORE_TRUST_CONFIG"),
        help="Sigstore client trust config (default: the public-good instance)",
    )  # fmt: skip
    parser.add_argument(
        "--interactive", action="store_true", help="sign in through the browser if needed"
    )


def _env_path(variable: str) -> Path | None:
    value = os.environ.get(variable)
    return Path(value) if value else None


def sign_command(args: argparse.Namespace) -> int:
    from anya_plugins.trust.signing import attest_files, sign_files

    make = attest_files if args.attest else sign_files
    written = make(
        args.files,
        identity_token=args.identity_token,
        trust_config=args.trust_config,
        interactive=args.interactive,
    )
    if args.json:
        render.say(render.to_json([str(path) for path in written]))
    else:
        for path in written:
            render.say(f"wrote {path}")
    return 0


def publish_command(args: argparse.Namespace) -> int:
    from anya_plugins.api.registry import RegistryClient, Signing

    account = signed_in(args)
    signing = Signing(args.identity_token, args.trust_config, args.interactive)
    result = RegistryClient.publish(
        args.targets,
        registry_url=account.url,
        index=account.index,
        credentials=account.credentials,
        signing=None if args.no_sign else signing,
    )
    if args.json:
        render.say(render.to_json(result))
    else:
        render.table(
            None,
            ("file", "category", "sha256", "attestation"),
            [
                (f.filename, f.category, f.sha256[:16], "yes" if f.signature else "no")
                for f in result.files
            ],
        )
        render.say(f"published {len(result.files)} file(s) to {result.repository_url}")
    return 0
