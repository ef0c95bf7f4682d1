"""The resolver sees exactly what was checked: index pages fetched once, served from 127.0.0.1.

uv (or pip) resolves against a PEP 691 index that this process serves on the loopback
interface for the length of one transaction. Each page it asks for is fetched once
through our own client — mirrors, rollback protection, size caps, credentials, proxies —
kept, and served as it was checked; the installer then downloads from the same kept
pages, so no mirror can show the resolver one view and the checks another. Core metadata
(PEP 658) and files are fetched through our client too, hash-checked, and served from
there: the resolver never talks to a remote host.

Pages, files, core metadata and provenance are fetched by a small pool of threads, each
with its own mirror order (a ``MirrorSet`` keeps state) over the one HTTP connection pool:
the resolver's requests are answered concurrently, each URL is fetched at most once however
many ask for it, and when the resolver reads a wheel's core metadata, the wheel and its
provenance are fetched in the background — the installer almost always wants them next.

A page that fails a check is not served (the resolver sees 404) and the failure is kept:
:meth:`CheckedPages.raise_failure` raises it after the resolver ran (whether it succeeded or
not), so the person reads our reason ("rolled-back mirror"), not the resolver's.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import socket
import threading
from collections.abc import Callable, Collection, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import ClassVar, TypeVar
from urllib.parse import quote, unquote, urlsplit

from packaging.utils import canonicalize_name

from anya_plugins.sources import pages_ahead
from anya_plugins.sources.download import Progress, download
from anya_plugins.sources.download_receipt import receipt_from
from anya_plugins.sources.errors import HashMismatch, ProjectNotFound, SourceError
from anya_plugins.sources.project_markers import refuse_quarantined
from anya_plugins.sources.simple import (
    SIMPLE_JSON,
    FileLink,
    ProjectPage,
    SimpleIndex,
    metadata_hashes,
    verify_hashes,
    wheel_metadata,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

_PAGES = "/simple/"
_FILES = "/files/"
_METADATA = ".metadata"
FETCHERS = 6
"""Requests for the resolver (pages, core metadata) in flight at once: enough to hide
latency, few enough not to swamp a small registry."""
SMALL_WHEEL_BYTES = 1024 * 1024
"""The resolver's core metadata for a wheel up to this size is read from the wheel itself:
serving the metadata starts the wheel's download anyway, and it spares the index one request
(an index that gives no hash for its metadata file, such as devpi, is then trusted for
nothing the wheel's hash does not cover). A larger wheel's metadata file is asked for, so
that the resolver does not wait for the whole wheel; when the index does not say a file's
length (devpi streams files in chunks), that is known once this many bytes came, or the
whole file in fewer."""
PREFETCHERS = 4
"""Files and provenance fetched at once, in a pool of their own: they never hold up a
page the resolver waits for."""
_LOOPBACK = "127.0.0.1"
"""Where the resolver is served the checked pages: this machine only."""
_SHUTDOWN_POLL_SECONDS = 0.02
"""How often the server loop looks for a shutdown request when nothing wakes it (the
standard 0.5 s; at the end of a transaction a connection of its own wakes it at once)."""


class CheckedPages(AbstractContextManager["CheckedPages"]):
    """One transaction's view of a source: each project page fetched (fresh) at most once,
    each file, core metadata file and provenance at most once."""

    def __init__(
        self,
        index: SimpleIndex,
        scratch: Path,
        *,
        on_fetched: Callable[[str, FileLink, Path, bytes | None], None] | None = None,
        remembered_provenance: Callable[[str, FileLink], bytes | None] | None = None,
    ) -> None:
        """``on_fetched(project, link, file, provenance)`` is called, in a thread of its own,
        for each file fetched ahead (its metadata was served), once it and its provenance are
        here: to start checking it. ``remembered_provenance(project, link)`` is asked before
        the index for a file's provenance: one that verified this very file before."""
        self.index = index
        self.scratch = scratch
        self._on_fetched = on_fetched
        self._remembered_provenance = remembered_provenance
        self._fetched: dict[tuple[str, str], Future[object]] = {}
        self._small: dict[str, Future[bool]] = {}
        """Whether each file is at most :data:`SMALL_WHEEL_BYTES`: known when its download
        starts if the index says its length, else once that many bytes came or all did."""
        self._receipts: dict[str, str] = {}
        self._served: dict[str, str] = {}
        self._unbound = False
        """A core metadata file was served that no hash ties to its page."""
        self._lock = threading.Lock()
        self._local = threading.local()
        self._pool = ThreadPoolExecutor(FETCHERS, thread_name_prefix="anya-fetch")
        self._prefetch = ThreadPoolExecutor(PREFETCHERS, thread_name_prefix="anya-prefetch")
        self._fetched_ahead = ThreadPoolExecutor(2, thread_name_prefix="anya-fetched")
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def page(self, name: str) -> ProjectPage:
        """Project ``name``'s page as this transaction checked it (fetched on first use)."""
        project = str(canonicalize_name(name))
        return self._once("page", project, lambda: self._fetch_page(project)).result()

    def file(self, link: FileLink, progress: Progress | None = None) -> Future[Path]:
        """``link``'s file, downloaded and hash-checked against the page (started now unless
        it already was: ``progress`` then hears of it once, when it is there)."""
        future, started = self._start(
            "file", link.filename, lambda: self._download(link, progress), self._prefetch
        )
        if progress is not None and not started:
            future.add_done_callback(lambda done: _report_whole(done, progress))
        return future

    def download_receipt(self, link: FileLink) -> str | None:
        """The registry's download receipt for ``link``'s file, when this transaction
        downloaded it signed in from an Anya registry (none for a file from the cache)."""
        with self._lock:
            return self._receipts.get(link.filename)

    def provenance(self, project: str, link: FileLink) -> Future[bytes | None]:
        """``link``'s PEP 740 provenance object (None when the index serves none), remembered
        or fetched."""
        return self._once(
            "provenance", link.filename, lambda: self._provenance(project, link), self._prefetch
        )

    def _provenance(self, project: str, link: FileLink) -> bytes | None:
        if self._remembered_provenance is not None:
            document = self._remembered_provenance(project, link)
            if document is not None:
                return document
        return self._client().fetch_provenance(link)

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
            pages = [f for (kind, _), f in self._fetched.items() if kind == "page"]
        for future in pages:
            failure = future.exception() if future.done() else None
            if isinstance(failure, SourceError) and not isinstance(failure, ProjectNotFound):
                raise failure

    def read_file(self, project: str, filename: str) -> Path | bytes:
        """The file (or the bytes of its ``.metadata``) from the kept page, fetched and
        hash-checked. Serving a wheel's metadata starts fetching the wheel and its
        provenance."""
        wanted = filename.removesuffix(_METADATA)
        page = self.page(project)
        link = next((link for link in page.files if link.filename == wanted), None)
        if link is None:
            raise ProjectNotFound(f"{project}/{filename}", page.used_url)
        if not filename.endswith(_METADATA):
            return self.file(link).result()
        metadata = self._once("metadata", wanted, lambda: self._metadata(link)).result()
        file, provenance = self.file(link), self.provenance(page.name, link)
        if self._on_fetched is not None:
            self._once(
                "fetched",
                wanted,
                lambda: self._report_fetched(page.name, link, file, provenance),
                self._fetched_ahead,
            )
        return metadata

    def _report_fetched(
        self, project: str, link: FileLink, file: Future[Path], provenance: Future[bytes | None]
    ) -> None:
        if self._on_fetched is not None and file.exception() is provenance.exception() is None:
            self._on_fetched(project, link, file.result(), provenance.result())

    def _once(
        self, kind: str, key: str, fetch: Callable[[], T], pool: ThreadPoolExecutor | None = None
    ) -> Future[T]:
        """The one fetch of ``key``: started in a pool on the first call, shared after."""
        return self._start(kind, key, fetch, pool)[0]

    def _start(
        self, kind: str, key: str, fetch: Callable[[], T], pool: ThreadPoolExecutor | None
    ) -> tuple[Future[T], bool]:
        """:meth:`_once`, and whether this call started the fetch."""
        with self._lock:
            future = self._fetched.get((kind, key))
            if future is not None:
                return future, False  # type: ignore[return-value]
            future = self._fetched[kind, key] = (pool or self._pool).submit(fetch)
        return future, True  # type: ignore[return-value]

    def _client(self) -> SimpleIndex:
        """This thread's client of the index: a ``MirrorSet`` keeps its order and last URL,
        so each thread has its own copy (the HTTP pool, cache and marks are shared)."""
        client: SimpleIndex | None = getattr(self._local, "index", None)
        if client is None:
            client = self._local.index = self.index.for_another_thread()
        return client

    def _fetch_page(self, project: str) -> ProjectPage:
        fetched = _taken_ahead(self.index.mirrors.primary, project)
        if fetched is None:
            fetched = self._client().project_page(project, refresh=True)
        refuse_quarantined(project, fetched.markers, fetched.used_url)
        return fetched

    def _metadata(self, link: FileLink) -> bytes:
        """The core metadata of ``link`` for the resolver: as this machine has it if it does;
        else the METADATA of the wheel itself when it is small and the page's metadata hash
        (if any) matches; else the index's metadata file. A wheel that fails to download
        leaves it to the metadata file: the download's own error is then reported where the
        installer wants the file."""
        client = self._client()
        if link.is_wheel and link.core_metadata:
            cached = client.cached_core_metadata(link)
            if cached is not None:
                return cached
            file = self.file(link)
            if self._is_small(link.filename).result() and file.exception() is None:
                data = wheel_metadata(file.result().read_bytes())
                if data is not None and _matches(data, link):
                    client.keep_core_metadata(link, data)
                    return data
        if link.core_metadata and not metadata_hashes(link):  # else refused: 404, no bytes
            with self._lock:
                self._unbound = True
        return client.fetch_core_metadata(link).encode("utf-8")

    def _is_small(self, filename: str) -> Future[bool]:
        with self._lock:
            return self._small.setdefault(filename, Future())

    def _download(self, link: FileLink, progress: Progress | None) -> Path:
        small = self._is_small(link.filename)

        def told(done: int, total: int | None) -> None:
            if not small.done():
                if total is not None:
                    small.set_result(total <= SMALL_WHEEL_BYTES)
                elif done > SMALL_WHEEL_BYTES:  # no length given (devpi streams its files)
                    small.set_result(False)
            if progress is not None:
                progress(done, total)

        fetched: Path | None = None
        try:
            if link.sha256 is None:
                raise SourceError(f"the index gives no sha256 for {link.filename}")
            client = self._client()
            fetched = download(
                link,
                self.scratch / "files",
                expected_sha256=link.sha256,
                mirrors=client.mirrors,
                cache=client.cache,
                progress=told,
                on_headers=lambda headers: self._keep_receipt(link, headers),
            )
            return fetched
        finally:
            if not small.done():  # all of it came without passing the size, or none did
                small.set_result(
                    fetched is not None and fetched.stat().st_size <= SMALL_WHEEL_BYTES
                )

    def _keep_receipt(self, link: FileLink, headers: Mapping[str, str]) -> None:
        receipt = receipt_from(headers, link.filename, str(link.sha256))
        if receipt is not None:
            with self._lock:
                self._receipts[link.filename] = receipt

    def render(self, project: str) -> bytes:
        """The PEP 691 JSON page the resolver reads: the checked files, served from here.
        What was served is remembered (:meth:`served`)."""
        name = str(canonicalize_name(project))
        try:
            page = self.page(name)
        except ProjectNotFound:
            self._serve(name, ABSENT)
            raise
        self._serve(name, _digest(page))
        return _document(page, self.file_url)

    def served(self) -> dict[str, str] | None:
        """The digest of every page served to the resolver so far (:data:`ABSENT` for a
        project the index does not have), by canonical project name; None once a core
        metadata file was served that no hash ties to its page (the resolver then read
        more than its pages say)."""
        with self._lock:
            return None if self._unbound else dict(self._served)

    def page_names(self) -> list[str]:
        """Every project whose page this transaction fetched (or failed to)."""
        with self._lock:
            return [key for kind, key in self._fetched if kind == "page"]

    def start_pages(self, projects: Collection[str]) -> list[str]:
        """Start fetching each project's page (unless it was): :meth:`page` then waits for
        it. The canonical names."""
        names = [str(canonicalize_name(project)) for project in projects]
        for name in names:
            self._once("page", name, functools.partial(self._fetch_page, name))
        return names

    def digests(self, projects: Collection[str]) -> dict[str, str] | None:
        """Each project's page as :meth:`served` records it, all fetched at once (fresh,
        checked); None when one cannot be had (its error is then the resolver's to meet)."""
        names = self.start_pages(projects)
        found = {}
        for name in names:
            try:
                found[name] = _digest(self.page(name))
            except ProjectNotFound:
                found[name] = ABSENT
            except SourceError:
                return None
        return found

    def _serve(self, project: str, digest: str) -> None:
        with self._lock:
            self._served[project] = digest

    def __enter__(self) -> CheckedPages:
        self.index.mirrors.order()  # probed once, here: every thread's copy starts from it
        self._server = _Server((_LOOPBACK, 0), _Handler)
        self._server.pages = self
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": _SHUTDOWN_POLL_SECONDS},
            name="anya-checked-pages",
            daemon=True,
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._server is not None and self._thread is not None:
            _shut_down(self._server, self._thread)
        self._server = self._thread = None
        # Fetches not started are dropped; those under way finish before the scratch
        # directory they write into goes.
        self._prefetch.shutdown(wait=True, cancel_futures=True)
        self._fetched_ahead.shutdown(wait=True, cancel_futures=True)
        self._pool.shutdown(wait=True, cancel_futures=True)


def _shut_down(server: ThreadingHTTPServer, serving: threading.Thread) -> None:
    """Stop ``server`` (its loop runs in ``serving``) without waiting for the loop's next
    poll: a shutdown request is seen when the loop's ``select`` returns, which a connection
    made here makes happen now (again, should it come before the request was made)."""
    stopping = threading.Thread(target=server.shutdown, name="anya-checked-pages-stop")
    stopping.start()
    while serving.is_alive():
        with contextlib.suppress(OSError):
            socket.create_connection((_LOOPBACK, server.server_port), timeout=1).close()
        serving.join(_SHUTDOWN_POLL_SECONDS / 10)
    stopping.join()
    server.server_close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    pages: CheckedPages

    def handle_error(self, request: object, client_address: object) -> None:
        """A resolver that hangs up mid-answer (killed on Ctrl-C) is no error of ours."""
        log.debug("the resolver hung up on %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms wait between
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
                if isinstance(file, bytes):
                    self._send(200, "application/octet-stream", len(file), iter((file,)))
                else:
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


def _matches(metadata: bytes, link: FileLink) -> bool:
    """The page gives no hash of the metadata file, or every fixed-length one it gives holds."""
    try:
        verify_hashes(f"{link.filename}.metadata", metadata, metadata_hashes(link), "")
    except HashMismatch:
        return False
    return True


def _report_whole(done: Future[Path], progress: Progress) -> None:
    if not done.cancelled() and done.exception() is None:
        size = done.result().stat().st_size
        progress(size, size)


def _chunks(file: Path) -> Iterator[bytes]:
    with file.open("rb") as handle:
        yield from iter(lambda: handle.read(_Handler._CHUNK), b"")


ABSENT = "absent"
"""The digest of a page the index does not have (a resolver that asked for it may have
resolved around its absence)."""


def _taken_ahead(primary: str, project: str) -> ProjectPage | None:
    """The page fetched ahead for this transaction (:mod:`anya_plugins.sources.pages_ahead`),
    if one was; its failure is raised when it failed as a fetch does."""
    ahead = pages_ahead.take(primary, project)
    if ahead is None:
        return None
    try:
        return ahead.result()
    except SourceError:
        raise
    except Exception as error:
        log.debug("%s: the page fetched ahead failed (%s): fetching it again", project, error)
        return None


def _document(page: ProjectPage, file_url: Callable[[str, str], str]) -> bytes:
    """``page`` as PEP 691 JSON, each file at ``file_url(project, filename)``."""
    files = []
    for link in page.files:
        entry: dict[str, object] = {
            "filename": link.filename,
            "url": file_url(page.name, link.filename),
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


def _digest(page: ProjectPage) -> str:
    """What the resolver read of ``page``: the sha256 of its document without this
    transaction's local URLs (which change from one run to the next)."""
    import hashlib

    return hashlib.sha256(_document(page, lambda project, filename: filename)).hexdigest()
