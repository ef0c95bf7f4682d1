"""``anya-ext registry up|down|status|apply``: the embedded devpi and declarative layouts."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from anya_plugins.cli import registry_topology_cmd, render

if TYPE_CHECKING:
    from anya_plugins.registry.client_settings import IndexClientSettings
    from anya_plugins.registry.devpi import ApplyReport, Credentials
    from anya_plugins.registry.embedded_tuf import EmbeddedTuf


def register(commands: argparse._SubParsersAction[Any], only: str | None = None) -> None:
    """Add this module's one command (``only`` is it, or None for every command)."""
    registry = commands.add_parser("registry", help="run the local registry, apply layouts")
    actions = registry.add_subparsers(dest="registry_action", metavar="ACTION", required=True)

    up = actions.add_parser("up", help="start the embedded devpi and apply the Anya layout")
    up.add_argument("--state-dir", type=Path, default=None)
    up.add_argument("--port", type=int, default=None, help="default 3141")
    up.add_argument("--layout", type=Path, default=None, help="layout file (default: shipped)")
    up.add_argument(
        "--upstream",
        metavar="URL",
        help="simple index the upstream mirror caches (default https://pypi.org/simple/)",
    )
    up.add_argument(
        "--host-wheel",
        type=Path,
        metavar="WHEEL",
        help="anya-plugins wheel to publish (default: built from the source checkout)",
    )
    up.add_argument(
        "--trusted-root",
        type=Path,
        metavar="FILE",
        help="Sigstore trusted root (JSON) signed uploads must chain to "
        "(default: Sigstore's public-good root; remembered)",
    )
    up.add_argument(
        "--publisher",
        action="append",
        default=[],
        metavar="IDENTITY",
        help="signer whose releases the signed indexes (anya/primary, community/verified) "
        "take; repeatable, remembered (without one they take no upload)",
    )
    up.add_argument(
        "--issuer",
        action="append",
        default=[],
        metavar="URL",
        help="OIDC issuer of the --publisher identities (one for all, or one each)",
    )
    up.add_argument(
        "--tuf",
        type=Path,
        metavar="DIR",
        help="TUF directory of 'registry tuf init': sign TUF metadata for the indexes it "
        "delegates to (devpi-server --anya-tuf; remembered)",
    )
    registry_topology_cmd.add_up_arguments(up)
    up.set_defaults(handler=up_command)

    down = actions.add_parser("down", help="stop the embedded devpi")
    down.add_argument("--state-dir", type=Path, default=None)
    down.set_defaults(handler=down_command)

    state = actions.add_parser(
        "status", help="is the embedded devpi running, where, and how clients use each index"
    )
    state.add_argument("--state-dir", type=Path, default=None)
    state.add_argument("--layout", type=Path, default=None, help="layout file (default: shipped)")
    state.set_defaults(handler=status_command)

    apply = actions.add_parser("apply", help="apply a layout file to a devpi server")
    apply.add_argument("layout", type=Path)
    apply.add_argument("--url", help="server URL (default: the embedded registry)")
    apply.add_argument(
        "--admin", default="root", help="admin user (password: $ANYA_REGISTRY_ADMIN_PASSWORD)"
    )
    apply.add_argument("--state-dir", type=Path, default=None)
    apply.set_defaults(handler=apply_command)

    from anya_plugins.cli import registry_audit_cmd

    registry_audit_cmd.register(actions)
    from anya_plugins.cli import registry_deploy

    registry_deploy.register(actions)
    from anya_plugins.cli import registry_tuf_cmd

    registry_tuf_cmd.register(actions)


