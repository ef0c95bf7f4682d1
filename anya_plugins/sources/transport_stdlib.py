"""The default transport: the standard library's ``http.client``. Importing urllib3 takes
longer than a search takes to answer, and it and our transport over it were ~11% of what a
warm install imports.

It carries what the pooled transport carries — the same TLS context, the environment's
proxies (absolute-form requests through an http proxy, a ``CONNECT`` tunnel for https),
separate connect and read timeouts, a body decoded from gzip or deflate in bounded pieces —
and keeps up to ``CONNECTIONS_PER_HOST`` idle connections per server (and proxy) for the next
requests (an install's fetching threads each take one and put it back). One route it does not
carry: an https:// server through an https:// proxy (TLS inside TLS), which the client
hands to the pooled transport.
"""

from __future__ import annotations

import http.client
import select
import socket
import ssl
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from urllib.parse import SplitResult, urlsplit

from anya_plugins.metadata.frozen import Frozen
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

_DEFAULT_PORTS = {"http": 80, "https": 443}
_Key = tuple[str, str, int, str | None]
"""Scheme, host and port of the server, and the proxy: which requests may share a connection."""


class StdlibTransport:
    """A :class:`~.transport.Transport` over ``http.client``."""

    def __init__(self, tls: TlsContext) -> None:
        self._tls = tls
        self._idle: dict[_Key, list[http.client.HTTPConnection]] = {}
        self._idle_lock = threading.Lock()

    def supports(self, route: Route) -> bool:
        return not route.tls_in_tls

    def send(
        self,
        method: str,
        route: Route,
        headers: Mapping[str, str],
        timeouts: Timeouts,
        body: bytes | None = None,
    ) -> StdlibResponse:
        target = urlsplit(route.url)
        key = (target.scheme, target.hostname or "", target.port or 0, route.proxy)
        path = route.url if route.proxy is not None and target.scheme == "http" else _path(target)
        sent = dict(headers)
        if route.proxy_auth is not None and target.scheme == "http":
            sent["Proxy-Authorization"] = route.proxy_auth.header()
        exchange = _Exchange(method, path, sent, body, timeouts.read)
        kept = self._take(key)
        if kept is not None and (method not in _IDEMPOTENT or _dropped(kept)):
            kept.close()  # a request that must not go twice goes on a new connection
        elif kept is not None:
            try:
                return self._exchange(route, key, kept, exchange)
            except _ClosedWhileIdle:
                pass  # the server closed it as the request went out: once more, on a new one
        connection = self._connect(route, headers, timeouts.connect)
        try:
            return self._exchange(route, key, connection, exchange)
        except _ClosedWhileIdle as closed:
            raise TransportError(route.url, _describe(closed.error)) from closed.error

    def _exchange(
        self,
        route: Route,
        key: _Key,
        connection: http.client.HTTPConnection,
        exchange: _Exchange,
    ) -> StdlibResponse:
        """Send the request on ``connection`` and read the response's head."""
        assert connection.sock is not None  # connected, or kept connected
        connection.sock.settimeout(exchange.read_timeout)
        try:
            connection.request(
                exchange.method, exchange.path, body=exchange.body, headers=exchange.headers
            )
            response = connection.getresponse()
        except _CLOSED_BEFORE_ANSWER as exc:
            connection.close()
            raise _ClosedWhileIdle(exc) from exc
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise TransportError(route.url, _describe(exc)) from exc
        return StdlibResponse(route.url, connection, response, lambda: self._keep(key, connection))

    def close(self) -> None:
        with self._idle_lock:
            idle = [connection for kept in self._idle.values() for connection in kept]
            self._idle.clear()
        for connection in idle:
            connection.close()

    def _take(self, key: _Key) -> http.client.HTTPConnection | None:
        """The connection to ``key`` that went idle last, if one is kept."""
        with self._idle_lock:
            kept = self._idle.get(key)
            return kept.pop() if kept else None

    def _keep(self, key: _Key, connection: http.client.HTTPConnection) -> None:
        with self._idle_lock:
            kept = self._idle.setdefault(key, [])
            if len(kept) < CONNECTIONS_PER_HOST:
                kept.append(connection)
                return
        connection.close()

    def _connect(
        self, route: Route, headers: Mapping[str, str], timeout: float
    ) -> http.client.HTTPConnection:
        """A connection to the server, or to the proxy (tunnelled for https), connected."""
        target = urlsplit(route.url)
        host, port = target.hostname or "", target.port or _DEFAULT_PORTS[target.scheme]
        if route.proxy is not None:
            proxy = urlsplit(route.proxy)
            host, port = proxy.hostname or "", proxy.port or _DEFAULT_PORTS[proxy.scheme]
        connection: http.client.HTTPConnection
        if route.tls:
            connection = http.client.HTTPSConnection(
                host, port, timeout=timeout, context=self._tls()
            )
        else:
            connection = http.client.HTTPConnection(host, port, timeout=timeout)
        if route.proxy is not None and target.scheme == "https":
            tunnel_headers = {"User-Agent": headers.get("User-Agent", "")}
            if route.proxy_auth is not None:
                tunnel_headers["Proxy-Authorization"] = route.proxy_auth.header()
            connection.set_tunnel(
                target.hostname or "", target.port or _DEFAULT_PORTS["https"], tunnel_headers
            )
        connection._create_connection = _create_connection  # type: ignore[attr-defined]
        try:
            connection.connect()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise TransportError(
                route.url, _describe_connect(exc, proxy=route.proxy is not None)
            ) from exc
        return connection


