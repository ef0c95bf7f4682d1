"""Credentials for private indexes: from the source URL, netrc or the keyring, sent as basic
auth to the origin they belong to and nowhere else, and never shown."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.credentials import Credential, SimpleCredential

from anya_plugins.sources.credentials import BasicAuth, redact, split_credentials
from anya_plugins.sources.errors import (
    IndexResponseError,
    IndexUnreachable,
    SourcesConfigError,
)
from anya_plugins.sources.http import HttpClient, HttpResponse
from anya_plugins.sources.settings import SourcesSettings, parse_sources
from anya_plugins.sources.simple import SIMPLE_JSON, SimpleIndex
from tests.registry_fixtures import PASSWORDS, Registry
from tests.sources.conftest import ServeRoutes
from tests.sources.network import Route, redirect, send
from tests.sources.transports import both_transports  # noqa: F401

PAGE = json.dumps(
    {
        "meta": {"api-version": "1.1"},
        "name": "demo",
        "files": [{"filename": "demo-1.0-py3-none-any.whl", "url": "../../files/demo.whl"}],
    }
).encode()


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def page(handler: Any) -> None:
    send(handler, 200, PAGE, content_type=SIMPLE_JSON)


def requiring(user: str, password: str, route: Route) -> Route:
    """``route`` for a request with these credentials, 401 for any other."""

    def guarded(handler: Any) -> None:
        if handler.headers.get("Authorization") == basic(user, password):
            route(handler)
        else:
            send(handler, 401, b"who are you?", headers={"WWW-Authenticate": 'Basic realm="x"'})

    return guarded


@pytest.fixture(autouse=True)
def netrc_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """$NETRC points at a file of the test's own (absent until a test writes it)."""
    path = tmp_path / "netrc"
    monkeypatch.setenv("NETRC", str(path))
    return path


def settings_for(url: str, tmp_path: Path, *mirrors: str) -> SourcesSettings:
    return parse_sources(
        {
            "timeout": 2,
            "primary": {"url": url, "mirrors": list(mirrors)},
            "cache": {"dir": str(tmp_path / "cache")},
        }
    )


def test_credentials_in_the_source_url_are_sent_as_basic_auth(
    serve: ServeRoutes, tmp_path: Path, dead_url: str
) -> None:
    server = serve(
        {
            "/simple/": requiring("reader", "p@ss", lambda h: send(h, 200)),
            "/simple/demo/": requiring("reader", "p@ss", page),
        },
    )
    url = f"http://reader:p%40ss@127.0.0.1:{server.port}/simple/"

    # a mirror besides: the primary is probed (HEAD) before the page is fetched
    result = SimpleIndex.from_settings(settings_for(url, tmp_path, dead_url)).project_page("demo")

    assert [(seen.method, seen.authorization) for seen in server.seen] == [
        ("HEAD", basic("reader", "p@ss")),
        ("GET", basic("reader", "p@ss")),
    ]
    assert result.used_url == f"{server.url()}/simple/demo/"
    assert result.files[0].url == f"{server.url()}/files/demo.whl"


def test_a_netrc_entry_is_sent_to_its_host(
    serve: ServeRoutes, tmp_path: Path, netrc_file: Path
) -> None:
    server = serve({"/simple/": lambda h: send(h, 200), "/simple/demo/": page})
    netrc_file.write_text("machine 127.0.0.1 login robot password from-netrc\n")

    SimpleIndex.from_settings(settings_for(f"{server.url()}/simple/", tmp_path)).project_page(
        "demo"
    )
    server.seen.clear()
    SimpleIndex.from_settings(
        settings_for(f"http://reader:from-url@127.0.0.1:{server.port}/simple/", tmp_path)
    ).project_page("demo", refresh=True)

    assert {seen.authorization for seen in server.seen} == {basic("reader", "from-url")}


def test_netrc_is_not_sent_to_another_host(
    serve: ServeRoutes, tmp_path: Path, netrc_file: Path, pooled: bool
) -> None:
    server = serve({"/simple/": lambda h: send(h, 200), "/simple/demo/": page})
    netrc_file.write_text("machine index.example login robot password from-netrc\n")

    with (
        HttpClient(timeout=2, pooled=pooled) as http,
        http.get(f"{server.url()}/simple/demo/") as response,
    ):
        assert response.status == 200

    assert server.seen[0].authorization is None


