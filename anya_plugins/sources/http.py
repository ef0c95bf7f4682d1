"""The one HTTP client of the sources layer: GET and HEAD, over a transport (:mod:`.transport`:
urllib3's pools, or the standard library's ``http.client`` for a one-shot command).

Status codes are returned, never raised: whether a 404 or a 500 is an answer is the
caller's decision. Everything that leaves no answer (refused, timed out, dropped, TLS)
becomes a :class:`TransportError` naming the URL and why, also while a body is streamed.

The network plumbing an enterprise needs lives here, as pip has it: proxies from the
environment (:mod:`.proxies`), the system trust store and a CA bundle (:mod:`.tls`), and
basic-auth credentials from the source URL, netrc or the keyring (:mod:`.credentials`).
Redirects are followed here, one hop at a time, so that each hop gets its own proxy and only
its own host's credentials. A body read with a :class:`ReadLimit` stops as soon as it passes
the size cap or the time cap.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from types import TracebackType
from urllib.parse import urljoin, urlsplit

from anya_plugins import __version__, logs
from anya_plugins.metadata.frozen import Frozen
from anya_plugins.sources.credentials import (
    BasicAuth,
    Credentials,
    origin,
    redact,
    split_credentials,
)
from anya_plugins.sources.errors import (
    CaBundleError,
    ResponseTooLarge,
    ResponseTooSlow,
    TransportError,
)
from anya_plugins.sources.tls import ca_bundle_source, ssl_context
from anya_plugins.sources.transport import READ_TIMED_OUT, Timeouts, route_for

TYPE_CHECKING = False  # typing costs the start-up milliseconds
if TYPE_CHECKING:
    import ssl

    from anya_plugins.sources.settings import SourcesSettings
    from anya_plugins.sources.transport import RawResponse, Transport

__all__ = ["READ_TIMED_OUT", "HttpClient", "HttpResponse", "ReadLimit", "media_type"]


USER_AGENT = f"anya-plugins/{__version__}"
CHUNK_SIZE = 64 * 1024
MAX_REDIRECTS = 5
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CREDENTIAL_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})


class ReadLimit(Frozen):
    """How large a body may be and how long reading it may take, counted from the request.

    The time is checked between reads, so a read in flight when it runs out may still take
    up to the client's per-read timeout.
    """

    what: str
    """What is read, for the error message: ``index page``, ``core metadata file``."""
    max_bytes: int
    seconds: float
    size_key: str
    """The setting that raises ``max_bytes``, named in the error's hint."""
    time_key: str
    """The setting that raises ``seconds``."""

    def __init__(
        self, what: str, max_bytes: int, seconds: float, size_key: str, time_key: str
    ) -> None:
        self._init(what, max_bytes, seconds, size_key, time_key)


class HttpResponse:
    """A response whose body has not been read yet; read it inside :meth:`HttpClient.get`."""

    def __init__(self, url: str, raw: RawResponse, *, started: float) -> None:
        self.url = url
        """The URL that answered, after redirects (never with credentials in it)."""
        self._raw = raw
        self._started = started

    @property
    def status(self) -> int:
        return self._raw.status

    @property
    def reason(self) -> str:
        return self._raw.reason

    @property
    def headers(self) -> Mapping[str, str]:
        """The response headers; names are case-insensitive."""
        return self._raw.headers

    @property
    def content_type(self) -> str:
        """The ``Content-Type`` header as sent (``""`` when the server sent none)."""
        return self.headers.get("Content-Type", "")

    @property
    def content_length(self) -> int | None:
        value = self.headers.get("Content-Length", "")
        return int(value) if value.isdigit() else None

    def iter_bytes(self, chunk_size: int = CHUNK_SIZE, *, decode: bool = True) -> Iterator[bytes]:
        """The body in chunks. ``decode=False`` keeps a ``Content-Encoding`` as sent, so that a
        file is hashed as the index stored it (a ``.tar.gz`` served as gzip stays gzip)."""
        yield from self._raw.stream(chunk_size, decode=decode)

    def read(self, limit: ReadLimit | None = None) -> bytes:
        """The whole (decoded) body; with a ``limit``, ResponseTooLarge as soon as it passes
        ``max_bytes`` (at once if ``Content-Length`` says so), ResponseTooSlow when reading
        goes on past ``seconds``."""
        if limit is None:
            return b"".join(self.iter_bytes())
        length = self.content_length
        if length is not None and length > limit.max_bytes:
            raise ResponseTooLarge(self.url, limit.what, limit.max_bytes, limit.size_key)
        deadline = self._started + limit.seconds
        body = bytearray()
        while True:
            if time.monotonic() > deadline:
                raise ResponseTooSlow(self.url, limit.what, limit.seconds, limit.time_key)
            # read1: at most one receive, so a trickling server meets the deadline check
            chunk = self._raw.read1(CHUNK_SIZE)
            if not chunk:
                return bytes(body)
            body += chunk
            if len(body) > limit.max_bytes:
                raise ResponseTooLarge(self.url, limit.what, limit.max_bytes, limit.size_key)


