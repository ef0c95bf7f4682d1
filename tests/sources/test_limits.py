"""Index pages and metadata files are read with a size cap and a time cap: a huge or trickling
answer is refused, naming the URL and the cap, without the memory the whole body would take.
Distribution downloads are not capped (their sha256 is known) and still stream."""

from __future__ import annotations

import threading
import time
import tracemalloc
import zlib
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from anya_plugins.config.layers import load_config
from anya_plugins.sources.errors import (
    IndexUnreachable,
    ResponseTooLarge,
    ResponseTooSlow,
    SourceError,
    SourcesConfigError,
)
from anya_plugins.sources.http import HttpClient, ReadLimit
from anya_plugins.sources.mirrors import MirrorSet
from anya_plugins.sources.search import search
from anya_plugins.sources.settings import (
    DEFAULT_MAX_METADATA_MB,
    DEFAULT_MAX_PAGE_MB,
    DEFAULT_READ_SECONDS,
    LimitSettings,
    load_sources,
    parse_sources,
)
from anya_plugins.sources.simple import SIMPLE_JSON, FileLink, SimpleIndex
from tests.sources.conftest import PROBE_TIMEOUT, TIMEOUT, ServeRoutes
from tests.sources.network import Route, Server, send
from tests.sources.transports import both_transports  # noqa: F401

MIB = 1024 * 1024
OFFERED = 64 * MIB
"""What a hostile server offers: far more than any cap below."""
CHUNK = b'{"filename": "x-1.0-py3-none-any.whl", "url": "x"}, ' * 1300


