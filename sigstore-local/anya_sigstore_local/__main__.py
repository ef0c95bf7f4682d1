"""``python -m anya_sigstore_local``: run a local Sigstore, or mint a token for one.

serve DIRECTORY   start the OIDC issuer, Fulcio and Rekor; stop with Ctrl-C or SIGTERM
token DIRECTORY IDENTITY
                  print an identity token from the instance running from DIRECTORY
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from types import FrameType

from anya_plugins.errors import AnyaError
from anya_sigstore_local.authority import DEFAULT_NAME
from anya_sigstore_local.instance import LocalSigstore, ServicePorts, issue_token


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    arguments = _parser().parse_args(argv)
    try:
        if arguments.command == "serve":
            _serve(arguments)
        else:
            token = issue_token(
                arguments.directory,
                arguments.identity,
                lifetime=timedelta(minutes=arguments.minutes),
            )
            print(token)
    except AnyaError as error:
        print(f"error: {error.message}", file=sys.stderr)
        if error.hint:
            print(f"hint: {error.hint}", file=sys.stderr)
        return error.exit_code
    return 0


def _serve(arguments: argparse.Namespace) -> None:
    ports = ServicePorts(
        oidc_issuer=arguments.oidc_port, fulcio=arguments.fulcio_port, rekor=arguments.rekor_port
    )
    stopped = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with LocalSigstore(
        arguments.directory, name=arguments.name, host=arguments.host, ports=ports
    ) as sigstore:
        print(f"OIDC issuer   {sigstore.urls.oidc_issuer}")
        print(f"Fulcio        {sigstore.urls.fulcio}")
        print(f"Rekor (v1)    {sigstore.urls.rekor}")
        print(f"trust config  {sigstore.trust_config_path}")
        print(f"trusted root  {sigstore.trusted_root_path}")
        print(
            "For tests and demos only: the keys in the directory are unencrypted, and"
            " verifiers that trust this root see no key rotation or revocation."
        )
        print("ready", flush=True)
        stopped.wait()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m anya_sigstore_local",
        description="A local Sigstore instance (OIDC issuer, Fulcio, Rekor v1) for offline use.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="run the services in the foreground")
    serve.add_argument("directory", type=Path, help="keys, log and trust files live here")
    serve.add_argument("--name", default=DEFAULT_NAME, help="name of a new authority")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    for service in ("oidc", "fulcio", "rekor"):
        serve.add_argument(
            f"--{service}-port", type=int, default=0, help="port (default: any free port)"
        )
    token = commands.add_parser("token", help="print an identity token for IDENTITY")
    token.add_argument("directory", type=Path, help="directory of a running instance")
    token.add_argument("identity", help="an email address or a URI")
    token.add_argument("--minutes", type=float, default=10, help="token lifetime")
    return parser


if __name__ == "__main__":
    sys.exit(main())
