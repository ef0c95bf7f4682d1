"""The registry topology with real processes: a primary devpi, two replicas, an nginx edge
in front of each; uploads through twine, reads through urllib, the Anya client and pip.

The tests run in file order: the last ones stop a replica and then the primary."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from anya_plugins.registry import nginx_edge, server, topology
from anya_plugins.sources.download import download
from anya_plugins.sources.http import HttpClient
from anya_plugins.sources.mirrors import MirrorSet
from anya_plugins.sources.regions import MirrorMemory, RegionRouter
from anya_plugins.sources.simple import SimpleIndex
from tests.edge.conftest import (
    MEMBER,
    PRIVATE,
    PUBLIC,
    Topology,
    make_wheel,
    needs_nginx,
)

pytestmark = [needs_nginx, pytest.mark.slow]

FRESHNESS_BOUND_SECONDS = 10.0
"""Replication (~25 ms measured) plus the edge's page max-age (2 s), with room for a loaded
machine (the benchmark prints the figure measured)."""


def get(url: str, *, auth: tuple[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url)
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def get_file(url: str, timeout: float = 60.0) -> bytes:
    """A file from a replica, asked again while it answers 500: a replica still fetching a
    file from its primary answers 500 for it (devpi's own race, measured 7 in 20)."""
    deadline = time.monotonic() + timeout
    while True:
        status, _, body = get(url)
        if status != 500 or time.monotonic() > deadline:
            assert status == 200, f"{url}: HTTP {status}"
            return body
        time.sleep(0.2)


def file_url(base: str, index: str, project: str, version: str) -> str:
    page_url = f"{base}/{index}/+simple/{project}/"
    status, _, body = get(page_url, auth=(MEMBER.user, MEMBER.password))
    assert status == 200, page_url
    hrefs: list[bytes] = re.findall(rb'href="([^"#]+)', body)
    wanted = [h.decode() for h in hrefs if f"-{version}-".encode() in h]
    assert wanted, f"{project} {version} is not on {page_url}"
    return urllib.parse.urljoin(page_url, wanted[0])


def test_every_replica_serves_what_the_primary_published(edge_topology: Topology) -> None:
    wheel = edge_topology.wheels / "edge_pkg-1.0-py3-none-any.whl"
    for node in edge_topology.status().nodes:
        assert node.url is not None and node.health == "ok", node
        body = get_file(file_url(node.url, PUBLIC, "edge-pkg", "1.0"))
        assert hashlib.sha256(body).digest() == hashlib.sha256(wheel.read_bytes()).digest()


def test_registry_status_shows_each_node_in_sync(edge_topology: Topology) -> None:
    nodes = edge_topology.status().nodes
    assert [node.name for node in nodes] == ["primary", "replica-1", "replica-2"]
    assert all(node.lag == 0 and node.edge_url for node in nodes), nodes


def test_registry_status_command_shows_nodes_lag_and_health(edge_topology: Topology) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "anya_plugins.cli", "registry", "status", "--json",
         "--state-dir", str(edge_topology.state_dir)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    nodes = json.loads(done.stdout)["nodes"]
    assert [(n["name"], n["role"], n["health"], n["lag"]) for n in nodes] == [
        ("primary", "primary", "ok", 0),
        ("replica-1", "replica", "ok", 0),
        ("replica-2", "replica", "ok", 0),
    ]
    assert all(n["edge_url"] and "cache_hit_ratio" in n for n in nodes)


def test_edge_answers_repeated_file_requests_from_its_cache(edge_topology: Topology) -> None:
    edge = edge_topology.node("replica-1").edge_url
    assert edge is not None
    url = file_url(edge, PUBLIC, "edge-pkg", "1.0")
    statuses = [get(url)[1].get(nginx_edge.CACHE_STATUS_HEADER) for _ in range(3)]
    assert statuses[0] in ("MISS", "HIT") and statuses[1:] == ["HIT", "HIT"]
    _, headers, _ = get(url)
    assert "immutable" in headers["Cache-Control"]
    time.sleep(1.2)  # the access log is flushed every second
    node = edge_topology.node("replica-1")
    assert node.cache_hit_ratio is not None and node.cache_hit_ratio > 0


def test_edge_caches_simple_pages_briefly_and_compresses_them(edge_topology: Topology) -> None:
    edge = edge_topology.node("primary").edge_url
    page = f"{edge}/{PUBLIC}/+simple/edge-pkg/"
    request = urllib.request.Request(page, headers={"Accept-Encoding": "gzip"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    for expected in ("MISS", "HIT"):
        with opener.open(request, timeout=30) as response:
            assert response.headers[nginx_edge.CACHE_STATUS_HEADER] in (expected, "HIT")
            assert response.headers["Content-Encoding"] == "gzip"
            assert response.headers["Cache-Control"] == "max-age=2, must-revalidate"


def test_cached_private_file_is_refused_to_anonymous(edge_topology: Topology) -> None:
    """nginx's cache would answer anyone once a member fetched the file; the edge asks devpi
    (auth_request /+authcheck) before every answer."""
    edge = edge_topology.node("replica-2").edge_url
    assert edge is not None
    url = file_url(edge, PRIVATE, "secret-pkg", "1.0")
    member = (MEMBER.user, MEMBER.password)
    assert get(url, auth=member)[0] == 200
    status, headers, _ = get(url, auth=member)
    assert (status, headers.get(nginx_edge.CACHE_STATUS_HEADER)) == (
        200,
        "HIT",
    )  # files never expire
    assert get(url)[0] in (401, 403)
    assert get(url, auth=("member", "wrong-password"))[0] in (401, 403)


def test_cached_private_page_is_refused_to_anonymous(edge_topology: Topology) -> None:
    edge = edge_topology.node("replica-2").edge_url
    page = f"{edge}/{PRIVATE}/+simple/secret-pkg/"
    member = (MEMBER.user, MEMBER.password)
    assert get(page, auth=member)[0] == 200
    # served from the cache (UPDATING: a stale copy while one request refreshes it)
    assert get(page, auth=member)[1].get(nginx_edge.CACHE_STATUS_HEADER) in ("HIT", "UPDATING")
    status, _, body = get(page)
    assert status == 401
    assert b"secret_pkg" not in body


def test_new_upload_reaches_every_replica_and_edge_within_the_bound(
    edge_topology: Topology,
) -> None:
    edges = edge_topology.status().edge_urls
    for edge in edges:  # the page 1.0 is cached at every edge
        get(f"{edge}/{PUBLIC}/+simple/edge-pkg/")
    edge_topology.publish(PUBLIC, make_wheel(edge_topology.wheels, "edge-pkg", "2.0"))
    started = time.monotonic()  # twine returned: the primary has committed it
    pending = set(edges)
    while pending and time.monotonic() - started < FRESHNESS_BOUND_SECONDS:
        pending = {
            edge for edge in pending
            if b"edge_pkg-2.0-" not in get(f"{edge}/{PUBLIC}/+simple/edge-pkg/")[2]
        }  # fmt: skip
        time.sleep(0.05)
    assert not pending, f"2.0 not on {pending} within {FRESHNESS_BOUND_SECONDS} s"


def test_client_prefers_its_region_among_up_to_date_mirrors(
    edge_topology: Topology, tmp_path: Path
) -> None:
    edges = {node.name: node.edge_url for node in edge_topology.status().nodes}
    urls = [f"{edges[name]}/{PUBLIC}/+simple/" for name in ("primary", "replica-2", "replica-1")]
    memory = tmp_path / "mirrors.json"
    router = RegionRouter({urls[1]: "eu", urls[2]: "us"}, "us", MirrorMemory(memory, 3600))
    with HttpClient(timeout=10) as http:
        mirrors = MirrorSet(urls, http=http, router=router)
        SimpleIndex(mirrors).project_page("edge-pkg")
    first = mirrors.choices[0]
    assert first.url == urls[2] and "this client's region" in first.reason
    assert all(choice.up and choice.behind == 0 for choice in mirrors.choices)
    assert mirrors.used_url is not None and mirrors.used_url.startswith(urls[2])
    assert set(json.loads(memory.read_text())) == set(urls)  # kept for the next run


def test_replica_stopped_mid_download_fails_over(edge_topology: Topology, tmp_path: Path) -> None:
    """The client reads the first bytes from replica-2, replica-2 is killed, the download
    goes on from replica-1 and the file's hash is checked as ever."""
    wheel = make_wheel(edge_topology.wheels, "big-pkg", "1.0", size=40_000_000)
    edge_topology.publish(PUBLIC, wheel)
    r1, r2 = edge_topology.node("replica-1"), edge_topology.node("replica-2")
    assert r1.url and r2.url
    topology.wait_for_serial([r1.url, r2.url], edge_topology.node("primary").serial or 0)
    for replica in (r1.url, r2.url):  # both hold the file before the test starts
        get_file(file_url(replica, PUBLIC, "big-pkg", "1.0"))
    with HttpClient(timeout=10) as http:
        mirrors = MirrorSet(
            [f"{r2.url}/{PUBLIC}/+simple/", f"{r1.url}/{PUBLIC}/+simple/"], http=http
        )
        index = SimpleIndex(mirrors)
        (link,) = index.project_page("big-pkg").files
        assert mirrors.used_url is not None and mirrors.used_url.startswith(r2.url)
        pid = server.status(edge_topology.spec("replica-2").state_dir).pid
        assert pid is not None
        seen: list[tuple[int, int | None]] = []

        def progress(done: int, total: int | None) -> None:
            if not seen:
                os.kill(pid, signal.SIGKILL)
            seen.append((done, total))

        path = download(
            link, tmp_path, expected_sha256=hashlib.sha256(wheel.read_bytes()).hexdigest(),
            mirrors=mirrors, progress=progress,
        )  # fmt: skip
    assert path.read_bytes() == wheel.read_bytes()
    assert mirrors.used_url is not None and mirrors.used_url.startswith(r1.url)
    restarts = [done for done, _ in seen[1:] if done < seen[-1][0] and done <= 65536]
    assert restarts, "the download did not start again from another mirror"
    server.stop(edge_topology.spec("replica-2").state_dir)


def test_replica_frozen_at_an_old_serial_is_detected_and_not_used(
    edge_topology: Topology, tmp_path: Path
) -> None:
    """replica-2 comes back following a primary that is not there: it serves, at its old
    serial. Status shows it behind; the client, whose region it is in, passes it over."""
    spec = edge_topology.spec("replica-2")
    server.stop(spec.state_dir)
    edge_topology.publish(PUBLIC, make_wheel(edge_topology.wheels, "edge-pkg", "3.0"))
    server.start(spec.state_dir, primary_url="http://127.0.0.1:9", port=0)
    # its edge still points at the old port: restart it in front of the new one
    topology.start_nodes(edge_topology.state_dir, 2, edge=True, sync_timeout=0.0)
    time.sleep(2.1)  # the copies of the index page cached by the edges have expired
    frozen = edge_topology.node("replica-2")
    assert frozen.health == "behind" and (frozen.lag or 0) > 0, frozen
    edges = {node.name: node.edge_url for node in edge_topology.status().nodes}
    urls = [f"{edges[name]}/{PUBLIC}/+simple/" for name in ("primary", "replica-2", "replica-1")]
    router = RegionRouter(
        {urls[1]: "eu", urls[2]: "us"}, "eu", MirrorMemory(tmp_path / "mirrors.json", 3600)
    )
    with HttpClient(timeout=10) as http:
        mirrors = MirrorSet(urls, http=http, router=router)
        page = SimpleIndex(mirrors).project_page("edge-pkg")
        frozen_choice = next(c for c in mirrors.choices if c.url == urls[1])
    assert frozen_choice.behind > 0 and "BEHIND" in frozen_choice.reason
    assert mirrors.choices[-1].url == urls[1]
    assert "3.0" in {str(link.version) for link in page.files}


def test_installs_keep_working_from_a_replica_when_the_primary_stops(
    edge_topology: Topology, tmp_path: Path
) -> None:
    server.stop(edge_topology.state_dir)
    replica = edge_topology.node("replica-1")
    assert replica.health == "ok" and replica.edge_url, replica
    target = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-cache-dir",
         "--disable-pip-version-check", "--target", str(target),
         "--index-url", f"{replica.edge_url}/{PUBLIC}/+simple/", "edge-pkg==3.0"],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "PIP_CONFIG_FILE": os.devnull},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (target / "edge_pkg" / "__init__.py").read_text() == "VERSION = '3.0'\n"


def test_registry_down_stops_every_node_and_edge(edge_topology: Topology) -> None:
    edges = [spec.edge_dir for spec in topology.load(edge_topology.state_dir) if spec.edge_dir]
    done = subprocess.run(
        [sys.executable, "-m", "anya_plugins.cli", "registry", "down",
         "--state-dir", str(edge_topology.state_dir)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "replica-1" in done.stdout and "edge" in done.stdout
    assert all(nginx_edge.running_pid(edge) is None for edge in edges)
    assert not topology.load(edge_topology.state_dir)
