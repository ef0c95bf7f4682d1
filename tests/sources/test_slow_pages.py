"""A slow index page: a registry fetching a large page from its upstream for the first time
(devpi mirroring PyPI) sends nothing for longer than the client's timeout. The page is asked
once more, waiting up to ``sources.read_seconds``, with a warning; a hanging mirror still
fails over at once, and a page that never comes is given up after the second wait.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest

from anya_plugins.sources.errors import IndexUnreachable
from anya_plugins.sources.http import HttpClient
from anya_plugins.sources.mirrors import MirrorSet
from anya_plugins.sources.settings import LimitSettings
from anya_plugins.sources.simple import SIMPLE_JSON, SimpleIndex
from tests.sources.conftest import PROBE_TIMEOUT, ServeRoutes
from tests.sources.network import Route, Server, send

TIMEOUT = 0.3
"""The client's timeout for connecting and for each read."""
PAGE = json.dumps({"meta": {"api-version": "1.0"}, "name": "slow", "files": []}).encode()


class SlowPage:
    """A route that sends nothing for ``delays[n]`` seconds before answering its n-th request
    (the last delay for every later one), and counts the requests."""

    def __init__(self, *delays: float) -> None:
        self.delays = delays
        self.requests = 0
        self.stopping = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, handler: BaseHTTPRequestHandler) -> None:
        with self._lock:
            delay = self.delays[min(self.requests, len(self.delays) - 1)]
            self.requests += 1
        if self.stopping.wait(delay):
            return
        try:
            send(handler, 200, PAGE, content_type=SIMPLE_JSON)
        except OSError:
            return  # the client gave up waiting


@pytest.fixture
def slow_server(serve: ServeRoutes) -> Iterator[tuple[ServeRoutes, list[SlowPage]]]:
    routes: list[SlowPage] = []
    yield serve, routes
    for route in routes:
        route.stopping.set()


def _index(*servers: Server, read_seconds: float) -> SimpleIndex:
    mirrors = MirrorSet(
        [f"{server.url()}/simple/" for server in servers],
        http=HttpClient(timeout=TIMEOUT),
        probe_timeout=PROBE_TIMEOUT,
    )
    return SimpleIndex(mirrors, limits=LimitSettings(read_seconds=read_seconds))


def _server(serve: ServeRoutes, page: Route) -> Server:
    return serve({"/simple/": lambda h: send(h, 200), "/simple/slow/": page})


def test_a_page_slower_than_the_timeout_is_asked_once_more_with_a_warning(
    slow_server: tuple[ServeRoutes, list[SlowPage]], caplog: pytest.LogCaptureFixture
) -> None:
    serve, routes = slow_server
    slow = SlowPage(1.0, 0.0)  # the registry has the page cached by the second request
    routes.append(slow)
    client = _index(_server(serve, slow), read_seconds=5)

    with caplog.at_level(logging.WARNING, logger="anya_plugins.sources"):
        page = client.project_page("slow")

    assert page.name == "slow"
    assert slow.requests == 2
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warning == (
        f"the index page of slow: no answer within {TIMEOUT:g} s (an index fetching a large "
        "page from its upstream can take longer); asking once more, waiting up to 5 s "
        "(sources.read_seconds)"
    )


def test_the_second_request_waits_up_to_read_seconds(
    slow_server: tuple[ServeRoutes, list[SlowPage]],
) -> None:
    serve, routes = slow_server
    slow = SlowPage(1.0)  # slower than the timeout every time
    routes.append(slow)

    page = _index(_server(serve, slow), read_seconds=5).project_page("slow")

    assert (page.name, slow.requests) == ("slow", 2)


def test_a_page_that_never_comes_is_given_up_after_the_second_wait(
    slow_server: tuple[ServeRoutes, list[SlowPage]],
) -> None:
    serve, routes = slow_server
    slow = SlowPage(10.0)
    routes.append(slow)
    started = time.monotonic()

    with pytest.raises(IndexUnreachable) as caught:
        _index(_server(serve, slow), read_seconds=1).project_page("slow")

    elapsed = time.monotonic() - started
    assert slow.requests == 2
    assert [attempt.reason for attempt in caught.value.attempts] == ["timed out waiting for data"]
    assert TIMEOUT + 1 <= elapsed < TIMEOUT + 1 + 2


def test_a_hanging_mirror_still_fails_over_at_once(
    slow_server: tuple[ServeRoutes, list[SlowPage]], caplog: pytest.LogCaptureFixture
) -> None:
    serve, routes = slow_server
    hanging, answering = SlowPage(10.0), SlowPage(0.0)
    routes += [hanging, answering]
    client = _index(_server(serve, hanging), _server(serve, answering), read_seconds=5)
    client.mirrors.order()  # both answer the probe; the hanging one stays first
    started = time.monotonic()

    with caplog.at_level(logging.WARNING, logger="anya_plugins.sources"):
        page = client.project_page("slow")

    assert page.name == "slow"
    assert (hanging.requests, answering.requests) == (1, 1)
    assert time.monotonic() - started < TIMEOUT + 1
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]
