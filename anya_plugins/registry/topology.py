"""A registry topology on one machine: the primary devpi, N replicas following it, and an
nginx caching edge in front of each node (``anya-ext registry up --replicas N --edge``).

Replication is devpi's own (``--primary-url``, the shared secret); the edges are
:mod:`nginx_edge`. The primary is the embedded registry of ``state_dir``; replica ``k`` keeps
its devpi state in ``state_dir/replicas/replica-k`` and every edge its cache and logs in
``state_dir/edges/<node>``. ``topology.json`` remembers the nodes and ports, so a second
``up`` restarts what stopped on the same ports and ``down`` stops everything.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from anya_plugins.registry import nginx_edge, server
from anya_plugins.registry.errors import ServerError

STATE_FILE = "topology.json"
PRIMARY = "primary"
STATUS_TIMEOUT = 2.0


@dataclass(frozen=True)
class NodeSpec:
    """One node as remembered: its devpi state directory and, with an edge, the edge's."""

    name: str
    state_dir: Path
    edge_dir: Path | None = None
    edge_port: int | None = None

    @property
    def role(self) -> str:
        return PRIMARY if self.name == PRIMARY else "replica"


@dataclass(frozen=True)
class NodeStatus:
    """One node now: where it answers, how far behind the primary, how well its edge caches."""

    name: str
    role: str
    url: str | None
    """The devpi node (None when it is not running)."""
    edge_url: str | None
    """Its nginx edge (None without an edge, or when the edge is not running)."""
    serial: int | None
    lag: int | None
    """Serials behind the primary (0: in sync; None: unknown)."""
    cache_hit_ratio: float | None
    cache_requests: int
    health: str
    """``ok``, ``behind`` (lag above 0), ``replication errors``, ``edge down`` or ``down``."""
    detail: str = ""


@dataclass(frozen=True)
class TopologyStatus:
    """Every node of the topology kept in ``state_dir`` (empty: no topology there)."""

    state_dir: Path
    nodes: tuple[NodeStatus, ...]

    @property
    def edge_urls(self) -> tuple[str, ...]:
        return tuple(node.edge_url for node in self.nodes if node.edge_url)


def start_nodes(
    state_dir: Path,
    replicas: int,
    *,
    edge: bool,
    cache_max_size_mb: int = 1024,
    page_max_age_seconds: int = 2,
    sync_timeout: float = 120.0,
) -> TopologyStatus:
    """Start ``replicas`` replicas of the running registry of ``state_dir`` and, with
    ``edge``, an nginx edge in front of every node (the primary included); nodes already
    running are left as they are (an edge whose node moved to another port is restarted in
    front of it). Replicas start in parallel (each pays devpi's ~4 s
    start-up); this returns once every replica it started has caught up with the primary's serial
    (ServerError when one does not answer, or is not in sync, within ``sync_timeout`` seconds)."""
    state_dir = state_dir.resolve()
    primary = server.status(state_dir)
    if not primary.running:
        raise ServerError(
            f"the registry in {state_dir} is not running", hint="anya-ext registry up"
        )
    specs = _plan(state_dir, replicas, edge=edge)
    _save(state_dir, specs)
    to_start = [s for s in specs if s.role != PRIMARY and not server.status(s.state_dir).running]
    if to_start:
        with ThreadPoolExecutor(max_workers=len(to_start)) as pool:
            futures = [
                # a replica answers once it has its first changes from the primary: on a busy
                # machine that takes longer than a primary's start, so it gets the sync budget
                pool.submit(
                    server.start, spec.state_dir, replica_of=state_dir, timeout=sync_timeout
                )
                for spec in to_start
            ]
            for future in futures:
                future.result()
    replica_urls = [str(server.status(s.state_dir).url) for s in to_start]
    primary_serial = _serial(str(primary.url))
    if replica_urls and primary_serial is not None:
        wait_for_serial(replica_urls, primary_serial, timeout=sync_timeout, files=True)
    for spec in specs:
        if spec.edge_dir is not None:
            node = server.status(spec.state_dir)
            assert spec.edge_port is not None and node.url is not None
            nginx_edge.ensure(
                nginx_edge.EdgeConfig(
                    directory=spec.edge_dir,
                    upstream=node.url,
                    port=spec.edge_port,
                    cache_max_size_mb=cache_max_size_mb,
                    page_max_age_seconds=page_max_age_seconds,
                )
            )
    return status(state_dir)


def stop_nodes(state_dir: Path, *, primary: bool = True) -> tuple[str, ...]:
    """Stop every edge and replica (and, with ``primary``, the primary last); the names of
    what was running."""
    state_dir = state_dir.resolve()
    stopped: list[str] = []
    specs = load(state_dir)
    for spec in specs:
        if spec.edge_dir is not None and nginx_edge.stop(spec.edge_dir):
            stopped.append(f"{spec.name} edge")
    for spec in specs:
        if spec.role != PRIMARY and server.stop(spec.state_dir):
            stopped.append(spec.name)
    if primary and server.stop(state_dir):
        stopped.append(PRIMARY)
    return tuple(stopped)


def status(state_dir: Path) -> TopologyStatus:
    """Each node's serial, lag behind the primary, edge hit ratio and health."""
    state_dir = state_dir.resolve()
    specs = load(state_dir)
    with ThreadPoolExecutor(max_workers=max(len(specs), 1)) as pool:
        reports = list(pool.map(_node_report, specs))
    primary_serial = next(
        (
            serial
            for spec, (_, serial, _) in zip(specs, reports, strict=True)
            if spec.role == PRIMARY
        ),
        None,
    )
    nodes = tuple(
        _node_status(spec, url, serial, errors, primary_serial)
        for spec, (url, serial, errors) in zip(specs, reports, strict=True)
    )
    return TopologyStatus(state_dir, nodes)


