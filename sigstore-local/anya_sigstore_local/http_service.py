"""A tiny JSON-over-HTTP server on a background thread, shared by the local services.

Each service (OIDC issuer, Fulcio, Rekor) declares :class:`Route` s; :class:`HttpService`
binds a port first, so that a service can learn its own URL before it is built (the
OIDC issuer puts its URL into every token), then serves the routes until stopped.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

from anya_sigstore_local.errors import LocalInstanceError

_logger = logging.getLogger(__name__)

JSON_TYPE = "application/json"
# How often the serving loop looks for a shutdown request: what stopping a service costs.
_SHUTDOWN_POLL_SECONDS = 0.05


class HttpError(Exception):
    """Ends a request with ``status`` and a JSON body ``{"code": status, "message": message}``.

    That body is the error shape both Fulcio's and Rekor's clients read.
    """

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Request:
    """One HTTP request, as a route handler sees it."""

    method: str
    path: str
    query: Mapping[str, Sequence[str]]
    headers: Mapping[str, str]
    body: bytes
    params: Mapping[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        """The body parsed as JSON; a 400 answer if it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError as error:
            raise HttpError(HTTPStatus.BAD_REQUEST, f"request body is not JSON: {error}") from error

    def json_object(self) -> dict[str, Any]:
        """The body parsed as a JSON object; a 400 answer otherwise."""
        document = self.json()
        if not isinstance(document, dict):
            raise HttpError(HTTPStatus.BAD_REQUEST, "request body must be a JSON object")
        return document


@dataclass(frozen=True)
class Response:
    """What a route handler answers."""

    status: HTTPStatus
    body: bytes
    content_type: str

    @classmethod
    def json(cls, document: object, status: HTTPStatus = HTTPStatus.OK) -> Response:
        """``document`` serialized as JSON."""
        return cls(status, json.dumps(document).encode(), JSON_TYPE)


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Route:
    """``handler`` answers ``method`` requests whose path fully matches ``pattern``.

    Named groups of the pattern reach the handler as ``Request.params``.
    """

    method: str
    pattern: str
    handler: Handler


class HttpService:
    """One service's HTTP server: bound on construction, serving after :meth:`serve`."""

    def __init__(self, name: str, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.name = name
        try:
            self._server = _RoutingServer((host, port))
        except OSError as error:
            raise LocalInstanceError(
                f"{name}: cannot listen on {host}:{port}: {error.strerror}",
                hint="pick another port, or 0 for any free one",
            ) from error
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http://host:port`` of this service, without a trailing slash."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def serve(self, routes: Sequence[Route]) -> None:
        """Start answering ``routes`` on a daemon thread."""
        if self._thread is not None:
            raise LocalInstanceError(f"{self.name}: already serving at {self.url}")
        self._server.routes = [(route, re.compile(route.pattern)) for route in routes]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": _SHUTDOWN_POLL_SECONDS},
            name=f"{self.name} {self.url}",
            daemon=True,
        )
        self._thread.start()

    def close(self) -> None:
        """Stop serving and release the port."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()


class _RoutingServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, _RequestHandler)
        self.routes: list[tuple[Route, re.Pattern[str]]] = []


class _RequestHandler(BaseHTTPRequestHandler):
    server_version = "anya-local-sigstore"

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def log_message(self, format: str, *args: Any) -> None:
        _logger.debug("%s %s", self.address_string(), format % args)

    def _dispatch(self) -> None:
        try:
            response = self._answer(self._read_request())
        except HttpError as error:
            response = Response.json({"code": error.status, "message": error.message}, error.status)
        except Exception:
            _logger.exception("%s %s failed", self.command, self.path)
            response = Response.json(
                {"code": HTTPStatus.INTERNAL_SERVER_ERROR, "message": "internal error, see log"},
                HTTPStatus.INTERNAL_SERVER_ERROR,
            )
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    def _read_request(self) -> Request:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError as error:
            raise HttpError(HTTPStatus.BAD_REQUEST, "Content-Length is not a number") from error
        url = urlsplit(self.path)
        return Request(
            method=self.command,
            path=url.path,
            query=parse_qs(url.query),
            headers={key.lower(): value for key, value in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )

    def _answer(self, request: Request) -> Response:
        path_known = False
        for route, pattern in cast(_RoutingServer, self.server).routes:
            match = pattern.fullmatch(request.path)
            if match is None:
                continue
            path_known = True
            if route.method == request.method:
                return route.handler(replace(request, params=match.groupdict()))
        if path_known:
            raise HttpError(HTTPStatus.METHOD_NOT_ALLOWED, f"{request.method} not allowed here")
        raise HttpError(HTTPStatus.NOT_FOUND, f"no such endpoint: {request.path}")