class Flood:
    """A route that streams OFFERED bytes, generated as it goes, and counts what it got out."""

    def __init__(self, *, declare_length: bool, content_type: str = SIMPLE_JSON) -> None:
        self.declare_length = declare_length
        self.content_type = content_type
        self.sent = 0

    def __call__(self, handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", self.content_type)
        if self.declare_length:
            handler.send_header("Content-Length", str(OFFERED))
        handler.end_headers()
        try:
            handler.wfile.write(b'{"meta": {"api-version": "1.1"}, "files": [')
            while self.sent < OFFERED:
                handler.wfile.write(CHUNK)
                self.sent += len(CHUNK)
        except OSError:
            return  # the client hung up: what a cap should make it do


def trickle(stopping: threading.Event) -> Route:
    """A route that promises 1 MiB and sends one byte every 50 ms, for 5 s at most (so that a
    client without a time cap fails instead of hanging)."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", SIMPLE_JSON)
        handler.send_header("Content-Length", str(MIB))
        handler.end_headers()
        give_up = time.monotonic() + 5
        try:
            while not stopping.wait(0.05) and time.monotonic() < give_up:
                handler.wfile.write(b" ")
                handler.wfile.flush()
        except OSError:
            return

    return route


def index(server: Server, limits: LimitSettings, pooled: bool) -> SimpleIndex:
    mirrors = MirrorSet(
        [f"{server.url()}/simple/"],
        http=HttpClient(timeout=TIMEOUT, pooled=pooled),
        probe_timeout=PROBE_TIMEOUT,
    )
    return SimpleIndex(mirrors, limits=limits)


def test_a_page_over_the_cap_stops_streaming_as_soon_as_it_passes(
    serve: ServeRoutes, pooled: bool
) -> None:
    flood = Flood(declare_length=False)
    server = serve({"/simple/": lambda h: send(h, 200), "/simple/huge/": flood})
    client = index(server, LimitSettings(max_page_mb=1), pooled)

    tracemalloc.start()
    try:
        with pytest.raises(ResponseTooLarge) as caught:
            client.project_page("huge")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    url = f"{server.url()}/simple/huge/"
    assert caught.value.message == (
        f"{url}: the index page is larger than the 1 MiB limit (sources.max_page_mb)"
    )
    assert caught.value.exit_code == SourceError.exit_code == 8
    assert caught.value.hint is not None and "sources.max_page_mb" in caught.value.hint
    assert peak < 8 * MIB
    time.sleep(0.2)  # what the kernel buffered is all the server got out
    assert flood.sent < OFFERED // 4


def test_a_compressed_page_that_inflates_past_the_cap_is_refused(
    serve: ServeRoutes, pooled: bool
) -> None:
    packer = zlib.compressobj(wbits=31)  # gzip
    zeros = bytes(MIB)
    bomb = b"".join(packer.compress(zeros) for _ in range(64)) + packer.flush()
    headers = {"Content-Encoding": "gzip"}
    server = serve(
        {
            "/simple/": lambda h: send(h, 200),
            "/simple/bomb/": lambda h: send(
                h, 200, bomb, content_type=SIMPLE_JSON, headers=headers
            ),
        }
    )

    tracemalloc.start()
    try:
        with pytest.raises(ResponseTooLarge, match=r"/simple/bomb/: the index page is larger"):
            index(server, LimitSettings(max_page_mb=1), pooled).project_page("bomb")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert len(bomb) < MIB // 4
    assert peak < 8 * MIB


def test_a_declared_length_over_the_cap_is_refused_before_reading(
    serve: ServeRoutes, pooled: bool
) -> None:
    stopping = threading.Event()

    def promise(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", SIMPLE_JSON)
        handler.send_header("Content-Length", str(OFFERED))
        handler.end_headers()
        stopping.wait(5)  # no body: a client that read would time out instead

    server = serve({"/simple/": lambda h: send(h, 200), "/simple/huge/": promise})
    try:
        with pytest.raises(ResponseTooLarge, match=r"larger than the 20 MiB limit"):
            index(server, LimitSettings(), pooled).project_page("huge")
    finally:
        stopping.set()


def test_a_body_of_exactly_the_cap_is_read_and_one_byte_more_is_not(
    serve: ServeRoutes,
    pooled: bool,
) -> None:
    server = serve(
        {
            "/exact": lambda h: send(h, 200, b"x" * 1000),
            "/over": lambda h: send(h, 200, b"x" * 1001),
        },
    )
    limit = ReadLimit("index page", 1000, 5, size_key="k", time_key="t")

    with HttpClient(timeout=TIMEOUT, pooled=pooled) as http:
        with http.get(f"{server.url()}/exact") as response:
            assert response.read(limit) == b"x" * 1000
        with http.get(f"{server.url()}/over") as response, pytest.raises(ResponseTooLarge):
            response.read(limit)


def test_a_metadata_file_over_its_cap_is_refused(serve: ServeRoutes, pooled: bool) -> None:
    flood = Flood(declare_length=False, content_type="text/plain")
    server = serve(
        {"/simple/": lambda h: send(h, 200), "/files/x-1.0-py3-none-any.whl.metadata": flood},
    )
    link = FileLink(
        "x-1.0-py3-none-any.whl", f"{server.url()}/files/x-1.0-py3-none-any.whl", core_metadata=True
    )

    with pytest.raises(ResponseTooLarge) as caught:
        index(server, LimitSettings(max_metadata_mb=0.25), pooled).fetch_core_metadata(link)

    assert caught.value.message == (
        f"{link.metadata_url}: the metadata file is larger than the 256 KiB limit "
        "(sources.max_metadata_mb)"
    )


def test_a_provenance_file_over_the_metadata_cap_is_refused(
    serve: ServeRoutes, pooled: bool
) -> None:
    flood = Flood(declare_length=True, content_type="application/json")
    server = serve({"/simple/": lambda h: send(h, 200), "/files/x.provenance": flood})
    link = FileLink(
        "x-1.0-py3-none-any.whl",
        f"{server.url()}/files/x-1.0-py3-none-any.whl",
        provenance=f"{server.url()}/files/x.provenance",
    )

    with pytest.raises(ResponseTooLarge, match=r"x\.provenance: the metadata file is larger"):
        index(server, LimitSettings(), pooled).fetch_provenance(link)


def test_search_results_over_the_page_cap_are_refused(serve: ServeRoutes, pooled: bool) -> None:
    flood = Flood(declare_length=False, content_type="application/json")
    server = serve({"/simple/": lambda h: send(h, 200), "/+anya/search": flood})

    with pytest.raises(ResponseTooLarge, match=r"/\+anya/search\?q=x: the index page is larger"):
        search(index(server, LimitSettings(max_page_mb=1), pooled), "x")


def test_a_page_that_trickles_is_given_up_at_the_time_cap(serve: ServeRoutes, pooled: bool) -> None:
    stopping = threading.Event()
    routes = {"/simple/": lambda h: send(h, 200), "/simple/slow/": trickle(stopping)}
    server = serve(routes)
    started = time.monotonic()
    try:
        with pytest.raises(IndexUnreachable) as caught:
            index(server, LimitSettings(read_seconds=1), pooled).project_page("slow")
    finally:
        stopping.set()

    elapsed = time.monotonic() - started
    (attempt,) = caught.value.attempts
    assert attempt.url == f"{server.url()}/simple/slow/"
    assert attempt.reason == (
        "reading the index page took longer than the 1 s limit (sources.read_seconds)"
    )
    assert 1 <= elapsed < 1 + TIMEOUT + 1


def test_a_trickling_body_read_directly_raises_too_slow(serve: ServeRoutes, pooled: bool) -> None:
    stopping = threading.Event()
    server = serve({"/slow": trickle(stopping)})
    limit = ReadLimit("metadata file", MIB, 0.5, size_key="k", time_key="sources.read_seconds")

    try:
        with (
            HttpClient(timeout=TIMEOUT, pooled=pooled) as http,
            http.get(f"{server.url()}/slow") as response,
            pytest.raises(ResponseTooSlow, match=r"/slow: reading the metadata file took"),
        ):
            response.read(limit)
    finally:
        stopping.set()


def test_downloads_are_not_capped_and_still_stream(serve: ServeRoutes, pooled: bool) -> None:
    body = b"w" * (3 * MIB)
    server = serve({"/files/big.whl": lambda h: send(h, 200, body)})

    with (
        HttpClient(timeout=TIMEOUT, pooled=pooled) as http,
        http.get(f"{server.url()}/files/big.whl") as response,
    ):
        sizes = [len(chunk) for chunk in response.iter_bytes(chunk_size=64 * 1024)]

    assert sum(sizes) == len(body)
    assert max(sizes) <= 64 * 1024


def test_the_caps_and_the_ca_bundle_are_read_from_every_layer(tmp_path: Path) -> None:
    defaults = parse_sources({}, environ={"ANYA_CACHE_DIR": str(tmp_path)}).limits
    config_file = tmp_path / "extensions.toml"
    config_file.write_text("[sources]\nmax_page_mb = 50\nread_seconds = 30\n")
    environ = {"ANYA_SOURCES__MAX_METADATA_MB": "0.5", "ANYA_SOURCES__CA_BUNDLE": "~/corp.pem"}
    config = load_config(config_file, environ=environ)

    settings = load_sources(config, environ={"ANYA_CACHE_DIR": str(tmp_path)})
    limits = settings.limits

    assert defaults == LimitSettings(DEFAULT_MAX_PAGE_MB, DEFAULT_MAX_METADATA_MB, 60)
    assert DEFAULT_READ_SECONDS == 60
    assert (limits.max_page_bytes, limits.max_metadata_bytes) == (50 * MIB, MIB // 2)
    assert limits.read_seconds == 30
    assert settings.ca_bundle == Path("~/corp.pem").expanduser()


@pytest.mark.parametrize("key", ["max_page_mb", "max_metadata_mb", "read_seconds"])
def test_a_cap_must_be_above_zero(key: str, tmp_path: Path) -> None:
    with pytest.raises(SourcesConfigError, match=rf"^sources\.{key}: must be above 0"):
        parse_sources({key: 0}, environ={"ANYA_CACHE_DIR": str(tmp_path)})
