"""Mirror sets: the primary while it answers, failover on no answer or 5xx, never on 404."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from anya_plugins.sources.errors import IndexUnreachable
from anya_plugins.sources.http import HttpResponse
from anya_plugins.sources.mirrors import MirrorSet
from tests.sources.conftest import Behaviour, ServerFactory

MirrorsOf = Callable[..., MirrorSet]
PAGE = "anya-ext-demo/"


def status_of(response: HttpResponse) -> int:
    response.read()
    return response.status


def test_the_primary_serves_while_it_answers(
    make_server: ServerFactory, mirrors_of: MirrorsOf
) -> None:
    primary, mirror = make_server(), make_server()
    mirrors = mirrors_of(primary.simple_url, mirror.simple_url)

    assert mirrors.fetch(PAGE, status_of) == 200

    assert mirrors.used_url == f"{primary.simple_url}{PAGE}"
    assert mirror.requests == []


def test_a_single_url_is_asked_without_a_probe(
    make_server: ServerFactory, mirrors_of: MirrorsOf
) -> None:
    server = make_server()

    assert mirrors_of(server.simple_url).fetch(PAGE, status_of) == 200

    assert [request.method for request in server.requests] == ["GET"]


def test_a_single_dead_url_fails_with_the_request_itself(
    dead_url: str, mirrors_of: MirrorsOf
) -> None:
    with pytest.raises(IndexUnreachable) as caught:
        mirrors_of(dead_url).fetch(PAGE, status_of)

    assert [attempt.url for attempt in caught.value.attempts] == [f"{dead_url}{PAGE}"]


@pytest.mark.parametrize("failure", ["dead", "error", "hang", "drop"])
def test_a_failing_primary_fails_over_to_a_mirror(
    failure: str, make_server: ServerFactory, mirrors_of: MirrorsOf, dead_url: str
) -> None:
    primary = dead_url if failure == "dead" else make_server(failure).simple_url
    mirror = make_server()
    mirrors = mirrors_of(primary, mirror.simple_url)

    assert mirrors.fetch(PAGE, status_of) == 200

    assert mirrors.used_url == f"{mirror.simple_url}{PAGE}"
    assert mirrors.order() == (mirror.simple_url, primary)


@pytest.mark.parametrize("failure", ["error", "hang", "drop"])
def test_a_request_fails_over_when_the_primary_breaks_after_the_probe(
    failure: Behaviour, make_server: ServerFactory, mirrors_of: MirrorsOf
) -> None:
    primary, mirror = make_server(), make_server()
    mirrors = mirrors_of(primary.simple_url, mirror.simple_url)
    assert mirrors.order()[0] == primary.simple_url
    primary.behaviour = failure

    assert mirrors.fetch(PAGE, status_of) == 200

    assert mirrors.used_url == f"{mirror.simple_url}{PAGE}"


def test_a_mirror_that_failed_is_tried_last_from_then_on(
    make_server: ServerFactory, mirrors_of: MirrorsOf
) -> None:
    primary, mirror = make_server(), make_server()
    mirrors = mirrors_of(primary.simple_url, mirror.simple_url)
    mirrors.order()
    primary.behaviour = "error"
    mirrors.fetch(PAGE, status_of)

    mirrors.fetch(PAGE, status_of)

    assert len(primary.gets("/simple/")) == 1
    assert len(mirror.gets("/simple/")) == 2


def test_a_404_is_an_answer_not_a_failure(
    make_server: ServerFactory, mirrors_of: MirrorsOf
) -> None:
    primary, mirror = make_server(), make_server()
    mirrors = mirrors_of(primary.simple_url, mirror.simple_url)

    assert mirrors.fetch("no-such-project/", status_of) == 404

    assert mirrors.used_url == f"{primary.simple_url}no-such-project/"
    assert mirror.requests == []


def test_when_every_mirror_fails_the_error_lists_each_url_and_why(
    make_server: ServerFactory, mirrors_of: MirrorsOf, dead_url: str
) -> None:
    failing, hanging, dropping = make_server("error"), make_server("hang"), make_server("drop")
    mirrors = mirrors_of(dead_url, failing.simple_url, hanging.simple_url, dropping.simple_url)

    with pytest.raises(IndexUnreachable) as caught:
        mirrors.fetch(PAGE, status_of)

    assert [attempt.url for attempt in caught.value.attempts] == [
        f"{dead_url}{PAGE}",
        f"{failing.simple_url}{PAGE}",
        f"{hanging.simple_url}{PAGE}",
        f"{dropping.simple_url}{PAGE}",
    ]
    assert [attempt.reason for attempt in caught.value.attempts] == [
        "cannot connect: Connection refused",
        "HTTP 500 Internal Server Error",
        "timed out waiting for data",
        "connection dropped: Remote end closed connection without response",
    ]
    message = str(caught.value)
    assert message.startswith(f"no mirror could serve GET {PAGE}:\n")
    assert all(attempt.url in message for attempt in caught.value.attempts)


def test_an_absolute_url_is_requested_at_the_same_place_on_the_other_mirrors(
    make_server: ServerFactory, mirrors_of: MirrorsOf
) -> None:
    primary, mirror = make_server(), make_server()
    mirrors = mirrors_of(primary.simple_url, mirror.simple_url)
    wheel = primary.catalog.files[0].filename
    mirrors.order()
    primary.behaviour = "error"

    assert mirrors.fetch(f"{primary.url}/files/{wheel}", status_of) == 200

    assert mirrors.used_url == f"{mirror.url}/files/{wheel}"


def test_a_url_under_no_mirror_is_requested_as_it_is(
    make_server: ServerFactory, mirrors_of: MirrorsOf
) -> None:
    elsewhere, primary = make_server(), make_server()
    mirrors = mirrors_of(primary.simple_url)
    wheel = elsewhere.catalog.files[0].filename

    assert mirrors.fetch(f"{elsewhere.url}/files/{wheel}", status_of) == 200

    assert mirrors.used_url == f"{elsewhere.url}/files/{wheel}"
