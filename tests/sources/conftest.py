"""Real HTTP servers on 127.0.0.1, each in a thread, serving a small simple index.

A :class:`Catalog` holds wheels built in ``tmp_path``; every :class:`IndexServer` made
from one catalog serves the same content (as mirrors do) under ``/simple/`` (PEP 691 JSON
or PEP 503 HTML, by the ``Accept`` header) and ``/files/``. A server can also misbehave:
answer 500, hang past the client's timeout, drop the connection, or break off a file's body
(cut it, or stall in the middle of it).
"""

from __future__ import annotations

import hashlib
import html
import json
import socket
import ssl
import threading
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Literal

import pytest

from anya_plugins.sources.cache import DownloadCache
from anya_plugins.sources.http import HttpClient
from anya_plugins.sources.mirrors import MirrorSet
from anya_plugins.sources.simple import SIMPLE_JSON, SimpleIndex
from tests.sources.network import Route, Server

TIMEOUT = 0.5
"""The client timeout in these tests: a hanging server costs this much, no more."""
PROBE_TIMEOUT = 0.2

Behaviour = Literal["serve", "error", "hang", "drop", "break-body", "stall-body"]
PageFormat = Literal["negotiate", "json", "html"]


def extension_metadata(name: str, version: str) -> str:
    return (
        "Metadata-Version: 2.1\n"
        f"Name: {name}\n"
        f"Version: {version}\n"
        "Summary: A test extension\n"
        "Keywords: anya-category:core/bitcoin,anya-host-api:>=1.0,anya-host-api:<2\n"
        "Requires-Python: >=3.11\n"
    )


def make_wheel(directory: Path, name: str, version: str) -> Path:
    """A small real wheel with a METADATA file."""
    dist = name.replace("-", "_")
    wheel = directory / f"{dist}-{version}-py3-none-any.whl"
    info = f"{dist}-{version}.dist-info"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(f"{dist}/__init__.py", f"VERSION = {version!r}\n")
        archive.writestr(f"{info}/METADATA", extension_metadata(name, version))
        archive.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\n")
        archive.writestr(f"{info}/RECORD", "")
    return wheel


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class CatalogFile:
    project: str
    filename: str
    content: bytes
    metadata: str | None = None
    requires_python: str | None = None
    yanked: bool | str = False
    served: bytes | None = None
    """Bytes the server sends instead of ``content`` (a corrupted file)."""

    @property
    def sha256(self) -> str:
        return sha256(self.content)


@dataclass
class Catalog:
    """What the test index holds: projects and their files."""

    directory: Path
    files: list[CatalogFile] = field(default_factory=list)

    def add_wheel(
        self,
        project: str,
        version: str,
        *,
        requires_python: str | None = None,
        yanked: bool | str = False,
    ) -> CatalogFile:
        wheel = make_wheel(self.directory, project, version)
        metadata = extension_metadata(project, version)
        return self.add(
            project,
            wheel.name,
            wheel.read_bytes(),
            metadata=metadata,
            requires_python=requires_python,
            yanked=yanked,
        )

    def add(
        self,
        project: str,
        filename: str,
        content: bytes,
        *,
        metadata: str | None = None,
        requires_python: str | None = None,
        yanked: bool | str = False,
    ) -> CatalogFile:
        entry = CatalogFile(project, filename, content, metadata, requires_python, yanked)
        self.files.append(entry)
        return entry

    def project_files(self, project: str) -> list[CatalogFile]:
        return [entry for entry in self.files if entry.project == project]

    def by_filename(self, filename: str) -> CatalogFile | None:
        return next((entry for entry in self.files if entry.filename == filename), None)

    def json_page(self, project: str) -> bytes:
        files = []
        for entry in self.project_files(project):
            item: dict[str, object] = {
                "filename": entry.filename,
                "url": f"../../files/{entry.filename}",
                "hashes": {"sha256": entry.sha256},
                "yanked": entry.yanked,
            }
            if entry.requires_python:
                item["requires-python"] = entry.requires_python
            if entry.metadata is not None:
                item["core-metadata"] = {"sha256": sha256(entry.metadata.encode())}
            files.append(item)
        page = {"meta": {"api-version": "1.1"}, "name": project, "files": files}
        return json.dumps(page).encode()

    def html_page(self, project: str) -> bytes:
        anchors = []
        for entry in self.project_files(project):
            attributes = f'href="../../files/{entry.filename}#sha256={entry.sha256}"'
            if entry.requires_python:
                attributes += f' data-requires-python="{html.escape(entry.requires_python)}"'
            if entry.yanked is not False:
                reason = entry.yanked if isinstance(entry.yanked, str) else ""
                attributes += f' data-yanked="{html.escape(reason)}"'
            if entry.metadata is not None:
                digest = sha256(entry.metadata.encode())
                attributes += f' data-core-metadata="sha256={digest}"'
            anchors.append(f"<a {attributes}>{entry.filename}</a><br/>")
        body = "\n".join(anchors)
        return (
            '<!DOCTYPE html><html><head><meta name="pypi:repository-version" content="1.1">'
            f"<title>Links for {project}</title></head><body>{body}</body></html>"
        ).encode()


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    accept: str


