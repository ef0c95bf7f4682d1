"""The install step with TUF configured: an honest mirror installs, a mirror serving a page
TUF did not sign stops the install with a trust failure and nothing installed."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from anya_plugins.sources.simple import SIMPLE_JSON
from anya_plugins.trust.errors import TrustError
from tests.support import ExtensionBuilder, ExtensionSpec, Venv, VenvFactory
from tests.tuf.attacker import Attacker, serve_attacker
from tests.tuf.conftest import INDEX, TufRegistry

pytestmark = pytest.mark.slow

NAME = "anya-ext-tuf-install"
PAGE = f"/{INDEX}/+simple/{NAME}/"


@pytest.fixture(scope="module")
def published(tuf_registry: TufRegistry, build_extension: ExtensionBuilder) -> TufRegistry:
    tuf_registry.upload(build_extension(ExtensionSpec("tuf-install", category="core/bitcoin")))
    return tuf_registry


@pytest.fixture
def mirror(published: TufRegistry) -> Iterator[Attacker]:
    with serve_attacker(published.url) as attacker:
        yield attacker


@pytest.fixture
def venv(published: TufRegistry, mirror: Attacker, make_venv: VenvFactory, tmp_path: Path) -> Venv:
    venv = make_venv()
    venv.extra_env.update(
        ANYA_SOURCES__PRIMARY__URL=f"{mirror.url}{INDEX}/+simple/",
        ANYA_SOURCES__PRIMARY__TUF_ROOT=str(published.ceremony.trusted_root),
        ANYA_CACHE_DIR=str(tmp_path / "cache"),
        ANYA_TRUST__REQUIRE_SIGNATURES="false",
    )
    return venv


def test_an_install_through_an_honest_mirror_checks_the_page_against_tuf(
    venv: Venv, mirror: Attacker
) -> None:
    done = venv.anya_ext("install", NAME)

    assert done.returncode == 0, done.stderr
    assert NAME in venv.freeze()
    assert "/+tuf/metadata/timestamp.json" in mirror.recorded


def test_an_install_from_a_page_tuf_did_not_sign_is_refused_as_a_trust_failure(
    venv: Venv, mirror: Attacker, published: TufRegistry
) -> None:
    request = urllib.request.Request(f"{published.url}{PAGE}", headers={"Accept": SIMPLE_JSON})
    with urllib.request.urlopen(request) as response:
        honest = json.loads(response.read())
    honest["files"][0]["hashes"] = {"sha256": "2" * 64}
    mirror.overrides[PAGE] = json.dumps(honest).encode()

    done = venv.anya_ext("install", NAME)

    assert done.returncode == TrustError.exit_code, done.stderr
    assert "does not match the file list" in done.stderr
    assert NAME not in venv.freeze()


def test_pages_fetched_ahead_are_checked_by_the_one_verifier_the_install_uses(
    venv: Venv, mirror: Attacker, published: TufRegistry
) -> None:
    """A second install fetches its pages ahead through the TUF check, and takes that check
    over: the metadata is refreshed once, each page fetched once; a forged page fetched
    ahead is refused as one fetched by the transaction is."""
    first = venv.anya_ext("install", NAME)
    assert first.returncode == 0, first.stderr
    venv.uninstall(NAME)
    mirror.requested.clear()

    again = venv.anya_ext("-v", "install", NAME)

    assert again.returncode == 0, again.stderr
    assert re.search(r"fetching [1-9]\d* page\(s\) ahead", again.stderr), again.stderr
    assert mirror.requested.count(PAGE) == 1, mirror.requested
    assert mirror.requested.count("/+tuf/metadata/timestamp.json") == 1, mirror.requested

    request = urllib.request.Request(f"{published.url}{PAGE}", headers={"Accept": SIMPLE_JSON})
    with urllib.request.urlopen(request) as response:
        forged = json.loads(response.read())
    forged["files"][0]["hashes"] = {"sha256": "3" * 64}
    mirror.overrides[PAGE] = json.dumps(forged).encode()
    venv.uninstall(NAME)

    refused = venv.anya_ext("-v", "install", NAME)

    assert re.search(r"fetching [1-9]\d* page\(s\) ahead", refused.stderr), refused.stderr
    assert refused.returncode == TrustError.exit_code, refused.stderr
    assert "does not match the file list" in refused.stderr
    assert NAME not in venv.freeze()