def load(state_dir: Path) -> tuple[NodeSpec, ...]:
    """The remembered nodes (none when no topology was brought up here)."""
    try:
        data = json.loads((state_dir / STATE_FILE).read_text())
    except FileNotFoundError:
        return ()
    return tuple(
        NodeSpec(
            str(node["name"]),
            Path(node["state_dir"]),
            Path(node["edge_dir"]) if node.get("edge_dir") else None,
            int(node["edge_port"]) if node.get("edge_port") else None,
        )
        for node in data["nodes"]
    )


def forget(state_dir: Path) -> None:
    """Drop the remembered nodes (their directories stay: a later ``up`` reuses them)."""
    (state_dir / STATE_FILE).unlink(missing_ok=True)


def wait_for_serial(
    urls: Sequence[str], serial: int, timeout: float = 30.0, *, files: bool = False
) -> float:
    """Seconds until every devpi at ``urls`` reports ``serial`` or later (ServerError after
    ``timeout``): how long a change takes to reach every replica. With ``files``, a replica
    must also say its files are in sync (``replica-in-sync-at``): until then it answers
    500 for a file it is still fetching."""
    started = time.monotonic()
    pending = list(urls)
    while pending:
        pending = [url for url in pending if not _reached(url, serial, files=files)]
        if not pending:
            break
        if time.monotonic() - started > timeout:
            states = ", ".join(f"{url} at {_state(url)}" for url in pending)
            raise ServerError(f"not in sync with serial {serial} after {timeout:.0f} s: {states}")
        time.sleep(0.005)
    return time.monotonic() - started


def _plan(state_dir: Path, replicas: int, *, edge: bool) -> list[NodeSpec]:
    """The nodes wanted, keeping the names and ports of those already remembered."""
    known = {spec.name: spec for spec in load(state_dir)}
    names = [PRIMARY, *(f"replica-{k}" for k in range(1, replicas + 1))]
    specs = []
    for name in names:
        previous = known.get(name)
        node_dir = state_dir if name == PRIMARY else state_dir / "replicas" / name
        edge_dir = state_dir / "edges" / name if edge else None
        port = None
        if edge:
            port = previous.edge_port if previous and previous.edge_port else _free_port()
        specs.append(NodeSpec(name, node_dir, edge_dir, port))
    return specs


def _save(state_dir: Path, specs: Sequence[NodeSpec]) -> None:
    nodes = [
        {**asdict(spec), "state_dir": str(spec.state_dir),
         "edge_dir": str(spec.edge_dir) if spec.edge_dir else None}
        for spec in specs
    ]  # fmt: skip
    target = state_dir / STATE_FILE
    temporary = target.with_suffix(".tmp")
    temporary.write_text(json.dumps({"nodes": nodes}, indent=2))
    temporary.replace(target)


def _node_report(spec: NodeSpec) -> tuple[str | None, int | None, int]:
    """The node's URL, serial and count of replication errors (None, None, 0 when down)."""
    node = server.status(spec.state_dir)
    if not node.running or node.url is None:
        return None, None, 0
    document = _status_json(node.url)
    if document is None:
        return node.url, None, 0
    errors = document.get("replication-errors")
    serial = document.get("serial")
    count = len(errors) if isinstance(errors, (dict, list)) else 0
    return node.url, serial if isinstance(serial, int) else None, count


def _node_status(
    spec: NodeSpec, url: str | None, serial: int | None, errors: int, primary_serial: int | None
) -> NodeStatus:
    edge_url = None
    ratio, requests = None, 0
    edge_running = False
    if spec.edge_dir is not None:
        edge_running = nginx_edge.running_pid(spec.edge_dir) is not None
        edge_url = f"http://127.0.0.1:{spec.edge_port}" if edge_running else None
        stats = nginx_edge.cache_stats(spec.edge_dir)
        ratio, requests = stats.hit_ratio, stats.requests
    lag = None
    if serial is not None and primary_serial is not None:
        lag = max(primary_serial - serial, 0)
    if url is None or serial is None:
        health, detail = "down", "devpi does not answer"
    elif errors:
        health, detail = "replication errors", f"{errors} replication errors"
    elif lag:
        health, detail = "behind", f"{lag} serials behind the primary"
    elif spec.edge_dir is not None and not edge_running:
        health, detail = "edge down", "nginx is not running"
    else:
        health, detail = "ok", ""
    return NodeStatus(
        spec.name, spec.role, url, edge_url, serial, lag, ratio, requests, health, detail
    )


def _reached(url: str, serial: int, *, files: bool) -> bool:
    document = _status_json(url) or {}
    current = document.get("serial")
    if not isinstance(current, int) or current < serial:
        return False
    return not files or document.get("replica-in-sync-at") is not None


def _state(url: str) -> str:
    document = _status_json(url)
    if document is None:
        return "no answer"
    in_sync = document.get("replica-in-sync-at") is not None
    return f"serial {document.get('serial')}" + ("" if in_sync else ", files not in sync")


def current_serial(url: str) -> int | None:
    """The serial of the devpi at ``url`` (its ``/+status``), None when it does not answer."""
    return _serial(url)


def _serial(url: str) -> int | None:
    document = _status_json(url)
    serial = None if document is None else document.get("serial")
    return serial if isinstance(serial, int) else None


def _status_json(url: str) -> dict[str, object] | None:
    request = urllib.request.Request(f"{url}/+status", headers={"Accept": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=STATUS_TIMEOUT) as response:
            document = json.loads(response.read())
    except (OSError, ValueError):
        return None
    result = document.get("result") if isinstance(document, dict) else None
    return result if isinstance(result, dict) else None


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