class HttpClient:
    """One timeout for connecting and for each read, the TLS trust of :func:`.tls.ssl_context`
    and the :class:`Credentials`, over one of two transports (:mod:`.transport`).

    By default the standard library's ``http.client``, connections kept alive (up to 16
    idle per server); urllib3 is imported only for a request that needs TLS inside a
    proxy's TLS (an https:// index through an https:// proxy), which only its transport
    carries. ``pooled=True``: urllib3's connection pools for every request.
    """

    def __init__(
        self,
        *,
        timeout: float,
        user_agent: str = USER_AGENT,
        ca_bundle: Path | None = None,
        credentials: Credentials | None = None,
        pooled: bool = False,
    ) -> None:
        self.timeout = timeout
        self.pooled = pooled
        self.credentials = credentials if credentials is not None else Credentials()
        self._headers = {"User-Agent": user_agent}
        self._ca_bundle = ca_bundle
        self._tls: ssl.SSLContext | None = None
        chosen = ca_bundle_source(ca_bundle, os.environ)
        if chosen is not None:  # a bundle that is not there is said now; it loads on first use
            where, path = chosen
            try:
                path.stat()
            except OSError as error:
                raise CaBundleError(where, path, error.strerror or str(error)) from error
        self._light: Transport | None = None
        self._pooled: Transport | None = None
        self._pooled_lock = threading.Lock()  # threads starting at once share one pool
        if not pooled:
            from anya_plugins.sources.transport_stdlib import StdlibTransport

            self._light = StdlibTransport(self._ssl_context)

    @classmethod
    def from_settings(cls, settings: SourcesSettings, *, pooled: bool = False) -> HttpClient:
        """The client the ``[sources]`` settings describe (timeout, CA bundle)."""
        return cls(timeout=settings.timeout, ca_bundle=settings.ca_bundle, pooled=pooled)

    def take_credentials(self, url: str) -> str:
        """Keep the ``user:password@`` of a configured ``url`` for requests to its origin; the
        URL without them, for requests, logs, errors and cache keys."""
        return self.credentials.take(url)

    def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        read_timeout: float | None = None,
    ) -> AbstractContextManager[HttpResponse]:
        """GET ``url``; the body streams while the ``with`` block reads it. ``read_timeout``
        replaces the timeout for each read (not for connecting)."""
        return self.request("GET", url, headers=headers, timeout=timeout, read_timeout=read_timeout)

    @contextmanager
    def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        read_timeout: float | None = None,
    ) -> Iterator[HttpResponse]:
        """``method`` ``url`` with ``body``, as :meth:`get`. Only GET and HEAD follow
        redirects: another method's 3xx is its answer (a body is never sent twice)."""
        started = time.monotonic()
        final_url, raw = self._request(method, url, headers, timeout, read_timeout, body)
        try:
            yield HttpResponse(final_url, raw, started=started)
        except BaseException:
            raw.abort()  # the rest of a broken-off body must not reach the next request
            raise
        finally:
            raw.release()

    def head(self, url: str, *, timeout: float | None = None) -> int:
        """The status of a HEAD request: is anyone answering at ``url``?"""
        return self.head_headers(url, timeout=timeout)[0]

    def head_headers(self, url: str, *, timeout: float | None = None) -> tuple[int, dict[str, str]]:
        """The status and headers of a HEAD request (a mirror probe reads devpi's serial)."""
        _, raw = self._request("HEAD", url, None, timeout)
        raw.drain()
        return raw.status, {name.lower(): value for name, value in raw.headers.items()}

    def close(self) -> None:
        for transport in (self._light, self._pooled):
            if transport is not None:
                transport.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        timeout: float | None,
        read_timeout: float | None = None,
        body: bytes | None = None,
    ) -> tuple[str, RawResponse]:
        """The response at the end of the redirects from ``url``, and its URL.

        Credentials written into ``url`` serve this request's origin only and are not kept;
        each hop gets the credentials of its own origin or host, and the caller's credential
        headers stop at the first hop to another origin.
        """
        url, given = split_credentials(url)
        first = origin(url)
        for _ in range(MAX_REDIRECTS + 1):
            same_origin = origin(url) == first
            hop_headers = {
                name: value
                for name, value in (headers or {}).items()
                if same_origin or name.lower() not in _CREDENTIAL_HEADERS
            }
            auth = given if same_origin and given is not None else self.credentials.for_url(url)
            raw = self._send(method, url, hop_headers, (timeout, read_timeout), auth, body)
            if raw.status == 401:
                from_keyring = self.credentials.from_keyring(url)
                if from_keyring is not None and from_keyring != auth:
                    _discard(raw)
                    raw = self._send(
                        method, url, hop_headers, (timeout, read_timeout), from_keyring, body
                    )
            location = raw.headers.get("Location") if raw.status in _REDIRECT_STATUSES else None
            if not location or method not in ("GET", "HEAD"):
                return url, raw
            _discard(raw)
            target = split_credentials(urljoin(url, location))[0]
            if urlsplit(target).scheme not in ("http", "https"):
                raise TransportError(url, f"redirects to {target}, which is not an http(s) URL")
            logs.info(__name__, "%s redirects to %s", url, target)
            url = target
        raise TransportError(url, f"more than {MAX_REDIRECTS} redirects")

    def _send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        timeouts: tuple[float | None, float | None],
        auth: BasicAuth | None,
        body: bytes | None = None,
    ) -> RawResponse:
        seconds = self.timeout if timeouts[0] is None else timeouts[0]
        read_seconds = seconds if timeouts[1] is None else timeouts[1]
        request_headers = {**self._headers, **headers}
        if auth is not None:
            request_headers["Authorization"] = auth.header()
        route = route_for(url)
        if route.proxy is not None:
            logs.debug(__name__, "%s through the proxy %s", url, redact(route.proxy))
        transport = self._light
        if transport is None or not transport.supports(route):
            transport = self._pooled_transport()
        return transport.send(method, route, request_headers, Timeouts(seconds, read_seconds), body)

    def _pooled_transport(self) -> Transport:
        if self._pooled is None:
            from anya_plugins.sources.transport_pooled import PooledTransport

            with self._pooled_lock:
                if self._pooled is None:
                    self._pooled = PooledTransport(self._ssl_context)
        return self._pooled

    def _ssl_context(self) -> ssl.SSLContext:
        """The TLS trust (:func:`.tls.ssl_context`), made on first use."""
        if self._tls is None:
            self._tls = ssl_context(self._ca_bundle)
        return self._tls


def _discard(raw: RawResponse) -> None:
    """Drop a response without reading its body (a 401's or a redirect's, however large)."""
    raw.abort()
    raw.release()


def media_type(content_type: str) -> tuple[str, str | None]:
    """The media type (lower case) and charset of a ``Content-Type`` header value."""
    kind, _, parameters = content_type.partition(";")
    charset = None
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"')
    return kind.strip().lower(), charset
