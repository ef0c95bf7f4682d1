"""The resolver sees exactly what was checked: index pages fetched once, served from 127.0.0.1.

uv (or pip) resolves against a PEP 691 index that this process serves on the loopback
interface for the length of one transaction. Each page it asks for is fetched once
through our own client — mirrors, rollback protection, size caps, credentials, proxies —
kept, and served as it was checked; the installer then downloads from the same kept
pages, so no mirror can show the resolver one view and the checks another. Core metadata
(PEP 658) and files are fetched through our client too, hash-checked, and served from
there: the resolver never talks to a remote host.

A page that fails a check is not served (the resolver sees 404) and the failure is kept:
:meth:`CheckedPages.raise_failure` raises it after the resolver ran (whether it succeeded or
not), so the person reads our reason ("rolled-back mirror"), not the resolver's.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import ClassVar
from urllib.parse import quote, unquote, urlsplit

from packaging.utils import canonicalize_name

from anya_plugins.sources.download import download
from anya_plugins.sources.errors import ProjectNotFound, SourceError
from anya_plugins.sources.project_markers import refuse_quarantined
from anya_plugins.sources.simple import SIMPLE_JSON, FileLink, ProjectPage, SimpleIndex

log = logging.getLogger(__name__)

_PAGES = "/simple/"
_FILES = "/files/"
_METADATA = ".metadata"


class CheckedPages(AbstractContextManager["CheckedPages"]):
    """One transaction's view of a source: each project page fetched (fresh) at most once."""

    def __init__(self, index: SimpleIndex, scratch: Path) -> None:
        self.index = index
        self.scratch = scratch
        self._pages: dict[str, ProjectPage] = {}
        self._failures: dict[str, SourceError] = {}
        self._lock = threading.Lock()  # one MirrorSet, one request at a time
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def page(self, name: str) -> ProjectPage:
        """Project ``name``'s page as this transaction checked it (fetched on first use)."""
        project = str(canonicalize_name(name))
        with self._lock:
            if project in self._failures:
                raise self._failures[project]
            if project not in self._pages:
                try:
                    fetched = self.index.project_page(project, refresh=True)
                    refuse_quarantined(project, fetched.markers, fetched.used_url)
                    self._pages[project] = fetched
                except SourceError as error:
                    self._failures[project] = error
                    raise
            return self._pages[project]

    @property
    def url(self) -> str:
        """The simple index URL to give the resolver."""
        if self._server is None:
            raise RuntimeError("CheckedPages is not serving; use it as a context manager")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{_PAGES}"

    def file_url(self, project: str, filename: str) -> str:
        return f"{self.url.removesuffix(_PAGES)}{_FILES}{project}/{quote(filename)}"

    def raise_failure(self) -> None:
        """Raise the first check that failed while serving the resolver. A project the index
        does not have is an answer, not a failure: the resolver says what it missed."""
        with self._lock:
            failures = list(self._failures.values())
        for failure in failures:
            if not isinstance(failure, ProjectNotFound):
                raise failure

    def read_file(self, project: str, filename: str) -> Path:
        """The file (or its ``.metadata``) from the kept page, fetched and hash-checked."""
        wanted = filename.removesuffix(_METADATA)
        page = self.page(project)
        link = next((link for link in page.files if link.filename == wanted), None)
        if link is None:
            raise ProjectNotFound(f"{project}/{filename}", page.used_url)
        with self._lock:
            if filename.endswith(_METADATA):
                target = self.scratch / "metadata" / filename
                if not target.exists():
                    text = self.index.fetch_core_metadata(link)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(text, encoding="utf-8")
                return target
            return self._download(link)

    def _download(self, link: FileLink) -> Path:
        if link.sha256 is None:
            raise SourceError(f"the index gives no sha256 for {link.filename}")
        return download(
            link,
            self.scratch / "served",
            expected_sha256=link.sha256,
            mirrors=self.index.mirrors,
            cache=self.index.cache,
        )

    def render(self, project: str) -> bytes:
        """The PEP 691 JSON page the resolver reads: the checked files, served from here."""
        page = self.page(project)
        files = []
        for link in page.files:
            entry: dict[str, object] = {
                "filename": link.filename,
                "url": self.file_url(page.name, link.filename),
                "hashes": dict(link.hashes),
            }
            if link.requires_python:
                entry["requires-python"] = link.requires_python
            if link.yanked:
                entry["yanked"] = link.yanked_reason or True
            if link.core_metadata:
                entry["core-metadata"] = (
                    dict(link.core_metadata) if not isinstance(link.core_metadata, bool) else True
                )
            files.append(entry)
        document = {"meta": {"api-version": "1.0"}, "name": page.name, "files": files}
        return json.dumps(document).encode()

    def __enter__(self) -> CheckedPages:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.pages = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="anya-checked-pages", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    pages: CheckedPages

    def handle_error(self, request: object, client_address: object) -> None:
        """A resolver that hangs up mid-answer (killed on Ctrl-C) is no error of ours."""
        log.debug("the resolver hung up on %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    error_content_type = "text/plain"
    _CHUNK: ClassVar[int] = 256 * 1024

    def do_GET(self) -> None:
        path = unquote(urlsplit(self.path).path)
        pages = self.server.pages
        try:
            if path.startswith(_PAGES) and path.count("/") == 3 and path.endswith("/"):
                body = pages.render(path[len(_PAGES) : -1])
                self._send(200, SIMPLE_JSON, len(body), iter((body,)))
            elif path.startswith(_FILES) and path.count("/") == 3:
                project, filename = path[len(_FILES) :].split("/")
                file = pages.read_file(project, filename)
                self._send(200, "application/octet-stream", file.stat().st_size, _chunks(file))
            else:
                self._send_text(404, "not a page of this index")
        except SourceError as error:
            log.info("not served to the resolver: %s", error.message)
            self._send_text(404, error.message)

    def do_HEAD(self) -> None:
        """Headers only: uv asks before reading a wheel without PEP 658 metadata in ranges."""
        self.do_GET()

    def _send_text(self, status: int, text: str) -> None:
        body = text.encode()
        self._send(status, "text/plain; charset=utf-8", len(body), iter((body,)))

    def _send(self, status: int, content_type: str, length: int, body: Iterator[bytes]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command == "HEAD":
            return
        for chunk in body:
            self.wfile.write(chunk)

    def log_message(self, format: str, *args: object) -> None:
        log.debug("resolver: " + format, *args)


def _chunks(file: Path) -> Iterator[bytes]:
    with file.open("rb") as handle:
        yield from iter(lambda: handle.read(_Handler._CHUNK), b"")
