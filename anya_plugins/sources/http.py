"""The one HTTP adapter of the sources layer: GET and HEAD over a urllib3 ``PoolManager``.

Status codes are returned, never raised: whether a 404 or a 500 is an answer is the
caller's decision. Everything that leaves no answer (refused, timed out, dropped, TLS)
becomes a :class:`TransportError` naming the URL and why, also while a body is streamed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import TracebackType
from urllib.parse import urljoin

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

from anya_plugins import __version__
from anya_plugins.sources.errors import TransportError

USER_AGENT = f"anya-plugins/{__version__}"
CHUNK_SIZE = 64 * 1024
MAX_REDIRECTS = 5


class HttpResponse:
    """A response whose body has not been read yet; read it inside :meth:`HttpClient.get`."""

    def __init__(self, url: str, raw: urllib3.BaseHTTPResponse) -> None:
        self.url = url
        """The URL that answered, after redirects."""
        self._raw = raw

    @property
    def status(self) -> int:
        return self._raw.status

    @property
    def reason(self) -> str:
        return self._raw.reason or ""

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
        try:
            yield from self._raw.stream(chunk_size, decode_content=decode)
        except HTTPError as exc:
            raise TransportError(self.url, describe(exc)) from exc

    def read(self) -> bytes:
        return b"".join(self.iter_bytes())


class HttpClient:
    """A connection pool with one timeout for connecting and for each read."""

    def __init__(self, *, timeout: float, user_agent: str = USER_AGENT) -> None:
        self.timeout = timeout
        self._pool = urllib3.PoolManager(
            headers={"User-Agent": user_agent},
            # Never retry here: a failure must reach the mirror set, which tries another URL.
            retries=urllib3.Retry(
                total=None, connect=0, read=0, status=0, other=0, redirect=MAX_REDIRECTS
            ),
        )

    @contextmanager
    def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Iterator[HttpResponse]:
        """GET ``url``; the body streams while the ``with`` block reads it."""
        raw = self._request("GET", url, headers, timeout)
        try:
            yield HttpResponse(urljoin(url, raw.url or url), raw)
        except BaseException:
            raw.close()  # the rest of a broken-off body must not reach the next request
            raise
        finally:
            raw.release_conn()

    def head(self, url: str, *, timeout: float | None = None) -> int:
        """The status of a HEAD request: is anyone answering at ``url``?"""
        raw = self._request("HEAD", url, None, timeout)
        raw.release_conn()
        return raw.status

    def close(self) -> None:
        self._pool.clear()

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
        self, method: str, url: str, headers: Mapping[str, str] | None, timeout: float | None
    ) -> urllib3.BaseHTTPResponse:
        seconds = self.timeout if timeout is None else timeout
        try:
            return self._pool.request(
                method,
                url,
                headers={**self._pool.headers, **(headers or {})},
                timeout=urllib3.Timeout(connect=seconds, read=seconds),
                preload_content=False,
            )
        except HTTPError as exc:
            raise TransportError(url, describe(exc)) from exc


def media_type(content_type: str) -> tuple[str, str | None]:
    """The media type (lower case) and charset of a ``Content-Type`` header value."""
    kind, _, parameters = content_type.partition(";")
    charset = None
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"')
    return kind.strip().lower(), charset


def describe(error: HTTPError) -> str:
    """Why a request got no answer, in the words a person would use."""
    reason: BaseException = error
    while isinstance(reason, MaxRetryError) and reason.reason is not None:
        reason = reason.reason
    # NewConnectionError subclasses ConnectTimeoutError, so the order of these tests matters.
    if isinstance(reason, NameResolutionError):
        return "host name not found"
    if isinstance(reason, NewConnectionError):
        return f"cannot connect: {_cause(reason)}"
    if isinstance(reason, ConnectTimeoutError):
        return "timed out while connecting"
    if isinstance(reason, ReadTimeoutError):
        return "timed out waiting for data"
    if isinstance(reason, SSLError):
        return f"TLS error: {reason}"
    if isinstance(reason, ProtocolError):
        return f"connection dropped: {_cause(reason)}"
    return str(reason)


def _cause(error: BaseException) -> str:
    """The innermost message: 'Connection refused' rather than urllib3's wrapper text."""
    for inner in (error.__cause__, error.args[-1] if error.args else None):
        if isinstance(inner, OSError) and inner.strerror:
            return inner.strerror
        if isinstance(inner, BaseException):
            return str(inner)
    return str(error)
