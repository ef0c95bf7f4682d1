"""The registry side: what changes is signed in the same step, replicas serve the metadata
unchanged, and keys rotate without clients noticing more than a new root."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from anya_plugins.registry import releases, server
from anya_plugins.registry.devpi import Credentials
from anya_plugins.registry.tuf_repository import rotate_key
from anya_plugins.sources.simple import SIMPLE_JSON
from anya_plugins.sources.tuf_client import TufRefused
from tests.registry_fixtures import metadata_wheel
from tests.tuf.attacker import Attacker
from tests.tuf.conftest import INDEX, PASSWORD, TufRegistry, tuf_index

ACME = Credentials("acme", PASSWORD)


def _page(url: str, project: str) -> bytes:
    request = urllib.request.Request(
        f"{url}/{INDEX}/+simple/{project}/", headers={"Accept": SIMPLE_JSON}
    )
    with urllib.request.urlopen(request) as response:
        return bytes(response.read())


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url) as response:
        return bytes(response.read())


def test_a_yank_is_signed_with_it_and_the_unyanked_page_refused(
    tuf_registry: TufRegistry, attacker: Attacker, tmp_path: Path
) -> None:
    tuf_registry.upload(metadata_wheel(tuf_registry.wheels, "tufyank", version="1.0"))
    before = _page(tuf_registry.url, "tufyank")

    releases.yank(tuf_registry.url, INDEX, "tufyank", "1.0", ACME, reason="broken")

    source = f"{attacker.url}{INDEX}/+simple/"
    page = tuf_index(source, tuf_registry.ceremony.trusted_root, tmp_path / "a").project_page(
        "tufyank", refresh=True
    )
    assert [link.yanked for link in page.files] == [True]
    attacker.overrides[f"/{INDEX}/+simple/tufyank/"] = before
    with pytest.raises(TufRefused, match=r"yank of tufyank-1\.0"):
        tuf_index(source, tuf_registry.ceremony.trusted_root, tmp_path / "b").project_page(
            "tufyank", refresh=True
        )


def test_a_deleted_release_is_signed_away(
    tuf_registry: TufRegistry, attacker: Attacker, tmp_path: Path
) -> None:
    for version in ("1.0", "2.0"):
        tuf_registry.upload(metadata_wheel(tuf_registry.wheels, "tufdelete", version=version))
    before = _page(tuf_registry.url, "tufdelete")

    releases.delete(tuf_registry.url, INDEX, "tufdelete", "2.0", ACME)

    attacker.overrides[f"/{INDEX}/+simple/tufdelete/"] = before
    with pytest.raises(TufRefused, match=r"does not vouch for: tufdelete-2\.0"):
        tuf_index(
            f"{attacker.url}{INDEX}/+simple/", tuf_registry.ceremony.trusted_root, tmp_path
        ).project_page("tufdelete", refresh=True)


@pytest.fixture
def replica(tuf_registry: TufRegistry, tmp_path: Path) -> Iterator[str]:
    running = server.start(tmp_path / "replica", replica_of=tuf_registry.state_dir)
    try:
        yield running.url
    finally:
        server.stop(tmp_path / "replica")


def test_a_replica_serves_the_primarys_metadata_unchanged(
    tuf_registry: TufRegistry, replica: str, tmp_path: Path
) -> None:
    timestamp = _get(f"{tuf_registry.url}/+tuf/metadata/timestamp.json")
    deadline = time.monotonic() + 180  # replication under a heavily shared machine
    while _replicated(replica, timestamp) is False and time.monotonic() < deadline:
        time.sleep(0.2)

    assert _get(f"{replica}/+tuf/metadata/timestamp.json") == timestamp
    page = tuf_index(
        f"{replica}/{INDEX}/+simple/", tuf_registry.ceremony.trusted_root, tmp_path
    ).project_page("tufdemo", refresh=True)
    assert page.files


def _replicated(replica: str, timestamp: bytes) -> bool:
    try:
        return _get(f"{replica}/+tuf/metadata/timestamp.json") == timestamp
    except OSError:
        return False


def test_rotated_root_and_index_keys_are_followed_by_a_client_holding_the_first_root(
    tuf_registry: TufRegistry, tmp_path: Path
) -> None:
    source = f"{tuf_registry.url}/{INDEX}/+simple/"
    root = tuf_registry.ceremony.trusted_root
    tuf_index(source, root, tmp_path).project_page("tufdemo", refresh=True)
    ceremony = tuf_registry.ceremony
    rotate_key(ceremony.directory, ceremony.offline_dir, INDEX)
    rotated = rotate_key(ceremony.directory, ceremony.offline_dir, "root")

    tuf_registry.upload(metadata_wheel(tuf_registry.wheels, "tufrotated", version="1.0"))

    page = tuf_index(source, root, tmp_path).project_page("tufrotated", refresh=True)
    assert [link.filename for link in page.files] == ["tufrotated-1.0-py3-none-any.whl"]
    trusted = json.loads((next((tmp_path / "tuf").iterdir()) / "root.json").read_bytes())
    assert trusted["signed"]["version"] == rotated.root_version
