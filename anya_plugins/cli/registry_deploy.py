"""``anya-ext registry deploy``: a private registry for one organisation (devpi, LDAP, TLS)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from anya_plugins.cli import render

if TYPE_CHECKING:
    from anya_plugins.registry.deploy import DeployResult


def register(actions: argparse._SubParsersAction[Any]) -> None:
    deploy = actions.add_parser(
        "deploy",
        help="write and start a private registry: devpi-server with LDAP sign-in and roles, "
        "nginx TLS in front, systemd units",
    )
    deploy.add_argument("--org", required=True, help="organisation: its index is ORG/extensions")
    deploy.add_argument("--auth", required=True, metavar="ldap://HOST[:PORT]", help="directory")
    deploy.add_argument(
        "--base-dn", required=True, metavar="DN", help="users under ou=users,DN; groups below DN"
    )
    deploy.add_argument("--tls-cert", required=True, type=Path, metavar="PEM")
    deploy.add_argument("--tls-key", required=True, type=Path, metavar="PEM")
    deploy.add_argument(
        "--storage",
        default="fs",
        metavar="fs|postgresql://USER:PASSWORD@HOST:PORT/DB",
        help="where devpi keeps its data (default: the file system under --dir)",
    )
    deploy.add_argument("--dir", required=True, type=Path, dest="directory", metavar="DIR")
    deploy.add_argument("--server-name", default="localhost", help="host name clients use")
    deploy.add_argument("--listen", default="0.0.0.0", help="address nginx listens on")
    deploy.add_argument("--https-port", type=int, default=443)
    deploy.add_argument(
        "--devpi-port", type=int, default=3141, help="devpi-server's port, on 127.0.0.1 only"
    )
    deploy.add_argument(
        "--policy",
        type=Path,
        metavar="FILE",
        help="enterprise policy file (YAML or TOML) whose roles add to or replace the default "
        "roles (developer, admin, security)",
    )
    deploy.add_argument(
        "--dry-run", action="store_true", help="show the files and processes, change nothing"
    )
    deploy.set_defaults(handler=deploy_command)


def deploy_command(args: argparse.Namespace) -> int:
    from anya_plugins.registry.deploy import DeployOptions, deploy

    options = DeployOptions(
        org=args.org,
        ldap_url=args.auth,
        base_dn=args.base_dn,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        directory=args.directory,
        storage=args.storage,
        server_name=args.server_name,
        listen=args.listen,
        https_port=args.https_port,
        devpi_port=args.devpi_port,
        policy=args.policy,
    )
    result = deploy(options, dry_run=args.dry_run)
    if args.json:
        render.say(render.to_json(_document(result)))
        return 0
    _print(result)
    return 0


def _document(result: DeployResult) -> dict[str, object]:
    client = result.client
    return {
        "directory": result.directory,
        "url": result.url,
        "index": result.index,
        "dry_run": result.dry_run,
        "changed": result.changed,
        "files": [{"path": p, "action": a} for p, a in result.files],
        "processes": [{"name": n, "action": a} for n, a in result.processes],
        "units": [p.unit for p in result.plan.processes],
        "client": {"simple_url": client.simple_url, "toml": client.toml, "pip": client.pip},
        **({"contents": {f.path: f.content for f in result.plan.files}} if result.dry_run else {}),
    }


def _print(result: DeployResult) -> None:
    if result.dry_run:
        render.say(f"dry run: nothing written under {result.directory}")
        for planned in result.plan.files:
            render.say(f"\n--- {planned.path} ({dict(result.files)[planned.path]})")
            render.say(planned.content.rstrip("\n"))
    render.table(None, ("file", "action"), [(p, a) for p, a in result.files])
    render.table(None, ("process", "action", "systemd unit"), [
        (name, action, process.unit)
        for (name, action), process in zip(result.processes, result.plan.processes, strict=True)
    ])  # fmt: skip
    client = result.client
    render.say(f"\n{result.index} at {client.simple_url} (sign in with your directory account)")
    render.say("  extensions.toml:")
    for line in client.toml.splitlines():
        render.say(f"    {line}")
    render.say(f"  pip:   {client.pip} (add --cert CA.pem for a private CA)")
    render.say(f"  twine: twine upload --repository-url {result.url}/{result.index}/ DIST")