def test_credentials_are_not_forwarded_on_a_redirect_to_another_host(
    serve: ServeRoutes, tmp_path: Path, netrc_file: Path
) -> None:
    elsewhere = serve({"/simple/demo/": page})
    server = serve(
        {
            "/simple/": lambda h: send(h, 200),
            "/simple/demo/": redirect(f"{elsewhere.url('localhost')}/simple/demo/"),
        },
    )
    netrc_file.write_text("machine 127.0.0.1 login robot password from-netrc\n")
    url = f"http://reader:s3cret@127.0.0.1:{server.port}/simple/"

    result = SimpleIndex.from_settings(settings_for(url, tmp_path)).project_page("demo")

    assert result.used_url == f"{elsewhere.url('localhost')}/simple/demo/"
    assert {seen.authorization for seen in server.seen} == {basic("reader", "s3cret")}
    assert [seen.authorization for seen in elsewhere.seen] == [None]


def test_credentials_written_into_a_request_url_stay_on_its_origin(
    serve: ServeRoutes, pooled: bool
) -> None:
    elsewhere = serve({"/files/demo.whl": lambda h: send(h, 200, b"wheel")})
    server = serve({"/files/demo.whl": redirect(f"{elsewhere.url('localhost')}/files/demo.whl")})

    with (
        HttpClient(timeout=2, pooled=pooled) as http,
        http.get(f"http://reader:s3cret@127.0.0.1:{server.port}/files/demo.whl") as response,
    ):
        assert response.read() == b"wheel"

    assert [seen.authorization for seen in server.seen] == [basic("reader", "s3cret")]
    assert [seen.authorization for seen in elsewhere.seen] == [None]


def test_credentials_follow_a_redirect_on_the_same_origin(serve: ServeRoutes, pooled: bool) -> None:
    server = serve({"/old/": redirect("/simple/demo/"), "/simple/demo/": page})

    with (
        HttpClient(timeout=2, pooled=pooled) as http,
        http.get(f"http://reader:s3cret@127.0.0.1:{server.port}/old/") as response,
    ):
        assert response.url == f"{server.url()}/simple/demo/"

    assert [seen.authorization for seen in server.seen] == [basic("reader", "s3cret")] * 2


