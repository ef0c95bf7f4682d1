"""A mirror that passes the registry through, records what it served, and answers chosen
paths with attacker-chosen bytes (or bytes without end): the hostile mirror or edge."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"


class Attacker:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.overrides: dict[str, bytes] = {}
        self.recorded: dict[str, bytes] = {}
        self.requested: list[str] = []
        """Every path asked for with GET, in order, repeats included."""
        self.endless: set[str] = set()
        """Paths answered 200 with a body that never ends."""
        self.chunked = False
        """Pass files through as devpi sends them: in chunks, their length not said."""
        self.chunk_pause = 0.0
        """Seconds between chunks, chunked: a slow file, still arriving."""
        self.url = ""

    def replay(self, recorded: dict[str, bytes]) -> None:
        """Serve these recorded answers again (old metadata, old pages)."""
        self.overrides.update(recorded)


@contextmanager
def serve_attacker(upstream: str) -> Iterator[Attacker]:
    attacker = Attacker(upstream)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            attacker.requested.append(path)
            if path in attacker.endless:
                self._endless()
                return
            if path in attacker.overrides:
                kind = SIMPLE_JSON if "/+simple/" in path else "application/json"
                self._send(200, kind, attacker.overrides[path])
                return
            request = urllib.request.Request(
                attacker.upstream + self.path, headers={"Accept": self.headers.get("Accept", "*/*")}
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    body = response.read()
                    attacker.recorded[path] = body
                    kind = response.headers["Content-Type"]
                    if attacker.chunked and "/+f/" in path:
                        self._send_chunked(kind, body)
                    else:
                        self._send(response.status, kind, body)
            except urllib.error.HTTPError as error:
                self._send(error.code, "text/plain", error.read())

        def do_HEAD(self) -> None:
            """The mirror probe: answered as the upstream answers (a liar looks healthy)."""
            request = urllib.request.Request(attacker.upstream + self.path, method="HEAD")
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    status, serial = response.status, response.headers.get("X-Devpi-Serial")
            except urllib.error.HTTPError as error:
                status, serial = error.code, None
            self.send_response(status)
            if serial is not None:
                self.send_header("X-Devpi-Serial", serial)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _send_chunked(self, content_type: str, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(body), 4096):
                chunk = body[start : start + 4096]
                if start and attacker.chunk_pause:
                    self.wfile.flush()
                    time.sleep(attacker.chunk_pause)
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")

        def _endless(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b" " * 65536
            try:
                for _ in range(100_000):  # 6.5 GB: "endless" for any client that does not stop
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except OSError:
                return  # the client hung up: what a careful client does

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    attacker.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield attacker
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
