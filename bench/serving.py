"""Index serving: requests per second and p50/p99 latency of simple pages and file downloads,
from devpi directly, through the registry's nginx edge in front of it, and from nginx serving
the same bytes as static files (the ceiling); then freshness: how long an upload takes to
reach a replica and to show through the replica's edge.

The registry is the embedded devpi with wheels uploaded by twine. The edge is
``anya_plugins.registry.nginx_edge`` exactly as ``registry up --edge`` runs it (files cached
as immutable, pages for 2 s keyed on the caller's credentials, every cached file checked with
devpi's ``/+authcheck``, itself cached per path and credentials). wrk drives the load on 127.0.0.1
for a bounded time, rotating over every project's page or file; a Lua script reports the
percentiles.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from anya_plugins.publish.uploading import upload
from bench.environments import plain, require_tool, write_wheel
from bench.measure import BenchError, check_output
from bench.options import Options, log, run_alone
from bench.registry import DEPS_INDEX, BenchRegistry, given_or_own
from bench.report import Row, Section, Target, find, with_ratios

TITLE = "Index serving under load (loopback)"

PROJECTS = 20
QUICK_PROJECTS = 3
PAYLOAD = 200_000
"""Characters of random hex per wheel: wheels of about 100 KB."""
DURATION_S = 10
QUICK_DURATION_S = 1
THREADS = 1
CONNECTIONS = 16
PAGE_SECONDS = 2
"""How long the edge serves a simple page from its cache (``registry up --edge``'s default)."""
PIP_ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, "
    "text/html; q=0.01"
)
"""What pip sends for a simple page."""

DEVPI = "devpi directly"
NGINX = "nginx edge in front of devpi"
STATIC = "nginx serving static files"
FRESHNESS_UPLOADS = 10
QUICK_FRESHNESS_UPLOADS = 2

_STATIC_CONF = """
worker_processes auto;
daemon off;
{user}
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy_temp;
    fastcgi_temp_path {dir}/fastcgi_temp;
    uwsgi_temp_path {dir}/uwsgi_temp;
    scgi_temp_path {dir}/scgi_temp;
    server {{
        listen 127.0.0.1:{port};
        root {dir}/root;
        default_type application/octet-stream;
    }}
}}
"""

_WRK_SCRIPT = """
local paths = {{ {paths} }}
local headers = {{ {headers} }}
local counter = 0
request = function()
    counter = counter + 1
    return wrk.format("GET", paths[(counter % #paths) + 1], headers)
end
done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("ANYA-BENCH %d %d %d %d %d %d\\n", summary.requests,
        summary.duration, latency:percentile(50), latency:percentile(99),
        e.connect + e.read + e.write + e.timeout, e.status))
end
"""


@dataclass(frozen=True)
class LoadResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    """Socket errors and answers that were not 2xx/3xx."""

    def detail(self) -> str:
        errors = f", **{self.errors} errors**" if self.errors else ""
        latency = f"p50 {self.p50_ms:.2f} ms, p99 {self.p99_ms:.2f} ms"
        return f"{latency}; {self.requests} requests{errors}"


def run(options: Options, registry: BenchRegistry | None = None) -> Section:
    """``registry``: a running benchmark registry to use instead of starting one."""
    wrk = require_tool("wrk", "wrk")
    nginx = require_tool("nginx", "nginx-light")
    projects = QUICK_PROJECTS if options.quick else PROJECTS
    duration = QUICK_DURATION_S if options.quick else DURATION_S
    rows: list[Row] = []
    with options.work_dir("serving") as work, given_or_own(registry, work / "registry") as registry:
        pages, files = _publish(registry, work / "dist", projects)
        with (
            _edge(work / "edge", registry.url) as edge_url,
            _static(nginx, work / "static", registry.url, pages, files) as static_url,
        ):
            for case, paths, headers in (
                ("simple page (PEP 691 JSON)", pages, {"Accept": PIP_ACCEPT}),
                ("file download (~100 KB wheel)", files, {}),
            ):
                for tool, base in ((DEVPI, registry.url), (NGINX, edge_url), (STATIC, static_url)):
                    _check_and_warm(base, paths, headers, cached=tool == NGINX)
                    log(f"serving: {case}, {tool}, {duration} s")
                    result = _load(wrk, work, base, paths, headers, duration)
                    rows.append(
                        Row(case, tool, result.requests_per_second, "req/s",
                            detail=result.detail())
                    )  # fmt: skip
        uploads = QUICK_FRESHNESS_UPLOADS if options.quick else FRESHNESS_UPLOADS
        rows += _freshness(registry, work / "fresh", uploads)
    return Section(
        "serving",
        TITLE,
        DEVPI,
        with_ratios(rows, DEVPI),
        targets=_targets(rows),
        notes=(
            f"wrk, {THREADS} thread, {CONNECTIONS} connections, {duration} s per row, "
            f"rotating over {projects} projects; everything (wrk, nginx, devpi) "
            f"shares this machine's {os.cpu_count()} CPUs.",
            "The edge is `registry up --edge`'s nginx: `/+f/` files cached as immutable, "
            f"simple pages for {PAGE_SECONDS} s (stale answers are served while one request "
            "refreshes them; the key includes `Accept` and the credentials), every cached file "
            "checked with devpi's `/+authcheck` (that answer cached 5 s per path and "
            "credentials). The static row is nginx serving the same bytes from disk.",
            f"Freshness: {uploads} new versions of projects whose page the replica's edge has "
            "cached, each timed from twine's return until the replica's `/+status` serial "
            "reached it and until the page through the replica's edge listed the file (bounded "
            f"by the edge's page max-age, {PAGE_SECONDS} s).",
        ),
    )