class _Exchange(Frozen):
    method: str
    path: str
    """The request target: path and query, or the absolute URL for an http proxy."""
    headers: dict[str, str]
    body: bytes | None
    read_timeout: float

    def __init__(
        self, method: str, path: str, headers: dict[str, str], body: bytes | None,
        read_timeout: float,
    ) -> None:  # fmt: skip
        self._init(method, path, headers, body, read_timeout)


_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT"})
"""Methods a kept connection may carry, since one the server closed meanwhile is retried."""

_CLOSED_BEFORE_ANSWER = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)
"""What a connection the server closed while it sat idle gives the next request."""


class _ClosedWhileIdle(Exception):
    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


class StdlibResponse:
    """A :class:`~.transport.RawResponse` over ``http.client``'s response."""

    def __init__(
        self,
        url: str,
        connection: http.client.HTTPConnection,
        response: http.client.HTTPResponse,
        keep: Callable[[], None],
    ) -> None:
        self._url = url
        self._connection = connection
        self._response = response
        self._keep = keep
        self._decoder: _Decoder | None = None
        self._received = 0
        self._aborted = False
        self._headers: _Headers | None = None

    @property
    def status(self) -> int:
        return self._response.status

    @property
    def reason(self) -> str:
        return self._response.reason or ""

    @property
    def headers(self) -> Mapping[str, str]:
        if self._headers is None:
            self._headers = _Headers(self._response.headers.items())
        return self._headers

    def stream(self, chunk_size: int, *, decode: bool) -> Iterator[bytes]:
        while True:
            chunk = self.read1(chunk_size) if decode else self._read(chunk_size)
            if not chunk:
                return
            yield chunk

    def read1(self, size: int) -> bytes:
        encoding = self.headers.get("Content-Encoding", "")
        if self._decoder is None:
            self._decoder = _Decoder(encoding)
        decoder = self._decoder
        try:
            while True:
                pending = decoder.pending(size)
                if pending:
                    return pending
                raw = self._read(size, once=True)
                if not raw:
                    return decoder.finish()
                decoded = decoder.feed(raw, size)
                if decoded:
                    return decoded
        except zlib.error as exc:
            self.abort()
            raise TransportError(
                self._url, f"the body is not valid {encoding} (Content-Encoding): {exc}"
            ) from exc

    def drain(self) -> None:
        while self._read(64 * 1024):
            pass
        self.release()

    def abort(self) -> None:
        self._aborted = True
        self._response.close()
        self._connection.close()

    def release(self) -> None:
        response = self._response
        if self._aborted:
            return
        if not response.will_close and (response.isclosed() or response.length == 0):
            response.close()
            self._keep()  # the body was read to its end: the connection can serve another
        else:
            self.abort()

    def _read(self, size: int, *, once: bool = False) -> bytes:
        response = self._response
        try:
            data = response.read1(size) if once else response.read(size)
        except (OSError, http.client.HTTPException) as exc:
            self.abort()
            raise TransportError(self._url, _describe(exc)) from exc
        self._received += len(data)
        if not data and size and response.length:  # closed before the promised length
            missing = response.length
            self.abort()
            raise TransportError(
                self._url,
                dropped(f"IncompleteRead({self._received} bytes read, {missing} more expected)"),
            )
        return data


class _Headers(Mapping[str, str]):
    """Response headers as the pooled transport gives them: names case-insensitive, a header
    sent more than once read as its values joined with ``", "``."""

    def __init__(self, fields: Iterable[tuple[str, str]]) -> None:
        self._values: dict[str, str] = {}
        self._names: dict[str, str] = {}
        for name, value in fields:
            key = name.lower()
            self._values[key] = f"{self._values[key]}, {value}" if key in self._values else value
            self._names.setdefault(key, name)

    def __getitem__(self, name: str) -> str:
        return self._values[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names.values())

    def __len__(self) -> int:
        return len(self._values)


