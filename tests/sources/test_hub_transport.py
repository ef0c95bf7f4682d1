"""The hub client goes over the sources' HttpClient: its requests with a body (POST, PUT) reach
the hub as sent, through the environment's proxy and trusting the CA bundle as the index's
requests do; a redirect of a request with a body is not followed."""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from anya_plugins.sources.errors import TransportError
from anya_plugins.sources.http import HttpClient
from anya_plugins.sources.hub import HubClient, HubRequestRefused
from tests.sources.network import ForwardingProxy, _Threaded, make_certificates
from tests.sources.test_credentials import basic
from tests.sources.transports import both_transports  # noqa: F401

COLLECTION = {
    "name": "starter",
    "owner": "carol",
    "versions": [{"version": 1, "title": "Starter", "description": "", "entries": []}],
}


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Answer = tuple[int, dict[str, str], bytes]


class HubServer(_Threaded):
    """Answers every request with ``answer(received)``; records what it received."""

    def __init__(self, answer: Callable[[Received], Answer], tls: ssl.SSLContext | None) -> None:
        self.received: list[Received] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                got = Received(
                    self.command, self.path, dict(self.headers.items()), self.rfile.read(length)
                )
                owner.received.append(got)
                status, headers, body = answer(got)
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = _answer

        super().__init__(Handler)
        if tls is not None:
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True)
        self.start()


@pytest.fixture
def serve_hub() -> Iterator[Callable[..., HubServer]]:
    servers: list[HubServer] = []

    def start(answer: Callable[[Received], Answer], tls: ssl.SSLContext | None = None) -> HubServer:
        server = HubServer(answer, tls)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(autouse=True)
def no_proxy_or_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    for variable in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(variable, raising=False)


def json_answer(document: object) -> Answer:
    return 200, {"Content-Type": "application/json"}, json.dumps(document).encode()


def test_a_body_is_sent_as_given_with_its_method(
    serve_hub: Callable[..., HubServer], pooled: bool
) -> None:
    server = serve_hub(lambda got: json_answer({"echo": got.body.decode()}))

    with (
        HttpClient(timeout=2, pooled=pooled) as http,
        http.request(
            "POST", f"http://127.0.0.1:{server.port}/x", body=b'{"a": 1}', headers={"X-T": "1"}
        ) as response,
    ):
        assert json.loads(response.read()) == {"echo": '{"a": 1}'}

    (got,) = server.received
    assert (got.method, got.path, got.body, got.headers["X-T"]) == ("POST", "/x", b'{"a": 1}', "1")


def test_a_redirect_of_a_request_with_a_body_is_its_answer(
    serve_hub: Callable[..., HubServer], pooled: bool
) -> None:
    server = serve_hub(lambda got: (303, {"Location": "/elsewhere"}, b""))

    with (
        HttpClient(timeout=2, pooled=pooled) as http,
        http.request("PUT", f"http://127.0.0.1:{server.port}/x", body=b"{}") as response,
    ):
        assert response.status == 303

    assert [got.path for got in server.received] == ["/x"]


def test_the_hub_is_reached_through_the_proxy_trusting_the_ca_bundle(
    serve_hub: Callable[..., HubServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    certificates = make_certificates(tmp_path, ("hub.test",))
    server = serve_hub(lambda got: json_answer(COLLECTION), tls=certificates.server_context)
    proxy = ForwardingProxy(aliases=frozenset({"hub.test"}))
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificates.ca_file))
    try:
        hub = HubClient(f"https://hub.test:{server.port}", "carol/hub", user="carol", password="pw")
        collection = hub.put_collection("starter", {"title": "Starter", "members": []})
    finally:
        proxy.stop()

    assert collection.name == "starter"
    assert [(seen.method, seen.target) for seen in proxy.seen] == [
        ("CONNECT", f"hub.test:{server.port}")
    ]
    (got,) = server.received
    assert (got.method, got.path) == ("PUT", "/carol/hub/+hub/api/collections/starter")
    assert json.loads(got.body) == {"title": "Starter", "members": []}
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["Authorization"] == basic("carol", "pw")


def test_a_refusal_names_the_status_and_the_hubs_message(
    serve_hub: Callable[..., HubServer],
) -> None:
    server = serve_hub(lambda got: (429, {}, json.dumps({"message": "slow down"}).encode()))
    hub = HubClient(f"http://127.0.0.1:{server.port}", "carol/hub", user="carol", password="pw")

    with pytest.raises(HubRequestRefused) as caught:
        hub.post_review("wallet", {"rating": 5})

    assert caught.value.status == 429
    assert caught.value.message.endswith("/carol/hub/+hub/api/reviews/wallet: HTTP 429: slow down")
    assert "try again later" in (caught.value.hint or "")


def test_an_answer_over_16_mib_is_refused(serve_hub: Callable[..., HubServer]) -> None:
    server = serve_hub(lambda got: json_answer({"collections": ["x" * (17 * 1024 * 1024)]}))

    with pytest.raises(HubRequestRefused, match=r"the hub answered more than 16 MiB"):
        HubClient(f"http://127.0.0.1:{server.port}", "carol/hub").collections()


def test_a_hub_that_does_not_answer_is_reported(dead_url: str) -> None:
    hub = HubClient(dead_url.removesuffix("/simple/"), "carol/hub")

    with pytest.raises(HubRequestRefused) as caught:
        hub.collections()

    assert caught.value.message.endswith("cannot connect: Connection refused")
    assert caught.value.hint == "is the registry running?"
    assert not isinstance(caught.value, TransportError)
