"""The HTTP adapter: statuses are answers, everything without an answer is a TransportError."""

from __future__ import annotations

import time

import pytest

from anya_plugins.sources.errors import TransportError
from anya_plugins.sources.http import HttpClient, media_type
from tests.sources.conftest import TIMEOUT, ServerFactory
from tests.sources.transports import both_transports, http_over_both  # noqa: F401


def test_a_status_code_is_returned_not_raised(make_server: ServerFactory, http: HttpClient) -> None:
    server = make_server()

    with http.get(f"{server.url}/files/missing.whl") as missing:
        assert missing.status == 404
    with http.get(f"{make_server('error').url}/simple/") as failing:
        assert failing.status == 500


def test_headers_and_body_stream(make_server: ServerFactory, http: HttpClient) -> None:
    server = make_server()
    wheel = server.catalog.files[0]

    with http.get(f"{server.url}/files/{wheel.filename}") as response:
        assert response.status == 200
        assert response.content_length == len(wheel.content)
        assert response.headers["content-type"] == "application/octet-stream"
        assert b"".join(response.iter_bytes(chunk_size=100)) == wheel.content


def test_a_port_with_nothing_listening_cannot_connect(dead_url: str, http: HttpClient) -> None:
    with pytest.raises(TransportError, match=r"cannot connect: Connection refused$") as caught:
        http.head(dead_url)

    assert caught.value.url == dead_url


def test_a_server_that_does_not_answer_times_out(
    make_server: ServerFactory, http: HttpClient
) -> None:
    server = make_server("hang")
    started = time.monotonic()

    with pytest.raises(TransportError, match=r"timed out waiting for data$"):
        http.head(server.simple_url)

    assert time.monotonic() - started < TIMEOUT + 1


def test_a_dropped_connection_is_reported(make_server: ServerFactory, http: HttpClient) -> None:
    server = make_server("drop")

    with pytest.raises(TransportError, match=r"connection dropped: Remote end closed"):
        http.head(server.simple_url)


def test_a_body_that_breaks_off_raises_while_reading(
    make_server: ServerFactory, http: HttpClient
) -> None:
    server = make_server("break-body")
    wheel = server.catalog.files[0]

    with http.get(f"{server.url}/files/{wheel.filename}") as response:
        assert response.status == 200
        with pytest.raises(TransportError, match=r"connection dropped: IncompleteRead"):
            response.read()


def test_media_type_and_charset_are_read_from_content_type() -> None:
    assert media_type('Text/HTML; charset="latin-1"') == ("text/html", "latin-1")
    assert media_type("application/vnd.pypi.simple.v1+json") == (
        "application/vnd.pypi.simple.v1+json",
        None,
    )
    assert media_type("") == ("", None)