class _Decoder:
    """Undoes a ``Content-Encoding`` of gzip or deflate (several, in the order applied), giving
    out at most the size asked for at a time, so a small compressed body that inflates to
    gigabytes never sits in memory whole. Other encodings are passed on as sent."""

    def __init__(self, content_encoding: str) -> None:
        encodings = [e.strip().lower() for e in content_encoding.split(",") if e.strip()]
        self._layers = [_Layer(e) for e in reversed(encodings) if e in _WBITS]

    def pending(self, size: int) -> bytes:
        """Output held back by an earlier, larger inflation."""
        return self._through(b"", size) if self._layers else b""

    def feed(self, data: bytes, size: int) -> bytes:
        return self._through(data, size) if self._layers else data

    def finish(self) -> bytes:
        return self._through(b"", 1 << 20, final=True) if self._layers else b""

    def _through(self, data: bytes, size: int, *, final: bool = False) -> bytes:
        for layer in self._layers:
            data = layer.inflate(data, size, final=final)
        return data


_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


class _Layer:
    def __init__(self, encoding: str) -> None:
        self._wbits = _WBITS[encoding]
        self._raw_deflate = encoding == "deflate"
        self._object = zlib.decompressobj(self._wbits)
        self._seen = b""

    def inflate(self, data: bytes, size: int, *, final: bool) -> bytes:
        data = self._object.unconsumed_tail + data
        try:
            out = self._object.decompress(data, size)
        except zlib.error:
            if not (self._raw_deflate and self._seen == b""):
                raise
            # "deflate" is raw deflate for some servers, as urllib3 and browsers accept
            self._raw_deflate = False
            self._object = zlib.decompressobj(-zlib.MAX_WBITS)
            out = self._object.decompress(data, size)
        self._seen = self._seen or data[:1]
        if self._object.eof and self._object.unused_data and self._wbits > zlib.MAX_WBITS:
            rest = self._object.unused_data  # the next gzip member
            self._object = zlib.decompressobj(self._wbits)
            out += self._object.decompress(rest, max(size - len(out), 1))
        if final and not self._object.unconsumed_tail:
            out += self._object.flush()
        return out


def _create_connection(
    address: tuple[str, int], timeout: float | None, source_address: tuple[str, int] | None
) -> socket.socket:
    """:func:`socket.create_connection`, with an ASCII host name passed as bytes: given a
    ``str``, ``getaddrinfo`` encodes it with the IDNA codec, whose import (``stringprep``,
    ``unicodedata``) takes longer than a search's answer; for an ASCII name it changes nothing.
    """
    host, port = address
    name: str | bytes = host.encode("ascii") if host.isascii() else host
    return socket.create_connection((name, port), timeout, source_address)  # type: ignore[arg-type]


def _path(target: SplitResult) -> str:
    """The request target sent to the server itself: path and query."""
    path = target.path or "/"
    return f"{path}?{target.query}" if target.query else path


def _dropped(connection: http.client.HTTPConnection) -> bool:
    """Did the server close an idle connection (readable before any request: EOF)?"""
    sock = connection.sock
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        readable = [sock]
    if readable:
        connection.close()
    return bool(readable)


def _describe_connect(error: BaseException, *, proxy: bool) -> str:
    """Why connecting (to the server, or to the proxy and through its tunnel) failed."""
    if isinstance(error, ssl.SSLError | ssl.CertificateError):
        return tls_failed(str(error))
    if isinstance(error, socket.gaierror):
        return cannot_connect(error.strerror or str(error), proxy=True) if proxy else HOST_NOT_FOUND
    if isinstance(error, TimeoutError):
        return proxy_failed(CONNECT_TIMED_OUT) if proxy else CONNECT_TIMED_OUT
    if isinstance(error, OSError) and error.errno is None and proxy:
        return proxy_failed(str(error))  # the proxy refused the tunnel ("Tunnel connection failed")
    if isinstance(error, OSError):
        return cannot_connect(error.strerror or str(error), proxy=proxy)
    return dropped(str(error))


def _describe(error: BaseException) -> str:
    """Why a request that was sent got no (whole) answer."""
    if isinstance(error, ssl.SSLError | ssl.CertificateError):
        return tls_failed(str(error))
    if isinstance(error, TimeoutError):
        return READ_TIMED_OUT
    if isinstance(error, OSError) and error.strerror:
        return dropped(error.strerror)
    return dropped(str(error))
