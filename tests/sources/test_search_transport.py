"""Search goes over the standard library's transport: one request, no urllib3, and still every
piece of an enterprise's network — a proxy's CONNECT tunnel, a private CA, the source URL's
credentials, the page cap."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from anya_plugins.sources.errors import ResponseTooLarge
from anya_plugins.sources.search import search, search_index
from anya_plugins.sources.settings import parse_sources
from tests.sources.conftest import ServeRoutes
from tests.sources.network import ForwardingProxy, Route, make_certificates, send
from tests.sources.test_credentials import basic, requiring

HIT = {"name": "anya-ext-demo", "version": "1.0", "summary": "A demo", "category": "core/bitcoin"}
ANSWER = json.dumps({"results": [HIT]}).encode()


def answer(handler: BaseHTTPRequestHandler) -> None:
    send(handler, 200, ANSWER, content_type="application/json")


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[ForwardingProxy]:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    forwarding = ForwardingProxy(aliases=frozenset({"index.test"}))
    yield forwarding
    forwarding.stop()


def test_search_goes_through_the_proxy_tunnel_to_a_private_ca_with_the_url_credentials(
    proxy: ForwardingProxy, serve: ServeRoutes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    certificates = make_certificates(tmp_path, ("index.test",))
    route: Route = requiring("reader", "s3cret", answer)
    server = serve({"/+anya/search": route}, tls=certificates.server_context)
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    settings = parse_sources(
        {
            "primary": {"url": f"https://reader:s3cret@index.test:{server.port}/simple/"},
            "ca_bundle": str(certificates.ca_file),
            "cache": {"dir": str(tmp_path / "cache")},
        }
    )
    index = search_index(settings)

    hits = search(index, "demo")

    assert index.mirrors.http.pooled is False
    assert [hit.name for hit in hits] == ["anya-ext-demo"]
    assert [(seen.method, seen.target) for seen in proxy.seen] == [
        ("CONNECT", f"index.test:{server.port}")
    ]
    assert [(seen.method, seen.target) for seen in server.seen] == [("GET", "/+anya/search?q=demo")]
    assert server.seen[0].authorization == basic("reader", "s3cret")


def test_search_refuses_an_answer_over_the_page_cap(serve: ServeRoutes, tmp_path: Path) -> None:
    huge = json.dumps({"results": [HIT] * 20_000}).encode()
    server = serve({"/+anya/search": lambda h: send(h, 200, huge)})
    settings = parse_sources(
        {
            "primary": {"url": f"{server.url()}/simple/"},
            "max_page_mb": 1,
            "cache": {"dir": str(tmp_path / "cache")},
        }
    )

    with pytest.raises(ResponseTooLarge, match=r"larger than the 1 MiB limit"):
        search(search_index(settings), "demo")

    assert len(huge) > 1024 * 1024


HEAVY = ("urllib3", "dataclasses", "typing", "logging", "tomllib", "inspect")
"""What the search command no longer imports (urllib3; dataclasses, which brings inspect and
compiles each record's methods; typing; logging; tomllib): ~30 ms of its start-up."""


def test_the_search_command_imports_no_heavy_module(serve: ServeRoutes, tmp_path: Path) -> None:
    server = serve({"/+anya/search": answer})
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "ANYA_CONFIG": str(tmp_path / "extensions.toml"),
        "ANYA_DATA_DIR": str(tmp_path / "data"),
        "ANYA_CACHE_DIR": str(tmp_path / "cache"),
        "ANYA_SOURCES__PRIMARY__URL": f"{server.url()}/simple/",
    }
    code = (
        "import sys\n"
        "from anya_plugins.cli.main import main\n"
        "status = main(['--json', 'search', 'demo'])\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))\n"
        "sys.exit(status)\n"
    )

    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )

    assert done.returncode == 0, done.stderr
    *rendered, imported = done.stdout.strip().splitlines()
    assert [hit["name"] for hit in json.loads("\n".join(rendered))] == ["anya-ext-demo"]
    assert imported == "[]"
    assert [seen.method for seen in server.seen] == ["GET"]
