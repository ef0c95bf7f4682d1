"""``verify FILE``: check any local file's signature, as ``sigstore verify identity`` does.

``anya-ext verify`` re-checks installed extensions by name; given one existing file instead, it
verifies that file (:func:`anya_plugins.trust.artifact.verify_artifact`). Exit 0 verified,
13 refused (the message names the format read, the signer found and the one expected).
Offline (``--offline``, or ``[trust] offline = true`` in the configuration), a trusted root
older than ``[trust] max_root_age_days`` is refused as the installer refuses it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from anya_plugins.cli import render
from anya_plugins.errors import UsageError

Handler = Callable[[argparse.Namespace], int]

_FILE_OPTIONS = {
    "bundle": "--bundle",
    "attestation": "--attestation",
    "provenance": "--provenance",
    "identity": "--identity",
    "issuer": "--issuer",
    "trusted_root": "--trusted-root",
    "offline": "--offline",
}


def add_file_options(verify: argparse.ArgumentParser) -> None:
    """The options of ``verify FILE``, on the ``verify`` parser."""
    documents = verify.add_mutually_exclusive_group()
    documents.add_argument(
        "--bundle", type=Path, metavar="B",
        help="FILE's Sigstore bundle (.sigstore.json, .sigstore): message signature or DSSE",
    )  # fmt: skip
    documents.add_argument(
        "--attestation", type=Path, metavar="A", help="FILE's PEP 740 attestation object"
    )
    documents.add_argument(
        "--provenance", type=Path, metavar="P",
        help="FILE's PEP 740 provenance object, as an index serves it",
    )  # fmt: skip
    verify.add_argument("--identity", metavar="ID", help="the signer FILE must be signed by")
    verify.add_argument("--issuer", metavar="URL", help="the OIDC issuer that vouched for ID")
    roots = verify.add_mutually_exclusive_group()
    roots.add_argument(
        "--trusted-root", type=Path, metavar="R",
        help="a Sigstore trusted root file (default: the public-good root, through TUF)",
    )  # fmt: skip
    roots.add_argument(
        "--offline", action="store_true",
        help="use the public-good root as last fetched, with no network call",
    )  # fmt: skip


def routed(by_name: Handler) -> Handler:
    """``verify FILE`` when the one name given is an existing file, ``by_name`` otherwise."""

    def handler(args: argparse.Namespace) -> int:
        if len(args.names) == 1 and Path(args.names[0]).is_file():
            return verify_file_command(args)
        used = [flag for dest, flag in _FILE_OPTIONS.items() if getattr(args, dest)]
        if used:
            raise UsageError(
                f"{', '.join(used)}: only for verify FILE, and "
                f"{' '.join(args.names) or 'no file'} is not one existing file",
                hint="anya-ext verify FILE --identity ID --issuer URL [--bundle B]",
            )
        return by_name(args)

    return handler


def verify_file_command(args: argparse.Namespace) -> int:
    from anya_plugins.api.configuration import Configuration
    from anya_plugins.api.verification import Verifier
    from anya_plugins.trust.errors import TrustError

    if args.everything:
        raise UsageError("verify FILE checks one file: --all does not apply")
    if not args.identity or not args.issuer:
        raise UsageError(
            "verify FILE needs --identity and --issuer: who must have signed it",
            hint="e.g. --identity https://github.com/OWNER/REPO/.github/workflows/release.yml"
            "@refs/tags/v1.0 --issuer https://token.actions.githubusercontent.com",
        )
    verifier = Verifier(Configuration.from_user(args.config_overrides))
    result = verifier.verify_identity(
        Path(args.names[0]),
        identity=args.identity,
        issuer=args.issuer,
        bundle=args.bundle,
        attestation=args.attestation,
        provenance=args.provenance,
        trusted_root=args.trusted_root,
        offline=args.offline,
    )
    if args.json:
        render.say(render.to_json(result))
    else:
        found = f"{result.identity} (issuer {result.issuer})" if result.identity else "-"
        render.table(
            None,
            ("file", "signature", "format", "signer", "verified"),
            [
                (str(result.path), str(result.signature),
                 result.format.description if result.format else "unreadable",
                 found, "yes" if result.ok else "REFUSED")
            ],
        )  # fmt: skip
    if result.ok:
        return 0
    render.error(f"{result.path.name}: {result.problem}", result.hint)
    return TrustError.exit_code
