"""TLS trust: the system store (through truststore), plus a CA bundle from ``[sources]
ca_bundle`` or the environment variables pip honours, against a real HTTPS server whose
certificate a throwaway CA signed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import truststore

from anya_plugins.errors import ConfigError
from anya_plugins.sources.errors import CaBundleError, TransportError
from anya_plugins.sources.http import HttpClient
from anya_plugins.sources.settings import parse_sources
from anya_plugins.sources.simple import SIMPLE_JSON, SimpleIndex
from anya_plugins.sources.tls import ssl_context
from tests.sources.conftest import ServeRoutes
from tests.sources.network import Certificates, Server, make_certificates, send
from tests.sources.transports import both_transports  # noqa: F401

EMPTY_PAGE = json.dumps({"meta": {"api-version": "1.1"}, "name": "demo", "files": []}).encode()


@pytest.fixture(autouse=True)
def no_bundle_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """This machine presets these to the system bundle; each test sets what it needs."""
    for variable in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def certificates(tmp_path: Path) -> Certificates:
    return make_certificates(tmp_path, ("127.0.0.1", "localhost"))


@pytest.fixture
def https_server(certificates: Certificates, serve: ServeRoutes) -> Server:
    routes = {
        "/": lambda h: send(h, 200, b"hello"),
        "/simple/": lambda h: send(h, 200),
        "/simple/demo/": lambda h: send(h, 200, EMPTY_PAGE, content_type=SIMPLE_JSON),
    }
    return serve(routes, tls=certificates.server_context)


def fetch(http: HttpClient, url: str) -> bytes:
    with http.get(url) as response:
        assert response.status == 200
        return response.read()


def test_the_system_trust_store_is_used_through_truststore() -> None:
    assert isinstance(ssl_context(), truststore.SSLContext)


def test_a_certificate_from_an_unknown_ca_is_refused(https_server: Server, pooled: bool) -> None:
    with HttpClient(timeout=2, pooled=pooled) as http, pytest.raises(TransportError) as caught:
        fetch(http, f"{https_server.url()}/")

    assert caught.value.reason.startswith("TLS error:")
    assert "certificate verify failed" in caught.value.reason


def test_the_configured_ca_bundle_is_trusted(
    https_server: Server, certificates: Certificates, tmp_path: Path
) -> None:
    settings = parse_sources(
        {
            "primary": {"url": f"{https_server.url()}/simple/"},
            "ca_bundle": str(certificates.ca_file),
            "cache": {"dir": str(tmp_path / "cache")},
        }
    )

    page = SimpleIndex.from_settings(settings).project_page("demo")

    assert page.used_url == f"{https_server.url()}/simple/demo/"
    assert settings.ca_bundle == certificates.ca_file


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"])
def test_a_ca_bundle_from_the_environment_is_trusted(
    variable: str,
    https_server: Server,
    certificates: Certificates,
    monkeypatch: pytest.MonkeyPatch,
    pooled: bool,
) -> None:
    monkeypatch.setenv(variable, str(certificates.ca_file))

    with HttpClient(timeout=2, pooled=pooled) as http:
        assert fetch(http, f"{https_server.url('localhost')}/") == b"hello"


def test_the_setting_wins_over_the_environment(
    https_server: Server,
    certificates: Certificates,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    pooled: bool,
) -> None:
    (tmp_path / "other").mkdir()
    other = make_certificates(tmp_path / "other", ("127.0.0.1",))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other.ca_file))

    with HttpClient(timeout=2, ca_bundle=certificates.ca_file, pooled=pooled) as http:
        assert fetch(http, f"{https_server.url()}/") == b"hello"
    with (
        HttpClient(timeout=2, pooled=pooled) as http,
        pytest.raises(TransportError, match="TLS error"),
    ):
        fetch(http, f"{https_server.url()}/")


def test_a_bundle_that_cannot_be_loaded_names_who_set_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pooled: bool
) -> None:
    missing = tmp_path / "missing.pem"
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(missing))

    with pytest.raises(CaBundleError) as caught:
        HttpClient(timeout=2, pooled=pooled)

    assert caught.value.message.startswith(
        f"REQUESTS_CA_BUNDLE: cannot load CA certificates from {missing}:"
    )
    assert caught.value.exit_code == ConfigError.exit_code
