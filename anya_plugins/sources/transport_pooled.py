"""The pooled transport: urllib3 connection pools (one direct, one per proxy), connections kept
alive between requests; what an install's many requests go through."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ProxyError,
    ReadTimeoutError,
    SSLError,
)

from anya_plugins.sources.errors import TransportError
from anya_plugins.sources.transport import (
    CONNECT_TIMED_OUT,
    CONNECTIONS_PER_HOST,
    HOST_NOT_FOUND,
    READ_TIMED_OUT,
    Route,
    Timeouts,
    TlsContext,
    cannot_connect,
    dropped,
    proxy_failed,
    tls_failed,
)


class PooledResponse:
    """A :class:`~.transport.RawResponse` over urllib3's response."""

    def __init__(self, url: str, raw: urllib3.BaseHTTPResponse) -> None:
        self._url = url
        self._raw = raw

    @property
    def status(self) -> int:
        return self._raw.status

    @property
    def reason(self) -> str:
        return self._raw.reason or ""

    @property
    def headers(self) -> Mapping[str, str]:
        return self._raw.headers

    def stream(self, chunk_size: int, *, decode: bool) -> Iterator[bytes]:
        try:
            yield from self._raw.stream(chunk_size, decode_content=decode)
        except HTTPError as exc:
            raise TransportError(self._url, describe(exc)) from exc

    def read1(self, size: int) -> bytes:
        try:
            return self._raw.read1(size)
        except HTTPError as exc:
            raise TransportError(self._url, describe(exc)) from exc

    def drain(self) -> None:
        # A HEAD answered 401 left undrained breaks the pooled connection's next request
        # ("Request-sent").
        self._raw.drain_conn()
        self._raw.release_conn()

    def abort(self) -> None:
        self._raw.close()

    def release(self) -> None:
        self._raw.release_conn()


class PooledTransport:
    """A :class:`~.transport.Transport` over urllib3 pools; carries every route."""

    def __init__(self, tls: TlsContext) -> None:
        self._tls = tls
        self._managers: dict[tuple[str | None, bool], urllib3.PoolManager] = {}
        self._lock = threading.Lock()  # threads starting at once share one pool manager

    def supports(self, route: Route) -> bool:
        return True

    def send(
        self,
        method: str,
        route: Route,
        headers: Mapping[str, str],
        timeouts: Timeouts,
        body: bytes | None = None,
    ) -> PooledResponse:
        try:
            raw = self._manager(route).request(
                method,
                route.url,
                body=body,
                headers=dict(headers),
                timeout=urllib3.Timeout(connect=timeouts.connect, read=timeouts.read),
                preload_content=False,
                redirect=False,
            )
        except HTTPError as exc:
            raise TransportError(route.url, describe(exc)) from exc
        return PooledResponse(route.url, raw)

    def close(self) -> None:
        for manager in self._managers.values():
            manager.clear()

    def _manager(self, route: Route) -> urllib3.PoolManager:
        # Plain http straight to the server needs no TLS context (a local registry): loading
        # the system's trust store costs a tenth of a second.
        key = (route.proxy, route.proxy is not None or route.tls)
        manager = self._managers.get(key)
        if manager is None:
            with self._lock:
                manager = self._managers.get(key)
                if manager is None:
                    manager = self._managers[key] = self._new_manager(route, tls=key[1])
        return manager

    def _new_manager(self, route: Route, *, tls: bool) -> urllib3.PoolManager:
        # Never retry here: a failure must reach the mirror set, which tries another URL.
        retries = urllib3.Retry(total=None, connect=0, read=0, status=0, other=0, redirect=0)
        if route.proxy is None:
            if not tls:
                return urllib3.PoolManager(retries=retries, maxsize=CONNECTIONS_PER_HOST)
            return urllib3.PoolManager(
                retries=retries, ssl_context=self._tls(), maxsize=CONNECTIONS_PER_HOST
            )
        auth = route.proxy_auth
        return urllib3.ProxyManager(
            route.proxy,
            proxy_headers={"Proxy-Authorization": auth.header()} if auth else None,
            proxy_ssl_context=self._tls(),
            retries=retries,
            ssl_context=self._tls(),
            maxsize=CONNECTIONS_PER_HOST,
        )


def describe(error: HTTPError) -> str:
    """Why a request got no answer, in the words a person would use."""
    reason: BaseException = error
    while isinstance(reason, MaxRetryError) and reason.reason is not None:
        reason = reason.reason
    if isinstance(reason, ProxyError):
        inner = reason.original_error
        if isinstance(inner, NewConnectionError):
            return cannot_connect(_cause(inner), proxy=True)
        return proxy_failed(str(inner))
    # NewConnectionError subclasses ConnectTimeoutError, so the order of these tests matters.
    if isinstance(reason, NameResolutionError):
        return HOST_NOT_FOUND
    if isinstance(reason, NewConnectionError):
        return cannot_connect(_cause(reason))
    if isinstance(reason, ConnectTimeoutError):
        return CONNECT_TIMED_OUT
    if isinstance(reason, ReadTimeoutError):
        return READ_TIMED_OUT
    if isinstance(reason, SSLError):
        return tls_failed(str(reason))
    if isinstance(reason, ProtocolError):
        return dropped(_cause(reason))
    return str(reason)


def _cause(error: BaseException) -> str:
    """The innermost message: 'Connection refused' rather than urllib3's wrapper text."""
    for inner in (error.__cause__, error.args[-1] if error.args else None):
        if isinstance(inner, OSError) and inner.strerror:
            return inner.strerror
        if isinstance(inner, BaseException):
            return str(inner)
    return str(error)
