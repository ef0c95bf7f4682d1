"""What the standard library's transport does on its own: it keeps a connection alive for the
next request to the same server, and finds out when the server closed one; it decodes a body
as the pooled transport does. And threads asking through either transport at once share its
one pool of kept connections."""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest

from anya_plugins.sources.http import HttpClient
from tests.sources.network import _Threaded

BODY = b"the same body, " * 4000


class KeepAliveServer(_Threaded):
    """An HTTP/1.1 server that keeps connections open; counts the connections it accepted.
    ``/close`` answers and then closes the connection without saying so; ``/slow`` answers
    after 20 ms."""

    def __init__(self) -> None:
        self.connections = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                owner.connections += 1
                super().setup()

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                encoding, _, _ = self.path.strip("/").partition("?")
                if encoding == "slow":
                    time.sleep(0.02)  # requests from several threads overlap
                body, headers = encoded(encoding)
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers:
                    self.send_header(name, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)
                if encoding == "close":
                    self.close_connection = True

            do_HEAD = do_GET

        super().__init__(Handler)
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def encoded(path: str) -> tuple[bytes, list[tuple[str, str]]]:
    """The body and headers for ``/gzip``, ``/deflate``, ``/raw-deflate``, ``/two-members``,
    ``/repeated``; BODY as it is for any other path."""
    if path == "gzip":
        return gzip(BODY), [("Content-Encoding", "gzip")]
    if path == "two-members":
        half = len(BODY) // 2
        return gzip(BODY[:half]) + gzip(BODY[half:]), [("Content-Encoding", "gzip")]
    if path == "deflate":
        return zlib.compress(BODY), [("Content-Encoding", "deflate")]
    if path == "raw-deflate":
        packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        return packer.compress(BODY) + packer.flush(), [("Content-Encoding", "deflate")]
    if path == "repeated":
        return BODY, [("X-Anya", "one"), ("X-Anya", "two")]
    return BODY, []


def gzip(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=31)
    return packer.compress(data) + packer.flush()


@pytest.fixture
def server() -> Iterator[KeepAliveServer]:
    keep_alive = KeepAliveServer()
    yield keep_alive
    keep_alive.stop()


@pytest.fixture
def http() -> Iterator[HttpClient]:
    with HttpClient(timeout=2, pooled=False) as client:
        yield client


def test_a_connection_read_to_its_end_serves_the_next_request(
    server: KeepAliveServer, http: HttpClient
) -> None:
    assert http.head(f"{server.url}/") == 200
    for _ in range(2):
        with http.get(f"{server.url}/") as response:
            assert response.read() == BODY

    assert server.connections == 1


def test_a_body_left_unread_closes_its_connection(
    server: KeepAliveServer, http: HttpClient
) -> None:
    with http.get(f"{server.url}/") as response:
        assert response.status == 200  # its body never read
    with http.get(f"{server.url}/") as response:
        assert response.read() == BODY

    assert server.connections == 2


def test_a_connection_the_server_closed_is_not_reused(
    server: KeepAliveServer, http: HttpClient
) -> None:
    with http.get(f"{server.url}/close") as response:
        assert response.read() == BODY
    with http.get(f"{server.url}/") as response:
        assert response.read() == BODY

    assert server.connections == 2


@pytest.mark.parametrize("path", ["gzip", "two-members", "deflate", "raw-deflate"])
def test_an_encoded_body_is_decoded(path: str, server: KeepAliveServer) -> None:
    for pooled in (True, False):
        with (
            HttpClient(timeout=2, pooled=pooled) as http,
            http.get(f"{server.url}/{path}") as response,
        ):
            assert response.read() == BODY, "pooled" if pooled else "stdlib"


def test_an_encoded_file_is_kept_as_sent_when_asked(
    server: KeepAliveServer, http: HttpClient
) -> None:
    with http.get(f"{server.url}/gzip") as response:
        assert b"".join(response.iter_bytes(decode=False)) == gzip(BODY)


def test_a_repeated_header_reads_as_its_values_joined(server: KeepAliveServer) -> None:
    for pooled in (True, False):
        with (
            HttpClient(timeout=2, pooled=pooled) as http,
            http.get(f"{server.url}/repeated") as response,
        ):
            assert response.headers["x-anya"] == "one, two"
            assert response.read() == BODY


@pytest.mark.parametrize("pooled", [True, False], ids=["pooled", "stdlib"])
def test_threads_asking_at_once_share_one_pool_of_kept_connections(
    server: KeepAliveServer, pooled: bool
) -> None:
    """Each transport keeps a connection per thread asking at once (the standard library's
    used to keep one per server: every other thread's was closed and opened again)."""
    threads, requests = 8, 10
    together = threading.Barrier(threads)

    def ask(http: HttpClient) -> None:
        for _ in range(requests):
            together.wait()  # every thread has put its connection back: all ask at once
            with http.get(f"{server.url}/slow") as response:
                assert response.read() == BODY

    with HttpClient(timeout=5, pooled=pooled) as http:
        workers = [threading.Thread(target=ask, args=(http,)) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    # a pool made by each thread that asked first would open a connection of its own
    assert server.connections <= threads