def _targets(rows: Sequence[Row]) -> tuple[Target, ...]:
    """The issue's goal: the edge within 2x of nginx serving static files."""
    targets = []
    for case in dict.fromkeys(row.case for row in rows):
        edge, static = find(rows, case, NGINX), find(rows, case, STATIC)
        if edge is None or static is None or not edge.value or not static.value:
            continue
        ratio = static.value / edge.value
        targets.append(
            Target(f"{case}: the edge within 2x of static nginx", f"{ratio:.2f}x", ratio <= 2)
        )
    return tuple(targets)


def _freshness(registry: BenchRegistry, work: Path, uploads: int) -> list[Row]:
    """Upload ``uploads`` wheels one at a time; how long each takes to reach a replica's
    serial and to appear through the replica's edge."""
    from anya_plugins.registry import topology

    work.mkdir(parents=True)
    log("serving: freshness, starting a replica and its edge")
    status = topology.start_nodes(
        registry.state_dir, 1, edge=True, page_max_age_seconds=PAGE_SECONDS
    )
    replica = next(node for node in status.nodes if node.role == "replica")
    assert replica.url is not None and replica.edge_url is not None
    to_replica: list[float] = []
    to_edge: list[float] = []
    try:
        for number in range(uploads):
            name = f"bench-fresh-{number:03d}"
            page = f"{replica.edge_url}/{DEPS_INDEX}/+simple/{name}/"
            first = write_wheel(plain(name, payload=2000), work)
            upload([first], f"{registry.url}/{DEPS_INDEX}/", registry.credentials)
            while first.name.encode() not in _body(page):  # now cached at the edge
                time.sleep(0.01)
            wheel = write_wheel(replace(plain(name, payload=2000), version="2.0.0"), work)
            upload([wheel], f"{registry.url}/{DEPS_INDEX}/", registry.credentials)
            uploaded = time.monotonic()
            serial = topology.current_serial(registry.url)
            assert serial is not None
            to_replica.append(topology.wait_for_serial([replica.url], serial))
            while wheel.name.encode() not in _body(page):
                if time.monotonic() - uploaded > 60:
                    raise BenchError(f"{wheel.name} not on {page} after 60 s")
                time.sleep(0.01)
            to_edge.append(time.monotonic() - uploaded)
    finally:
        topology.stop_nodes(registry.state_dir, primary=False)
    rows = []
    for case, values in (
        ("upload to replica serial", to_replica),
        ("upload to replica's edge page", to_edge),
    ):
        ordered = sorted(values)
        median = ordered[len(ordered) // 2]
        rows.append(
            Row(f"freshness: {case}", "replica + edge", median * 1000, "ms",
                detail=f"median of {len(values)}; max {ordered[-1] * 1000:.0f} ms")
        )  # fmt: skip
    return rows


def _body(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return bytes(response.read())
    except urllib.error.HTTPError:
        return b""


def _publish(registry: BenchRegistry, dist_dir: Path, count: int) -> tuple[list[str], list[str]]:
    """Upload ``count`` wheels; the paths of their simple pages and of their files."""
    dist_dir.mkdir()
    dists = [plain(f"bench-serve-{number:03d}", payload=PAYLOAD) for number in range(count)]
    log(f"serving: uploading {count} wheels")
    upload(
        [write_wheel(dist, dist_dir) for dist in dists],
        f"{registry.url}/{DEPS_INDEX}/",
        registry.credentials,
    )
    client = registry.client()
    pages, files = [], []
    for dist in dists:
        page_path = f"/{DEPS_INDEX}/+simple/{dist.name}/"
        (entry,) = client.simple_project(DEPS_INDEX, dist.name)["files"]
        file_url = urllib.parse.urljoin(registry.url + page_path, entry["url"])
        pages.append(page_path)
        files.append(urllib.parse.urlsplit(file_url).path)
    return pages, files


@contextmanager
def _edge(directory: Path, upstream_url: str) -> Iterator[str]:
    """The registry's nginx edge in front of ``upstream_url`` on a free port; its URL."""
    from anya_plugins.registry import nginx_edge

    config = nginx_edge.EdgeConfig(
        directory=directory, upstream=upstream_url, port=_free_port(),
        page_max_age_seconds=PAGE_SECONDS,
    )  # fmt: skip
    edge = nginx_edge.start(config)
    try:
        yield edge.url
    finally:
        nginx_edge.stop(directory)


@contextmanager
def _static(
    nginx: str, directory: Path, source_url: str, pages: Sequence[str], files: Sequence[str]
) -> Iterator[str]:
    """nginx serving, from disk, the bytes devpi serves at ``pages`` and ``files``."""
    for path in (*pages, *files):
        target = directory / "root" / path.lstrip("/")
        if path.endswith("/"):
            target = target / "index.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        request = urllib.request.Request(source_url + path, headers={"Accept": PIP_ACCEPT})
        with urllib.request.urlopen(request, timeout=30) as response:
            target.write_bytes(response.read())
    port = _free_port()
    conf = directory / "nginx.conf"
    conf.write_text(
        _STATIC_CONF.format(
            dir=directory, user="user root;" if os.geteuid() == 0 else "", port=port
        )
    )
    arguments = [nginx, "-p", str(directory), "-c", str(conf), "-e", str(directory / "error.log")]
    check_output([*arguments, "-t", "-q"])
    process = subprocess.Popen(
        arguments, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_for(port, process, directory / "error.log")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for(port: int, process: subprocess.Popen[bytes], log_file: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"nginx exited {process.returncode}: {_tail(log_file)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise BenchError(f"nginx did not listen on port {port} within 15 s: {_tail(log_file)}")


def _tail(log_file: Path) -> str:
    try:
        return log_file.read_text(errors="replace")[-2000:]
    except OSError:
        return "(no log)"


def _check_and_warm(base: str, paths: Sequence[str], headers: dict[str, str], cached: bool) -> None:
    """Every path answers 200 (through nginx: twice, the second time from its cache)."""
    for path in paths:
        for attempt in range(2 if cached else 1):
            request = urllib.request.Request(base + path, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    response.read()
                    status = response.headers.get("X-Cache-Status")
            except urllib.error.URLError as error:
                raise BenchError(f"GET {base}{path}: {error}") from error
            if cached and attempt == 1 and status != "HIT":
                raise BenchError(f"nginx did not cache {path} (X-Cache-Status: {status})")


def _load(
    wrk: str,
    work: Path,
    base: str,
    paths: Sequence[str],
    headers: dict[str, str],
    duration: int,
) -> LoadResult:
    script = work / "load.lua"
    script.write_text(
        _WRK_SCRIPT.format(
            paths=", ".join(_lua_string(path) for path in paths),
            headers=", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items()),
        )
    )
    output = check_output(
        [wrk, f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{duration}s", "--timeout", "10s",
         "-s", str(script), base],
        timeout=duration + 60,
    )  # fmt: skip
    line = next((line for line in output.splitlines() if line.startswith("ANYA-BENCH ")), None)
    if line is None:
        raise BenchError(f"wrk printed no result:\n{output}")
    requests, duration_us, p50_us, p99_us, socket_errors, status_errors = map(int, line.split()[1:])
    return LoadResult(
        requests_per_second=requests / (duration_us / 1e6),
        p50_ms=p50_us / 1000,
        p99_ms=p99_us / 1000,
        requests=requests,
        errors=socket_errors + status_errors,
    )


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def main(argv: list[str] | None = None) -> int:
    return run_alone(run, "Index serving: devpi directly and through an nginx cache tier", argv)


if __name__ == "__main__":
    raise SystemExit(main())
