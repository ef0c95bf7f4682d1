"""A page TUF refuses as one mirror served it is asked of the next mirror: a lying mirror
cannot deny service while an honest one answers, and is named; with no honest mirror the
page is refused naming every mirror and why."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from anya_plugins.sources.regions import MEMORY_FILE
from anya_plugins.sources.settings import parse_sources
from anya_plugins.sources.simple import SimpleIndex
from anya_plugins.sources.tuf_client import TufRefused, TufRefusedEverywhere
from anya_plugins.trust.errors import TrustError
from tests.tuf.attacker import Attacker, serve_attacker
from tests.tuf.conftest import INDEX, PROJECT, TufRegistry, tuf_index

PAGE = f"/{INDEX}/+simple/{PROJECT}/"
SIMPLE = f"{INDEX}/+simple/"


@pytest.fixture
def second_attacker(tuf_registry: TufRegistry) -> Iterator[Attacker]:
    with serve_attacker(tuf_registry.url) as mirror:
        yield mirror


def index_over(registry: TufRegistry, urls: list[str], cache: Path) -> SimpleIndex:
    """The client of a TUF source whose URL is ``urls[0]`` and mirrors the rest."""
    settings = parse_sources(
        {
            "primary": {
                "url": urls[0],
                "mirrors": urls[1:],
                "tuf_root": str(registry.ceremony.trusted_root),
            },
            "cache": {"dir": str(cache)},
        }
    )
    return SimpleIndex.from_settings(settings)


def lie_about_a_hash(registry: TufRegistry, attacker: Attacker, cache: Path) -> None:
    tuf_index(f"{attacker.url}{SIMPLE}", registry.ceremony.trusted_root, cache).project_page(
        PROJECT, refresh=True
    )
    honest = json.loads(attacker.recorded[PAGE])
    honest["files"][0]["hashes"] = {"sha256": "1" * 64}
    attacker.overrides[PAGE] = json.dumps(honest).encode()


def test_a_page_a_lying_mirror_altered_is_served_by_the_honest_mirror_after_it(
    tuf_registry: TufRegistry,
    attacker: Attacker,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    lie_about_a_hash(tuf_registry, attacker, tmp_path / "seen")
    honest = f"{tuf_registry.url}/{SIMPLE}"
    index = index_over(tuf_registry, [f"{attacker.url}{SIMPLE}", honest], tmp_path / "c")

    with caplog.at_level(logging.WARNING):
        page = index.project_page(PROJECT, refresh=True)

    assert page.used_url.startswith(honest)
    assert sorted(str(link.version) for link in page.files) == ["1.0", "2.0"]
    assert all(link.url.startswith(tuf_registry.url) for link in page.files)
    warned = " ".join(record.getMessage() for record in caplog.records)
    assert f"{attacker.url}{SIMPLE}" in warned
    assert "differs from the signed hash" in warned
    # The liar is used last for the rest of the run (files, metadata): the honest one first.
    assert index.mirrors.order() == (honest, f"{attacker.url}{SIMPLE}")


def test_a_mirror_replaying_older_metadata_than_this_machine_verified_is_passed_over(
    tuf_registry: TufRegistry, attacker: Attacker, tmp_path: Path
) -> None:
    honest = f"{tuf_registry.url}/{SIMPLE}"
    urls = [f"{attacker.url}{SIMPLE}", honest]
    index_over(tuf_registry, urls, tmp_path).project_page(PROJECT, refresh=True)
    attacker.replay(tuf_registry.first_release)  # a rollback to tufdemo 1.0 only

    page = index_over(tuf_registry, urls, tmp_path).project_page(PROJECT, refresh=True)

    assert page.used_url.startswith(honest)
    assert sorted(str(link.version) for link in page.files) == ["1.0", "2.0"]
    # The liar alone still meets the state this machine verified: refused.
    with pytest.raises(TufRefused, match="BadVersionNumberError"):
        index_over(tuf_registry, urls[:1], tmp_path).project_page(PROJECT, refresh=True)


def test_the_refusing_mirror_is_remembered_as_failed_in_the_region_memory(
    tuf_registry: TufRegistry, attacker: Attacker, tmp_path: Path
) -> None:
    lie_about_a_hash(tuf_registry, attacker, tmp_path / "seen")
    liar = f"{attacker.url}{SIMPLE}"
    settings = parse_sources(
        {
            "region": "eu",
            "primary": {
                "url": f"{tuf_registry.url}/{SIMPLE}",
                "mirrors": {"eu": {"urls": [liar]}},
                "tuf_root": str(tuf_registry.ceremony.trusted_root),
            },
            "cache": {"dir": str(tmp_path / "c")},
        }
    )
    index = SimpleIndex.from_settings(settings)
    assert index.mirrors.order()[0] == liar  # this client's region first

    index.project_page(PROJECT, refresh=True)

    memory = json.loads((tmp_path / "c" / MEMORY_FILE).read_text())
    assert "failed_at" in memory[liar]


def test_no_mirror_serving_a_page_that_verifies_is_refused_naming_each(
    tuf_registry: TufRegistry, attacker: Attacker, second_attacker: Attacker, tmp_path: Path
) -> None:
    lie_about_a_hash(tuf_registry, attacker, tmp_path / "seen")
    second_attacker.overrides["/+tuf/metadata/timestamp.json"] = b"{}"
    urls = [f"{attacker.url}{SIMPLE}", f"{second_attacker.url}{SIMPLE}"]

    with pytest.raises(TufRefusedEverywhere) as refused:
        index_over(tuf_registry, urls, tmp_path / "c").project_page(PROJECT, refresh=True)

    assert refused.value.exit_code == TrustError.exit_code
    assert [attempt.url for attempt in refused.value.attempts] == urls
    message = refused.value.message
    assert "differs from the signed hash" in message
    assert f"{second_attacker.url}: TUF metadata for {INDEX} refused" in message