def up_command(args: argparse.Namespace) -> int:
    from anya_plugins.api.embedded import EmbeddedRegistry, RegistryUpOptions
    from anya_plugins.registry.publishers import HOW_TO_NAME_PUBLISHERS

    options = RegistryUpOptions(
        port=args.port,
        layout=args.layout,
        upstream=args.upstream,
        host_wheel=args.host_wheel,
        trusted_root=args.trusted_root,
        publishers=tuple(args.publisher),
        issuers=tuple(args.issuer),
        tuf=args.tuf,
    )
    if registry_topology_cmd.wants_topology(args):
        return registry_topology_cmd.up_command(args, options)
    registry = EmbeddedRegistry(args.state_dir).up(options)
    if args.json:
        render.say(render.to_json(registry))
        return 0
    verb = "started" if registry.started else "already running"
    render.say(f"registry {verb} at {registry.url} (state in {registry.state_dir})")
    _print_changes(registry.report)
    if registry.host is not None:
        render.say(f"{registry.host.index}: {registry.host.detail}")
    for index in registry.unsigned:
        render.say(
            f"{index}: requires signed uploads and has no publisher, so it takes none; "
            f"{HOW_TO_NAME_PUBLISHERS}"
        )
    return 0


def down_command(args: argparse.Namespace) -> int:
    from anya_plugins.api.embedded import EmbeddedRegistry

    if registry_topology_cmd.exists(args):
        return registry_topology_cmd.down_command(args)
    stopped = EmbeddedRegistry(args.state_dir).down()
    if args.json:
        render.say(render.to_json({"stopped": stopped}))
    else:
        render.say("registry stopped" if stopped else "registry was not running")
    return 0


def status_command(args: argparse.Namespace) -> int:
    from anya_plugins.api.embedded import EmbeddedRegistry

    if registry_topology_cmd.exists(args):
        return registry_topology_cmd.status_command(args)
    state = EmbeddedRegistry(args.state_dir).status(args.layout)
    current, clients = state.node, state.clients
    if args.json:
        document = {
            **json.loads(render.to_json(current)),
            "tuf": json.loads(render.to_json(state.tuf)) if state.tuf is not None else None,
            "clients": [
                {"index": c.index, "simple_url": c.simple_url, "source": c.source,
                 "toml": c.toml, "pip": c.pip, "uv": c.uv, "tuf_root": c.tuf_root}
                for c in clients
            ],
        }  # fmt: skip
        render.say(render.to_json(document))
    elif current.running:
        render.say(f"running at {current.url} (pid {current.pid}); log: {current.log_file}")
        _print_tuf(state.tuf)
        _print_clients(clients)
    else:
        render.say(f"not running (state in {current.state_dir})")
    return 0 if current.running else 1


def _print_tuf(tuf: EmbeddedTuf | None) -> None:
    if tuf is None:
        render.say("TUF: off (start with 'registry up --tuf DIR' to sign index metadata)")
        return
    render.say(f"TUF: on, signing {', '.join(tuf.indexes) or 'no index'} with {tuf.directory}")
    render.say(f"  clients' tuf_root (give it out of band): {tuf.tuf_root}")


def _print_clients(clients: Sequence[IndexClientSettings]) -> None:
    for client in clients:
        render.say(f"\n{client.index}: {client.simple_url}")
        if client.toml:
            render.say("  extensions.toml:")
            for line in client.toml.splitlines():
                render.say(f"    {line}")
        render.say(f"  pip: {client.pip}")
        render.say(f"  uv:  {client.uv}")


def apply_command(args: argparse.Namespace) -> int:
    from anya_plugins.api.embedded import EmbeddedRegistry

    report = (
        EmbeddedRegistry(args.state_dir).apply(args.layout)
        if args.url is None
        else EmbeddedRegistry.apply_to(args.url, args.layout, _admin(args))
    )
    if args.json:
        render.say(render.to_json(report))
    else:
        _print_changes(report)
    return 0


def _admin(args: argparse.Namespace) -> Credentials:
    """``--admin`` with ``$ANYA_REGISTRY_ADMIN_PASSWORD`` (another server than the embedded)."""
    from anya_plugins.errors import UsageError
    from anya_plugins.registry.devpi import Credentials

    password = os.environ.get("ANYA_REGISTRY_ADMIN_PASSWORD", "")
    if not password:
        raise UsageError("no admin password", hint="export ANYA_REGISTRY_ADMIN_PASSWORD=<password>")
    return Credentials(args.admin, password)


def _print_changes(report: ApplyReport) -> None:
    render.table(
        None,
        ("kind", "name", "action"),
        [(change.kind, change.name, change.action) for change in report.changes],
    )
