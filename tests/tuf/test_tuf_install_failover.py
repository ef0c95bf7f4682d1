"""``anya-ext install`` from a TUF source whose first mirror lies: the honest mirror after it
serves the install and the liar is named; with liars only, a trust failure naming each."""

from __future__ import annotations

import json
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

NAME = "anya-ext-tuf-failover"
SIMPLE = f"{INDEX}/+simple/"
PAGE = f"/{SIMPLE}{NAME}/"


@pytest.fixture(scope="module")
def published(tuf_registry: TufRegistry, build_extension: ExtensionBuilder) -> TufRegistry:
    tuf_registry.upload(build_extension(ExtensionSpec("tuf-failover", category="core/bitcoin")))
    return tuf_registry


@pytest.fixture
def liar(published: TufRegistry) -> Iterator[Attacker]:
    """A mirror serving the extension's page with a hash TUF did not sign."""
    with serve_attacker(published.url) as attacker:
        request = urllib.request.Request(f"{published.url}{PAGE}", headers={"Accept": SIMPLE_JSON})
        with urllib.request.urlopen(request) as response:
            page = json.loads(response.read())
        page["files"][0]["hashes"] = {"sha256": "2" * 64}
        attacker.overrides[PAGE] = json.dumps(page).encode()
        yield attacker


def venv_over(
    registry: TufRegistry, url: str, mirror: str, make_venv: VenvFactory, cache: Path
) -> Venv:
    venv = make_venv()
    venv.extra_env.update(
        ANYA_SOURCES__PRIMARY__URL=url,
        ANYA_SOURCES__PRIMARY__MIRRORS=mirror,
        ANYA_SOURCES__PRIMARY__TUF_ROOT=str(registry.ceremony.trusted_root),
        ANYA_CACHE_DIR=str(cache),
        ANYA_TRUST__REQUIRE_SIGNATURES="false",
    )
    return venv


def test_an_install_is_served_by_the_honest_mirror_after_a_lying_one_and_names_the_liar(
    published: TufRegistry, liar: Attacker, make_venv: VenvFactory, tmp_path: Path
) -> None:
    venv = venv_over(
        published, f"{liar.url}{SIMPLE}", f"{published.url}/{SIMPLE}", make_venv, tmp_path
    )

    done = venv.anya_ext("install", NAME)

    assert done.returncode == 0, done.stderr
    assert NAME in venv.freeze()
    assert PAGE in liar.overrides and f"{liar.url}{SIMPLE}" in done.stderr
    assert "refused by TUF" in done.stderr


def test_an_install_with_only_lying_mirrors_is_refused_naming_each(
    published: TufRegistry, liar: Attacker, make_venv: VenvFactory, tmp_path: Path
) -> None:
    with serve_attacker(published.url) as frozen:
        frozen.overrides["/+tuf/metadata/timestamp.json"] = b"{}"
        venv = venv_over(
            published, f"{liar.url}{SIMPLE}", f"{frozen.url}{SIMPLE}", make_venv, tmp_path
        )

        done = venv.anya_ext("install", NAME)

    assert done.returncode == TrustError.exit_code, done.stderr
    assert "no mirror serves a page" in done.stderr
    assert f"{liar.url}{SIMPLE}: " in done.stderr
    assert "differs from the signed hash" in done.stderr
    assert f"{frozen.url}: TUF metadata for {INDEX} refused" in done.stderr
    assert NAME not in venv.freeze()
