"""Real parts for the monitoring tests: an upstream index whose files can be made slow, a
throwaway Prometheus, and readers of the registry's ``/+metrics``.

The upstream is a stand-in for PyPI (which cannot be reached offline); its delay is how the
tests make the registry's downloads slow: a mirrored file is fetched from the upstream
while it is being served, so its download takes as long as the upstream does.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import math
import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

PROJECT = "slowpkg"
PROMETHEUS_PACKAGE = "prometheus"
"""The Debian package of ``prometheus`` and ``promtool`` (the tests session installs it)."""
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get(url: str, timeout: float = 60.0) -> bytes:
    with _NO_PROXY.open(url, timeout=timeout) as response:
        return bytes(response.read())


@dataclass
class SlowUpstream:
    """A PEP 503 index of one project, ``slowpkg``, whose files take ``delays[name]`` seconds
    to send."""

    files: dict[str, bytes]
    delays: dict[str, float] = field(default_factory=dict)
    url: str = ""
    authorizations: set[str] = field(default_factory=set)
    """Every ``Authorization`` header received."""

    def page(self) -> bytes:
        links = "".join(
            f'<a href="../../files/{name}#sha256={hashlib.sha256(data).hexdigest()}">{name}</a>\n'
            for name, data in self.files.items()
        )
        return f"<!DOCTYPE html><html><body>\n{links}</body></html>\n".encode()


def slow_upstream_files(versions: tuple[str, ...]) -> dict[str, bytes]:
    return {f"{PROJECT}-{v}.tar.gz": f"{PROJECT} {v}\n".encode() * 512 for v in versions}


@contextmanager
def serve_upstream(upstream: SlowUpstream) -> Iterator[SlowUpstream]:
    """Serve ``upstream`` on 127.0.0.1 in a thread; its ``url`` is the simple API's."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:
            self._answer(body=False)

        def do_GET(self) -> None:
            self._answer(body=True)

        def _answer(self, *, body: bool) -> None:
            if self.headers.get("Authorization"):
                upstream.authorizations.add(self.headers["Authorization"])
            path = urllib.parse.urlparse(self.path).path
            name = path.rpartition("/")[2]
            if path == "/simple/":
                content = f'<!DOCTYPE html><a href="{PROJECT}/">{PROJECT}</a>\n'.encode()
                kind = "text/html"
            elif path == f"/simple/{PROJECT}/":
                content = upstream.page()
                kind = "text/html"
            elif path.startswith("/files/") and name in upstream.files:
                content = upstream.files[name]
                kind = "application/octet-stream"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            if body:
                self._trickle(content, upstream.delays.get(name, 0.0))

        def _trickle(self, content: bytes, seconds: float) -> None:
            """Send ``content`` over ``seconds``, a piece every half second at most (a slow
            link: each read gets data well within devpi's upstream timeout)."""
            pieces = max(1, math.ceil(seconds / 0.5))
            size = math.ceil(len(content) / pieces)
            for start in range(0, len(content), size):
                if seconds:
                    time.sleep(seconds / pieces)
                self.wfile.write(content[start : start + size])
                self.wfile.flush()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    upstream.url = f"http://127.0.0.1:{server.server_address[1]}/simple/"
    try:
        yield upstream
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def file_url(registry_url: str, index: str, filename: str) -> str:
    """The registry's ``/+f/`` URL of ``filename`` on ``index``'s simple page."""
    page = get(f"{registry_url}/{index}/+simple/{PROJECT}/").decode()
    for match in re.finditer(r'href="([^"#]+)', page):
        if match.group(1).endswith("/" + filename):
            base = f"{registry_url}/{index}/+simple/{PROJECT}/"
            return str(urllib.parse.urljoin(base, match.group(1)))
    raise AssertionError(f"{filename} is not on {index}'s page:\n{page}")


def scrape(registry_url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """``/+metrics`` as ``{(sample name, labels): value}`` (parsed by prometheus-client)."""
    text = get(f"{registry_url}/+metrics").decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def sample(
    samples: Mapping[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    """The value of one sample (0 when absent: a counter not yet incremented)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


@dataclass
class Prometheus:
    """A throwaway Prometheus server (1 s scrape and rule evaluation)."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def api(self, path: str, **params: str) -> Any:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        document = json.loads(get(f"{self.url}/api/v1/{path}{query}", timeout=10))
        assert document["status"] == "success", document
        return document["data"]

    def query(self, promql: str) -> list[dict[str, Any]]:
        """An instant query's vector."""
        return list(self.api("query", query=promql)["result"])

    def alerts(self) -> list[dict[str, Any]]:
        """Pending and firing alerts (a resolved alert is no longer listed)."""
        return list(self.api("alerts")["alerts"])


@contextmanager
def run_prometheus(workdir: Path, target: str, rules: Path) -> Iterator[Prometheus]:
    """Prometheus scraping ``target`` (``host:port``) at ``/+metrics`` with ``rules``."""
    binary = shutil.which("prometheus")
    assert binary is not None
    config = workdir / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}\n"
        f"rule_files: [{json.dumps(str(rules))}]\n"
        "scrape_configs:\n"
        "  - job_name: anya-registry\n"
        "    metrics_path: /+metrics\n"
        f"    static_configs: [{{targets: [{json.dumps(target)}]}}]\n"
    )
    port = free_port()
    log = workdir / "prometheus.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [binary, f"--config.file={config}", f"--storage.tsdb.path={workdir / 'data'}",
             f"--web.listen-address=127.0.0.1:{port}"],
            stdout=out, stderr=subprocess.STDOUT, cwd=workdir,
        )  # fmt: skip
    prometheus = Prometheus(f"http://127.0.0.1:{port}", process, log)
    try:
        wait_for(lambda: _ready(prometheus), 30, f"Prometheus ready (log: {log})")
        yield prometheus
    finally:
        process.terminate()
        process.wait(timeout=30)


def _ready(prometheus: Prometheus) -> bool:
    assert prometheus.process.poll() is None, prometheus.log.read_text()
    try:
        get(f"{prometheus.url}/-/ready", timeout=2)
    except OSError:
        return False
    return True


def wait_for(condition: Any, timeout: float, what: str) -> float:
    """Poll ``condition()`` every 0.2 s until true; the seconds it took."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.2)
    return time.monotonic() - started
