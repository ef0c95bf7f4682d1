"""Index serving: requests per second and p50/p99 latency of simple pages and file downloads,
from devpi directly and through an nginx cache tier in front of it.

The registry is the embedded devpi with wheels uploaded by twine. nginx (Debian's) runs with
a configuration generated here into the work directory: ``/+f/`` files (immutable: their
path holds their hash) cached for a day, simple pages for a few seconds (stale answers are
served while one request refreshes them), the ``Accept`` header part of the page cache key
because devpi answers HTML or PEP 691 JSON depending on it. wrk drives the load on 127.0.0.1
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
from dataclasses import dataclass
from pathlib import Path

from anya_plugins.publish.uploading import upload
from bench.environments import plain, require_tool, write_wheel
from bench.measure import BenchError, check_output
from bench.options import Options, log, run_alone
from bench.registry import DEPS_INDEX, BenchRegistry, given_or_own
from bench.report import Row, Section, with_ratios

TITLE = "Index serving under load (loopback)"

PROJECTS = 20
QUICK_PROJECTS = 3
PAYLOAD = 200_000
"""Characters of random hex per wheel: wheels of about 100 KB."""
DURATION_S = 10
QUICK_DURATION_S = 1
THREADS = 1
CONNECTIONS = 16
PAGE_SECONDS = 5
"""How long nginx serves a simple page from its cache."""
PIP_ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, "
    "text/html; q=0.01"
)
"""What pip sends for a simple page."""

DEVPI = "devpi directly"
NGINX = "nginx cache tier in front of devpi"

_NGINX_CONF = """
worker_processes 1;
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
    proxy_cache_path {dir}/cache/files levels=1:2 keys_zone=files:10m max_size=2g
                     inactive=1d use_temp_path=off;
    proxy_cache_path {dir}/cache/pages levels=1:2 keys_zone=pages:10m max_size=100m
                     inactive=10m use_temp_path=off;
    upstream devpi {{
        server {upstream};
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port};
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $http_host;
        # devpi builds the links of its pages from this header.
        proxy_set_header X-Outside-URL $scheme://$http_host;
        add_header X-Cache-Status $upstream_cache_status;
        location ~ /\\+f/ {{
            proxy_pass http://devpi;
            proxy_cache files;
            proxy_cache_valid 200 1d;
            proxy_cache_lock on;
            proxy_ignore_headers Cache-Control Expires Set-Cookie;
        }}
        location ~ /\\+simple/ {{
            proxy_pass http://devpi;
            proxy_cache pages;
            proxy_cache_key $scheme$http_host$request_uri$http_accept;
            proxy_cache_valid 200 {page_seconds}s;
            proxy_cache_lock on;
            proxy_cache_use_stale updating error timeout;
            proxy_cache_background_update on;
            proxy_ignore_headers Cache-Control Expires Set-Cookie Vary;
        }}
        location / {{
            proxy_pass http://devpi;
        }}
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
        with _nginx(nginx, work / "nginx", registry.url) as nginx_url:
            for case, paths, headers in (
                ("simple page (PEP 691 JSON)", pages, {"Accept": PIP_ACCEPT}),
                ("file download (~100 KB wheel)", files, {}),
            ):
                for tool, base in ((DEVPI, registry.url), (NGINX, nginx_url)):
                    _check_and_warm(base, paths, headers, cached=tool == NGINX)
                    log(f"serving: {case}, {tool}, {duration} s")
                    result = _load(wrk, work, base, paths, headers, duration)
                    rows.append(
                        Row(case, tool, result.requests_per_second, "req/s",
                            detail=result.detail())
                    )  # fmt: skip
    return Section(
        "serving",
        TITLE,
        DEVPI,
        with_ratios(rows, DEVPI),
        notes=(
            f"wrk, {THREADS} thread, {CONNECTIONS} connections, {duration} s per row, "
            f"rotating over {projects} projects; everything (wrk, nginx with 1 worker, devpi) "
            f"shares this machine's {os.cpu_count()} CPUs.",
            f"nginx caches `/+f/` files for a day and simple pages for {PAGE_SECONDS} s "
            "(stale pages are served while one request refreshes them); the page cache key "
            "includes `Accept`.",
        ),
    )


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
def _nginx(nginx: str, directory: Path, upstream_url: str) -> Iterator[str]:
    """nginx in front of ``upstream_url`` on a free port; its base URL."""
    (directory / "cache").mkdir(parents=True)
    port = _free_port()
    conf = directory / "nginx.conf"
    conf.write_text(
        _NGINX_CONF.format(
            dir=directory,
            user="user root;" if os.geteuid() == 0 else "",
            upstream=urllib.parse.urlsplit(upstream_url).netloc,
            port=port,
            page_seconds=PAGE_SECONDS,
        )
    )
    arguments = [nginx, "-p", str(directory), "-c", str(conf), "-e", str(directory / "error.log")]
    check_output([*arguments, "-t", "-q"])
    process = subprocess.Popen(
        arguments, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(port, process, directory / "error.log")
        yield url
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
