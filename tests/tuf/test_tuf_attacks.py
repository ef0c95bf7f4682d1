"""TUF attacks through a mirror that serves attacker-chosen bytes: each is refused."""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from anya_plugins.registry.tuf_repository import TufDirectory
from anya_plugins.sources.errors import HashMismatch
from anya_plugins.sources.simple import SimpleIndex
from anya_plugins.sources.tuf_client import TufRefused
from anya_plugins.trust.errors import TrustError
from tests.tuf.attacker import Attacker
from tests.tuf.conftest import INDEX, PROJECT, TufRegistry, tuf_index

PAGE = f"/{INDEX}/+simple/{PROJECT}/"


def mirror_index(registry: TufRegistry, mirror: Attacker, cache: Path) -> SimpleIndex:
    return tuf_index(f"{mirror.url}{INDEX}/+simple/", registry.ceremony.trusted_root, cache)


def test_an_honest_mirror_serves_pages_tuf_vouches_for(
    tuf_registry: TufRegistry, attacker: Attacker, tmp_path: Path
) -> None:
    page = mirror_index(tuf_registry, attacker, tmp_path).project_page(PROJECT, refresh=True)

    assert sorted(str(link.version) for link in page.files) == ["1.0", "2.0"]
    assert "/+tuf/metadata/timestamp.json" in attacker.recorded


def test_the_metadata_is_refreshed_as_soon_as_the_client_is_made_before_any_page(
    tuf_registry: TufRegistry, attacker: Attacker, tmp_path: Path
) -> None:
    index = mirror_index(tuf_registry, attacker, tmp_path)
    deadline = time.monotonic() + 30
    while "/+tuf/metadata/timestamp.json" not in attacker.recorded:
        assert time.monotonic() < deadline, attacker.recorded
        time.sleep(0.01)

    assert PAGE not in attacker.recorded
    assert len(index.project_page(PROJECT, refresh=True).files) == 2


def test_a_refusal_exits_as_a_trust_failure() -> None:
    assert TufRefused.exit_code == TrustError.exit_code


def test_arbitrary_package_a_file_tuf_does_not_list_is_refused(
    tuf_registry: TufRegistry, attacker: Attacker, tmp_path: Path
) -> None:
    honest = json.loads(_honest_page(tuf_registry, attacker, tmp_path / "a"))
    evil = dict(honest["files"][0], filename=f"{PROJECT}-9.0-py3-none-any.whl")
    evil["hashes"] = {"sha256": "0" * 64}
    attacker.overrides[PAGE] = json.dumps({**honest, "files": [*honest["files"], evil]}).encode()

    with pytest.raises(TufRefused, match=r"does not vouch for: tufdemo-9\.0"):
        mirror_index(tuf_registry, attacker, tmp_path / "b").project_page(PROJECT, refresh=True)


def test_arbitrary_package_a_changed_hash_is_refused(
    tuf_registry: TufRegistry, attacker: Attacker, tmp_path: Path
) -> None:
    honest = json.loads(_honest_page(tuf_registry, attacker, tmp_path / "a"))
    honest["files"][0]["hashes"] = {"sha256": "1" * 64}
    attacker.overrides[PAGE] = json.dumps(honest).encode()

    with pytest.raises(TufRefused, match="differs from the signed hash"):
        mirror_index(tuf_registry, attacker, tmp_path / "b").project_page(PROJECT, refresh=True)


def test_arbitrary_package_core_metadata_other_than_signed_is_refused(
    tuf_registry: TufRegistry, attacker: Attacker, tmp_path: Path
) -> None:
    index = mirror_index(tuf_registry, attacker, tmp_path)
    link = index.project_page(PROJECT, refresh=True).files[0]
    assert "Name: tufdemo" in index.fetch_core_metadata(link)
    evil = b"Metadata-Version: 2.4\nName: tufdemo\nVersion: 2.0\nRequires-Dist: evil\n"
    attacker.overrides[urlsplit(link.metadata_url).path] = evil

    with pytest.raises(HashMismatch):
        mirror_index(tuf_registry, attacker, tmp_path / "b").fetch_core_metadata(link)


def test_mix_and_match_an_old_page_with_new_metadata_is_refused(
    tuf_registry: TufRegistry, attacker: Attacker, tmp_path: Path
) -> None:
    attacker.overrides[PAGE] = tuf_registry.first_release[PAGE]

    with pytest.raises(TufRefused, match=r"hides signed files: tufdemo-2\.0"):
        mirror_index(tuf_registry, attacker, tmp_path).project_page(PROJECT, refresh=True)


def test_rollback_older_metadata_than_seen_before_is_refused(
    tuf_registry: TufRegistry, attacker: Attacker, tmp_path: Path
) -> None:
    # This machine verified the current state once.
    mirror_index(tuf_registry, attacker, tmp_path).project_page(PROJECT, refresh=True)
    attacker.replay(tuf_registry.first_release)  # old timestamp, snapshot, role and page

    with pytest.raises(TufRefused, match="BadVersionNumberError") as refused:
        mirror_index(tuf_registry, attacker, tmp_path).project_page(PROJECT, refresh=True)
    assert "rollback" in str(refused.value.hint)


def test_freeze_an_expired_timestamp_is_refused(
    tuf_registry: TufRegistry, attacker: Attacker, tmp_path: Path
) -> None:
    attacker.overrides["/+tuf/metadata/timestamp.json"] = _expired_timestamp(tuf_registry)

    with pytest.raises(TufRefused, match="ExpiredMetadataError") as refused:
        mirror_index(tuf_registry, attacker, tmp_path).project_page(PROJECT, refresh=True)
    assert "frozen" in str(refused.value.hint)


def test_endless_data_metadata_without_end_is_cut_off_and_refused(
    tuf_registry: TufRegistry, attacker: Attacker, tmp_path: Path
) -> None:
    attacker.endless.add("/+tuf/metadata/timestamp.json")

    with pytest.raises(TufRefused, match="DownloadLengthMismatchError"):
        mirror_index(tuf_registry, attacker, tmp_path).project_page(PROJECT, refresh=True)


def test_a_mirror_without_the_metadata_is_refused(
    tuf_registry: TufRegistry, attacker: Attacker, tmp_path: Path
) -> None:
    attacker.overrides["/+tuf/metadata/timestamp.json"] = b"{}"

    with pytest.raises(TufRefused):
        mirror_index(tuf_registry, attacker, tmp_path).project_page(PROJECT, refresh=True)


def _honest_page(registry: TufRegistry, attacker: Attacker, cache: Path) -> bytes:
    mirror_index(registry, attacker, cache).project_page(PROJECT, refresh=True)
    return attacker.recorded[PAGE]


def _expired_timestamp(registry: TufRegistry) -> bytes:
    """The current timestamp as a frozen mirror would still serve it a day later: genuinely
    signed by the timestamp key, its expiry passed."""
    from tuf.api.metadata import Metadata
    from tuf.api.serialization.json import JSONSerializer

    directory = TufDirectory(registry.ceremony.directory)
    with urllib.request.urlopen(f"{registry.url}/+tuf/metadata/timestamp.json") as response:
        timestamp = Metadata.from_bytes(response.read())
    timestamp.signed.expires = datetime.now(UTC) - timedelta(hours=1)
    timestamp.sign(directory.signer("timestamp"))
    return bytes(timestamp.to_bytes(JSONSerializer(compact=True)))
