"""The port under :class:`~anya_plugins.sources.http.HttpClient`: one request, one hop.

A transport sends one request where :func:`route_for` says it goes (directly, or through
the environment's proxy) and hands back the response with its body unread. It follows no
redirect and adds no credential: redirects, credentials, headers, limits and timeouts are
the client's, the same whichever transport carries the request. Two adapters implement it:
urllib3's connection pools (:mod:`.transport_pooled`, for installs: many requests, kept
alive) and the standard library's ``http.client`` (:mod:`.transport_stdlib`, for a command
that asks one or two things and exits: urllib3 alone takes longer to import than a search
takes to answer).

Everything that leaves no answer becomes a :class:`TransportError` whose reason reads the
same from either adapter (the phrases below).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from urllib.parse import urlsplit

from anya_plugins.metadata.frozen import Frozen
from anya_plugins.sources.credentials import BasicAuth, redact, split_credentials
from anya_plugins.sources.errors import TransportError
from anya_plugins.sources.proxies import proxy_for

TYPE_CHECKING = False  # typing costs the start-up milliseconds
if TYPE_CHECKING:
    import ssl
    from typing import Protocol

CONNECTIONS_PER_HOST = 16
"""Connections kept alive per server, by either transport: at least as many as requests in
flight at once (an install fetches pages, files and provenance from 10 threads), so that
each request reuses one instead of opening a connection — a TLS handshake, to a remote
index — and dropping it (urllib3 keeps one by default)."""

READ_TIMED_OUT = "timed out waiting for data"
"""Why a request failed when the server accepted it but sent nothing for a whole read
timeout."""
CONNECT_TIMED_OUT = "timed out while connecting"
HOST_NOT_FOUND = "host name not found"


def cannot_connect(cause: str, *, proxy: bool = False) -> str:
    return f"cannot connect to the proxy: {cause}" if proxy else f"cannot connect: {cause}"


def proxy_failed(cause: str) -> str:
    return f"proxy error: {cause}"


def dropped(cause: str) -> str:
    return f"connection dropped: {cause}"


def tls_failed(cause: str) -> str:
    return f"TLS error: {cause}"


class Timeouts(Frozen):
    connect: float
    read: float
    """For each read, waiting for the response's head included."""

    def __init__(self, connect: float, read: float) -> None:
        self._init(connect, read)


class Route(Frozen):
    """Where a request to ``url`` goes: the proxy (without its credentials) and the
    credentials for it, or straight to the server."""

    url: str
    proxy: str | None
    proxy_auth: BasicAuth | None

    def __init__(
        self, url: str, proxy: str | None = None, proxy_auth: BasicAuth | None = None
    ) -> None:
        self._init(url, proxy, proxy_auth)

    @property
    def tls(self) -> bool:
        """Does any hop speak TLS (the server's, or the proxy's)?"""
        return any(urlsplit(url).scheme == "https" for url in (self.url, self.proxy or ""))

    @property
    def tls_in_tls(self) -> bool:
        """An https:// server through an https:// proxy: TLS inside the proxy's TLS."""
        return (
            urlsplit(self.url).scheme == "https"
            and self.proxy is not None
            and urlsplit(self.proxy).scheme == "https"
        )


def route_for(url: str) -> Route:
    """The route the environment's proxy settings give ``url`` (:func:`.proxies.proxy_for`)."""
    proxy = proxy_for(url)
    if proxy is None:
        return Route(url)
    if urlsplit(proxy).scheme not in ("http", "https"):
        raise TransportError(url, f"the proxy {redact(proxy)} is not an http:// or https:// proxy")
    bare, auth = split_credentials(proxy)
    return Route(url, bare, auth)


if TYPE_CHECKING:  # the protocols are for the type checker: nothing checks them at run time

    class RawResponse(Protocol):
        """A response as a transport hands it over: the head read, the body not yet."""

        @property
        def status(self) -> int: ...

        @property
        def reason(self) -> str: ...

        @property
        def headers(self) -> Mapping[str, str]:
            """Names are case-insensitive."""
            ...

        def stream(self, chunk_size: int, *, decode: bool) -> Iterator[bytes]:
            """The body in chunks of at most ``chunk_size``; ``decode`` undoes a
            ``Content-Encoding`` (gzip, deflate)."""
            ...

        def read1(self, size: int) -> bytes:
            """At most ``size`` decoded bytes after at most one receive; ``b""`` at the end."""
            ...

        def drain(self) -> None:
            """Read what is left of the body and give the connection back."""
            ...

        def abort(self) -> None:
            """Close the connection: what is left of the body must not reach the next request."""
            ...

        def release(self) -> None:
            """Give the connection back for another request (a closed one is not reused)."""
            ...

    class Transport(Protocol):
        def supports(self, route: Route) -> bool:
            """Can this transport carry a request along ``route``?"""
            ...

        def send(
            self,
            method: str,
            route: Route,
            headers: Mapping[str, str],
            timeouts: Timeouts,
            body: bytes | None = None,
        ) -> RawResponse:
            """Send one request (with ``body``, if any); TransportError when no answer comes."""
            ...

        def close(self) -> None: ...


TlsContext = Callable[[], "ssl.SSLContext"]
"""The TLS trust (:func:`.tls.ssl_context`), made when the first TLS connection needs it."""
