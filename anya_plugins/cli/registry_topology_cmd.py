"""``registry up --replicas N --edge``, and ``registry status|down`` when a topology runs:
the primary devpi, its replicas and an nginx edge in front of each node."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from anya_plugins.cli import render

if TYPE_CHECKING:
    from anya_plugins.api.embedded import RegistryUpOptions
    from anya_plugins.registry.topology import TopologyStatus


def add_up_arguments(up: argparse.ArgumentParser) -> None:
    up.add_argument(
        "--replicas",
        type=int,
        default=0,
        metavar="N",
        help="also start N devpi replicas following the registry (devpi --primary-url)",
    )
    up.add_argument(
        "--edge",
        action="store_true",
        help="put an nginx caching edge in front of every node (Debian's nginx)",
    )


def wants_topology(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "replicas", 0) or getattr(args, "edge", False))


def exists(args: argparse.Namespace) -> bool:
    from anya_plugins.api.topology import RegistryTopology

    return RegistryTopology(args.state_dir).exists()


def up_command(args: argparse.Namespace, options: RegistryUpOptions) -> int:
    from anya_plugins.api.topology import RegistryTopology
    from anya_plugins.errors import UsageError

    if args.replicas < 0:
        raise UsageError("--replicas must be 0 or more")
    result = RegistryTopology(args.state_dir).up(options, replicas=args.replicas, edge=args.edge)
    if args.json:
        render.say(render.to_json(result))
        return 0
    verb = "started" if result.primary.started else "already running"
    render.say(f"primary {verb} at {result.primary.url} (state in {result.primary.state_dir})")
    if result.primary.host is not None:
        render.say(f"{result.primary.host.index}: {result.primary.host.detail}")
    _print_nodes(result.topology)
    return 0


def status_command(args: argparse.Namespace) -> int:
    from anya_plugins.api.topology import RegistryTopology

    current = RegistryTopology(args.state_dir).status()
    if args.json:
        render.say(render.to_json(current))
    else:
        _print_nodes(current)
    return 0 if all(node.health == "ok" for node in current.nodes) else 1


def down_command(args: argparse.Namespace) -> int:
    from anya_plugins.api.topology import RegistryTopology

    stopped = RegistryTopology(args.state_dir).down()
    if args.json:
        render.say(render.to_json({"stopped": stopped}))
    else:
        render.say(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")
    return 0


def _print_nodes(current: TopologyStatus) -> None:
    render.table(
        None,
        ("node", "devpi", "edge", "serial", "lag", "cache hits", "health"),
        [
            (
                node.name,
                node.url or "-",
                node.edge_url or "-",
                "-" if node.serial is None else str(node.serial),
                "-" if node.lag is None else str(node.lag),
                "-"
                if node.cache_hit_ratio is None
                else f"{node.cache_hit_ratio:.0%} of {node.cache_requests}",
                node.health + (f" ({node.detail})" if node.detail else ""),
            )
            for node in current.nodes
        ],
    )
