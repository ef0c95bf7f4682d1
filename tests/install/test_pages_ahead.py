"""Pages fetched ahead (sources/pages_ahead.py): an install starts fetching the pages the last
install of the same request read before the rest of it is imported, and the transaction
takes those pages instead of fetching them again. The list of names is a hint: junk, or
names the index does not have, change nothing but requests. Real devpi, real uv."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from anya_plugins.sources import pages_ahead
from anya_plugins.sources.errors import ProjectNotFound
from anya_plugins.sources.settings import parse_sources
from anya_plugins.sources.simple import SimpleIndex
from anya_sigstore_local import LocalSigstore
from tests.install.test_signed_install import RELEASER, _publish
from tests.registry_fixtures import Registry
from tests.support import (
    ExtensionBuilder,
    ExtensionSpec,
    Venv,
    VenvFactory,
    installing_signed_from,
)
from tests.tuf.attacker import Attacker, serve_attacker

pytestmark = pytest.mark.slow

INDEX = "anya/primary"
APP, LIB = "anya-ext-ahead-app", "anya-ext-ahead-lib"
AHEAD = re.compile(r"fetching (\d+) page\(s\) ahead")


@pytest.fixture(scope="module")
def published(
    registry: Registry, local_sigstore: LocalSigstore, build_extension: ExtensionBuilder
) -> Registry:
    lib = build_extension(ExtensionSpec("ahead-lib", category="core/web5", version="1.0.0"))
    _publish(registry, local_sigstore, lib, RELEASER)
    app = ExtensionSpec("ahead-app", category="core/web5", dependencies=(f"{LIB}>=1",))
    _publish(registry, local_sigstore, build_extension(app), RELEASER)
    return registry


@pytest.fixture
def mirror(published: Registry) -> Iterator[Attacker]:
    """The registry through a mirror that counts every request."""
    with serve_attacker(published.url) as recording:
        yield recording


@pytest.fixture
def venv(
    mirror: Attacker, local_sigstore: LocalSigstore, make_venv: VenvFactory, tmp_path: Path
) -> Venv:
    index_url = f"{mirror.url}/{INDEX}/+simple/"
    return installing_signed_from(
        make_venv(), local_sigstore, RELEASER, index_url, tmp_path / "cache"
    )


def _install_afresh(venv: Venv) -> str:
    venv.uninstall(APP, LIB)
    done = venv.anya_ext("-v", "install", "ahead-app")
    assert done.returncode == 0, done.stderr
    return done.stderr


def _hint(tmp_path: Path) -> Path:
    (hint,) = (tmp_path / "cache").rglob(f"{pages_ahead.HINTS_DIR}/*")
    return hint


def _page_requests(mirror: Attacker) -> list[str]:
    return [path for path in mirror.requested if "/+simple/" in path]


def test_a_second_install_fetches_its_pages_ahead_and_each_page_once(
    venv: Venv, mirror: Attacker, tmp_path: Path
) -> None:
    first = _install_afresh(venv)
    assert not AHEAD.search(first)

    mirror.requested.clear()
    again = _install_afresh(venv)

    found = AHEAD.search(again)
    assert found and int(found[1]) >= 2, again
    pages = _page_requests(mirror)
    assert f"/{INDEX}/+simple/{APP}/" in pages and f"/{INDEX}/+simple/{LIB}/" in pages
    assert len(pages) == len(set(pages)) == int(found[1]), pages  # taken, not fetched again
    assert venv.anya_json("verify", "ahead-app")[0]["ok"] is True


def test_a_hint_of_other_names_or_of_junk_changes_nothing_but_requests(
    venv: Venv, mirror: Attacker, tmp_path: Path
) -> None:
    _install_afresh(venv)
    hint = _hint(tmp_path)

    hint.write_text('["anya-ext-not-on-the-index", "anya-ext-ahead-lib"]')
    mirror.requested.clear()
    other = _install_afresh(venv)

    assert "fetching 2 page(s) ahead" in other
    assert f"/{INDEX}/+simple/anya-ext-not-on-the-index/" in _page_requests(mirror)
    assert f"/{INDEX}/+simple/{APP}/" in _page_requests(mirror)  # not in the hint: fetched

    hint.write_bytes(b"\x00 not json")
    junk = _install_afresh(venv)

    assert not AHEAD.search(junk)
    assert venv.anya_json("verify", "ahead-app")[0]["ok"] is True
    assert '"anya-ext-ahead-app"' in hint.read_text()  # the install kept a hint again


def test_a_page_fetched_ahead_is_taken_once_while_fresh_and_a_missing_one_fails_as_a_fetch(
    published: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = parse_sources(
        {"primary": {"url": published.simple_url(INDEX)}, "cache": {"dir": str(tmp_path)}}
    )
    primary = SimpleIndex.from_settings(settings).mirrors.primary
    names = [LIB, "anya-ext-nowhere-ahead", "../+login", "Anya_Ext.Ahead-Lib"]
    pages_ahead.remember(tmp_path, primary, ["ahead-app"], names)

    assert pages_ahead.fetch_ahead(settings, "primary", ["ahead-app"]) == 2  # project names
    taken = pages_ahead.take(primary, LIB)
    missing = pages_ahead.take(primary, "anya-ext-nowhere-ahead")

    assert taken is not None and taken.result(timeout=30).name == LIB
    assert pages_ahead.take(primary, LIB) is None  # once
    assert missing is not None and isinstance(missing.exception(timeout=30), ProjectNotFound)
    assert pages_ahead.fetch_ahead(settings, "primary", ["another request"]) == 0

    monkeypatch.setattr(pages_ahead, "FRESH_SECONDS", -1.0)
    assert pages_ahead.fetch_ahead(settings, "primary", ["ahead-app"]) == 2
    assert pages_ahead.take(primary, LIB) is None  # started too long ago