class IndexServer:
    """One real HTTP server serving a catalog, with a behaviour that can change mid-test."""

    def __init__(self, catalog: Catalog, behaviour: Behaviour, page_format: PageFormat) -> None:
        self.catalog = catalog
        self.behaviour: Behaviour = behaviour
        self.page_format: PageFormat = page_format
        self.requests: list[Request] = []
        self.stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_port}"

    @property
    def simple_url(self) -> str:
        return f"{self.url}/simple/"

    def gets(self, path_prefix: str = "/") -> list[Request]:
        """The GET requests for paths under ``path_prefix`` (probes are HEAD requests)."""
        return [r for r in self.requests if r.method == "GET" and r.path.startswith(path_prefix)]

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()


def _handler(server: IndexServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_HEAD(self) -> None:
            self._answer(head=True)

        def do_GET(self) -> None:
            self._answer(head=False)

        def _answer(self, *, head: bool) -> None:
            server.requests.append(Request(self.command, self.path, self.headers.get("Accept", "")))
            if server.behaviour == "error":
                self._send(500, "text/plain", b"boom", head=head)
            elif server.behaviour == "hang":
                server.stopping.wait(10)
            elif server.behaviour == "drop":
                self.close_connection = True
            else:
                self._serve(head=head)

        def _serve(self, *, head: bool) -> None:
            parts = self.path.split("?")[0].strip("/").split("/")
            if parts == ["simple"]:
                self._send(200, "text/html", b"<html><body></body></html>", head=head)
            elif len(parts) == 2 and parts[0] == "simple":
                self._page(parts[1], head=head)
            elif len(parts) == 2 and parts[0] == "files":
                self._file(parts[1], head=head)
            else:
                self._send(404, "text/plain", b"not found", head=head)

        def _page(self, project: str, *, head: bool) -> None:
            if not server.catalog.project_files(project):
                self._send(404, "text/plain", b"no such project", head=head)
                return
            wants_json = SIMPLE_JSON in self.headers.get("Accept", "")
            if server.page_format == "json" or (server.page_format == "negotiate" and wants_json):
                self._send(200, SIMPLE_JSON, server.catalog.json_page(project), head=head)
            else:
                page = server.catalog.html_page(project)
                self._send(200, "text/html; charset=utf-8", page, head=head)

        def _file(self, name: str, *, head: bool) -> None:
            metadata_of = name.removesuffix(".metadata")
            entry = server.catalog.by_filename(metadata_of)
            if entry is not None and name.endswith(".metadata") and entry.metadata is not None:
                self._send(200, "text/plain", entry.metadata.encode(), head=head)
                return
            entry = server.catalog.by_filename(name)
            if entry is None:
                self._send(404, "text/plain", b"no such file", head=head)
                return
            body = entry.served if entry.served is not None else entry.content
            if server.behaviour in ("break-body", "stall-body") and not head:
                self._send_half(body, stall=server.behaviour == "stall-body")
                return
            self._send(200, "application/octet-stream", body, head=head)

        def _send_half(self, body: bytes, *, stall: bool) -> None:
            """Headers for the whole body, half of it, then a cut (or a long silence)."""
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            if stall:
                server.stopping.wait(10)
            self.connection.shutdown(socket.SHUT_RDWR)

        def _send(self, status: int, content_type: str, body: bytes, *, head: bool) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)

    return Handler


ServerFactory = Callable[..., IndexServer]


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    """Two versions of one extension, as wheels built in tmp_path."""
    directory = tmp_path / "catalog"
    directory.mkdir()
    catalog = Catalog(directory)
    catalog.add_wheel("anya-ext-demo", "1.0", requires_python=">=3.11")
    catalog.add_wheel("anya-ext-demo", "1.1", yanked="broken <build>")
    return catalog


@pytest.fixture
def make_server(catalog: Catalog) -> Iterator[ServerFactory]:
    """Start servers of the catalog: ``make_server("hang")``, ``make_server(page_format="html")``.

    All of them are stopped after the test.
    """
    servers: list[IndexServer] = []

    def make(behaviour: Behaviour = "serve", page_format: PageFormat = "negotiate") -> IndexServer:
        server = IndexServer(catalog, behaviour, page_format)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def dead_url() -> str:
    """A simple-index URL on a port where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/simple/"


@pytest.fixture
def http() -> Iterator[HttpClient]:
    with HttpClient(timeout=TIMEOUT) as client:
        yield client


@pytest.fixture
def mirrors_of(http: HttpClient) -> Callable[..., MirrorSet]:
    """A mirror set over these URLs with the tests' short timeouts."""

    def make(*urls: str) -> MirrorSet:
        return MirrorSet(urls, http=http, probe_timeout=PROBE_TIMEOUT)

    return make


@dataclass
class FakeClock:
    """Time that moves only when a test says so."""

    now: float = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cache(tmp_path: Path, clock: FakeClock) -> DownloadCache:
    return DownloadCache(tmp_path / "cache", max_bytes=None, page_ttl_seconds=60, clock=clock)


@pytest.fixture
def index_of(
    mirrors_of: Callable[..., MirrorSet], cache: DownloadCache
) -> Callable[..., SimpleIndex]:
    """A simple-index client over these URLs, with the test cache."""

    def make(*urls: str, cached: bool = True) -> SimpleIndex:
        return SimpleIndex(mirrors_of(*urls), cache=cache if cached else None)

    return make


ServeRoutes = Callable[..., Server]


@pytest.fixture
def serve() -> Iterator[ServeRoutes]:
    """Start servers answering with a test's routes: ``serve({"/": route}, tls=context)``.

    All of them are stopped after the test.
    """
    servers: list[Server] = []

    def start(routes: Mapping[str, Route], *, tls: ssl.SSLContext | None = None) -> Server:
        server = Server(routes, tls=tls)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