class MemoryKeyring(KeyringBackend):
    """A keyring backend in memory: the system keyring cannot exist on a headless test run."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[str, tuple[str, str]] = {}
        self.asked: list[str] = []

    def get_credential(self, service: str, username: str | None) -> Credential | None:
        self.asked.append(service)
        entry = self.entries.get(service)
        return SimpleCredential(*entry) if entry is not None else None

    def get_password(self, service: str, username: str) -> str | None:
        entry = self.entries.get(service)
        return entry[1] if entry is not None and entry[0] == username else None

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[service] = (username, password)

    def delete_password(self, service: str, username: str) -> None:
        self.entries.pop(service, None)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def test_the_keyring_is_asked_after_a_401_and_its_credentials_are_sent(
    serve: ServeRoutes, memory_keyring: MemoryKeyring, pooled: bool
) -> None:
    server = serve({"/simple/demo/": requiring("kr-user", "kr-pass", page)})
    memory_keyring.set_password(f"127.0.0.1:{server.port}", "kr-user", "kr-pass")

    with HttpClient(timeout=2, pooled=pooled) as http:
        for _ in range(2):
            with http.get(f"{server.url()}/simple/demo/") as response:
                assert response.status == 200

    assert [seen.authorization for seen in server.seen] == [None] + [
        basic("kr-user", "kr-pass")
    ] * 2
    assert memory_keyring.asked == [f"127.0.0.1:{server.port}"]


def test_the_keyring_is_not_asked_when_the_index_does_not_ask_for_credentials(
    serve: ServeRoutes, memory_keyring: MemoryKeyring, pooled: bool
) -> None:
    server = serve({"/simple/demo/": page})

    with (
        HttpClient(timeout=2, pooled=pooled) as http,
        http.get(f"{server.url()}/simple/demo/") as response,
    ):
        assert response.status == 200

    assert memory_keyring.asked == []


def test_a_401_says_how_to_give_credentials_for_the_host(
    serve: ServeRoutes, memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    server = serve({"/simple/demo/": requiring("reader", "s3cret", page)})
    index = SimpleIndex.from_settings(settings_for(f"{server.url()}/simple/", tmp_path))

    with pytest.raises(IndexResponseError) as caught:
        index.project_page("demo")

    assert "HTTP 401" in caught.value.message
    hint = caught.value.hint or ""
    assert "no credentials were sent for 127.0.0.1" in hint
    for way in (
        "put USER:PASSWORD@ before the host in the source's URL",
        "anya-ext config set sources.<source>.url URL",
        "ANYA_SOURCES__<SOURCE>__URL",
        "machine 127.0.0.1 login USER password PASSWORD in ~/.netrc or $NETRC",
        "keyring set 127.0.0.1 USER",
    ):
        assert way in hint, way


def test_a_403_says_the_credentials_sent_may_not_read_the_index(
    serve: ServeRoutes, tmp_path: Path
) -> None:
    server = serve({"/simple/demo/": lambda h: send(h, 403, b"not you")})
    url = f"http://intruder:guess@127.0.0.1:{server.port}/simple/"
    index = SimpleIndex.from_settings(settings_for(url, tmp_path))

    with pytest.raises(IndexResponseError) as caught:
        index.project_page("demo")

    assert "HTTP 403" in caught.value.message
    assert "are not allowed to read this index" in (caught.value.hint or "")
    assert "guess" not in str(caught.value)


def test_other_refusals_carry_no_credentials_hint(serve: ServeRoutes, tmp_path: Path) -> None:
    server = serve({"/simple/demo/": lambda h: send(h, 418, b"teapot")})
    index = SimpleIndex.from_settings(settings_for(f"{server.url()}/simple/", tmp_path))

    with pytest.raises(IndexResponseError) as caught:
        index.project_page("demo")

    assert caught.value.hint is None


def test_passwords_are_masked_in_every_source_error() -> None:
    error = IndexResponseError("https://reader:s3cret@pkgs.example/simple/", "HTTP 418")
    token = IndexResponseError("https://tok3n@pkgs.example/simple/", "HTTP 418")

    assert error.message == "https://reader:****@pkgs.example/simple/: HTTP 418"
    assert error.url == "https://reader:****@pkgs.example/simple/"
    assert token.message == "https://****@pkgs.example/simple/: HTTP 418"
    with pytest.raises(SourcesConfigError) as caught:
        parse_sources({"primary": {"url": "ftp://reader:s3cret@pkgs.example/simple/"}})
    assert "s3cret" not in caught.value.message
    assert "reader:****@pkgs.example" in caught.value.message


def test_a_failing_private_source_shows_no_password_in_errors_or_logs(
    serve: ServeRoutes,
    dead_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = serve({"/simple/": lambda h: send(h, 200), "/simple/demo/": page})
    dead = dead_url.replace("http://", "http://reader:s3cret@")
    live = f"http://reader:s3cret@127.0.0.1:{server.port}/simple/"
    index = SimpleIndex.from_settings(settings_for(dead, tmp_path, live))

    with caplog.at_level(logging.DEBUG):
        index.project_page("demo")
        with pytest.raises(IndexUnreachable) as caught:
            SimpleIndex.from_settings(settings_for(dead, tmp_path)).project_page(
                "demo", refresh=True
            )

    assert dead_url in str(caught.value)
    assert "s3cret" not in str(caught.value)
    assert any(dead_url in record.getMessage() for record in caplog.records)
    assert not [record for record in caplog.records if "s3cret" in record.getMessage()]


def test_credentials_split_off_a_url() -> None:
    assert split_credentials("https://u:p%3Aw@h:8443/s/") == (
        "https://h:8443/s/",
        BasicAuth("u", "p:w"),
    )
    assert split_credentials("https://tok@h/s/") == ("https://h/s/", BasicAuth("tok", ""))
    assert split_credentials("https://h/s/") == ("https://h/s/", None)
    assert "p:w" not in repr(BasicAuth("u", "p:w"))
    assert (
        redact("see http://u:p@h/ and https://t@g/") == "see http://u:****@h/ and https://****@g/"
    )


def auth_status(index: SimpleIndex) -> list[Any]:
    """What devpi says about who is asking (``/+api`` beside the index)."""

    def read(response: HttpResponse) -> list[Any]:
        assert response.status == 200
        status: list[Any] = json.loads(response.read())["result"]["authstatus"]
        return status

    return index.mirrors.fetch("../+api", read, headers={"Accept": "application/json"})


def test_devpi_signs_in_the_user_of_the_source_url(registry: Registry, tmp_path: Path) -> None:
    simple = f"{registry.url}/anya/primary/+simple/"
    with_password = simple.replace("http://", f"http://anya:{PASSWORDS['anya']}@")

    anonymous = auth_status(SimpleIndex.from_settings(settings_for(simple, tmp_path)))
    signed_in = auth_status(SimpleIndex.from_settings(settings_for(with_password, tmp_path)))

    assert anonymous[0] == "noauth"
    assert signed_in[:2] == ["ok", "anya"]


def test_devpi_signs_in_the_netrc_user(
    registry: Registry, tmp_path: Path, netrc_file: Path
) -> None:
    netrc_file.write_text(f"machine 127.0.0.1 login acme password {PASSWORDS['acme']}\n")
    simple = f"{registry.url}/anya/primary/+simple/"

    assert auth_status(SimpleIndex.from_settings(settings_for(simple, tmp_path)))[:2] == [
        "ok",
        "acme",
    ]
