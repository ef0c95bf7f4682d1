"""Proxies from the environment, as pip reads them: requests go through the proxy the
environment names, hosts in NO_PROXY and this machine's loopback are reached directly.

``index.test`` does not resolve: only the proxy (which maps it to 127.0.0.1) can reach it.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from anya_plugins.sources.errors import IndexUnreachable, TransportError
from anya_plugins.sources.http import HttpClient
from anya_plugins.sources.mirrors import MirrorSet
from anya_plugins.sources.simple import SimpleIndex
from tests.sources.conftest import PROBE_TIMEOUT, ServerFactory, ServeRoutes
from tests.sources.network import ForwardingProxy, make_certificates, send
from tests.sources.transports import both_transports  # noqa: F401

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


@pytest.fixture(autouse=True)
def no_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture
def proxy() -> Iterator[ForwardingProxy]:
    forwarding = ForwardingProxy(aliases=frozenset({"index.test"}))
    yield forwarding
    forwarding.stop()


def index_at(url: str, http: HttpClient) -> SimpleIndex:
    return SimpleIndex(MirrorSet([url], http=http, probe_timeout=PROBE_TIMEOUT))


def port_of(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy"])
def test_a_page_fetch_goes_through_the_proxy_the_environment_names(
    variable: str,
    proxy: ForwardingProxy,
    make_server: ServerFactory,
    monkeypatch: pytest.MonkeyPatch,
    pooled: bool,
) -> None:
    port = port_of(make_server().url)
    monkeypatch.setenv(variable, proxy.url)

    with HttpClient(timeout=2, pooled=pooled) as http:
        page = index_at(f"http://index.test:{port}/simple/", http).project_page("anya-ext-demo")

    assert {link.url.rsplit("/", 2)[0] for link in page.files} == {f"http://index.test:{port}"}
    gets = [seen.target for seen in proxy.seen if seen.method == "GET"]
    assert gets == [f"http://index.test:{port}/simple/anya-ext-demo/"]


@pytest.mark.parametrize("variable", ["NO_PROXY", "no_proxy"])
def test_a_host_in_no_proxy_is_reached_directly(
    variable: str,
    proxy: ForwardingProxy,
    make_server: ServerFactory,
    monkeypatch: pytest.MonkeyPatch,
    pooled: bool,
) -> None:
    port = port_of(make_server().url)
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv(variable, "pypi.example,.test")

    with HttpClient(timeout=2, pooled=pooled) as http, pytest.raises(IndexUnreachable) as caught:
        index_at(f"http://index.test:{port}/simple/", http).project_page("anya-ext-demo")

    assert caught.value.attempts[0].reason == "host name not found"
    assert proxy.seen == []


def test_the_loopback_is_reached_directly_even_with_a_proxy_set(
    proxy: ForwardingProxy,
    make_server: ServerFactory,
    monkeypatch: pytest.MonkeyPatch,
    pooled: bool,
) -> None:
    server = make_server()
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)

    with HttpClient(timeout=2, pooled=pooled) as http:
        page = index_at(server.simple_url, http).project_page("anya-ext-demo")

    assert page.files
    assert proxy.seen == []


def test_https_goes_through_a_connect_tunnel_and_credentials_stay_inside_it(
    proxy: ForwardingProxy,
    serve: ServeRoutes,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    pooled: bool,
) -> None:
    certificates = make_certificates(tmp_path, ("index.test",))
    server = serve(
        {"/simple/": lambda h: send(h, 200, b"private")}, tls=certificates.server_context
    )
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)

    with (
        HttpClient(timeout=2, ca_bundle=certificates.ca_file, pooled=pooled) as http,
        http.get(f"https://reader:s3cret@index.test:{server.port}/simple/") as response,
    ):
        body = response.read()

    assert (response.status, body) == (200, b"private")
    assert [(seen.method, seen.target) for seen in proxy.seen] == [
        ("CONNECT", f"index.test:{server.port}")
    ]
    assert proxy.seen[0].authorization is None
    assert server.seen[0].authorization == "Basic " + base64.b64encode(b"reader:s3cret").decode()


def test_the_proxy_url_credentials_go_to_the_proxy_and_nowhere_else(
    proxy: ForwardingProxy,
    make_server: ServerFactory,
    monkeypatch: pytest.MonkeyPatch,
    pooled: bool,
) -> None:
    port = port_of(make_server().url)
    monkeypatch.setenv("HTTP_PROXY", f"http://puser:ppass@127.0.0.1:{proxy.port}")

    with (
        HttpClient(timeout=2, pooled=pooled) as http,
        http.get(f"http://index.test:{port}/simple/") as response,
    ):
        assert response.status == 200

    token = base64.b64encode(b"puser:ppass").decode()
    assert proxy.seen[0].headers.get("Proxy-Authorization") == f"Basic {token}"
    assert proxy.seen[0].authorization is None


def test_an_unreachable_proxy_is_reported_without_its_password(
    dead_url: str, monkeypatch: pytest.MonkeyPatch, pooled: bool
) -> None:
    dead = urlsplit(dead_url)
    monkeypatch.setenv("HTTP_PROXY", f"http://puser:ppass@{dead.netloc}")

    with HttpClient(timeout=2, pooled=pooled) as http, pytest.raises(TransportError) as caught:
        http.head("http://index.test/simple/")

    assert caught.value.message == (
        "http://index.test/simple/: cannot connect to the proxy: Connection refused"
    )
    assert "ppass" not in caught.value.message


def test_a_proxy_that_refuses_the_tunnel_is_reported(
    serve: ServeRoutes, monkeypatch: pytest.MonkeyPatch, pooled: bool
) -> None:
    not_a_proxy = serve({})  # answers CONNECT with 501
    monkeypatch.setenv("HTTPS_PROXY", not_a_proxy.url())

    with HttpClient(timeout=2, pooled=pooled) as http, pytest.raises(TransportError) as caught:
        http.head("https://index.test/simple/")

    assert caught.value.reason == (
        "proxy error: Tunnel connection failed: 501 Unsupported method ('CONNECT')"
    )
