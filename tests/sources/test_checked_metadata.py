"""The core metadata the resolver reads from the pages an install checked: a small wheel's
comes from the wheel itself (downloaded and hash-checked; the index is asked one request
fewer), a large wheel's from the index's metadata file, and metadata the page pins by hash
is served only when it has that hash."""

from __future__ import annotations

import hashlib
import json
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest

from anya_plugins.sources import snapshot
from anya_plugins.sources.errors import HashMismatch, SourceError
from anya_plugins.sources.settings import parse_sources
from anya_plugins.sources.simple import SimpleIndex
from anya_plugins.sources.snapshot import CheckedPages
from tests.registry_fixtures import Registry, Upload
from tests.support import ExtensionBuilder, ExtensionSpec
from tests.tuf.attacker import SIMPLE_JSON, Attacker, serve_attacker

INDEX = "anya/primary"
PROJECT = "anya-ext-checked-metadata"
OTHER_METADATA = b"Metadata-Version: 2.1\nName: anya-ext-checked-metadata\nVersion: 0.1.0\n"


@pytest.fixture(scope="module")
def wheel(registry: Registry, upload: Upload, build_extension: ExtensionBuilder) -> Path:
    built = build_extension(ExtensionSpec("checked-metadata", category="core/ml"))
    done = upload(INDEX, built, user="anya")
    assert done.returncode == 0, done.stdout + done.stderr
    return built


LARGE_PROJECT = "anya-ext-checked-metadata-large"


@pytest.fixture(scope="module")
def large_wheel(registry: Registry, upload: Upload, build_extension: ExtensionBuilder) -> Path:
    """A wheel over the 64 KiB a streamed download is read in at a time."""
    spec = ExtensionSpec("checked-metadata-large", category="core/ml", bulk_modules=1000)
    built = build_extension(spec)
    assert built.stat().st_size > 2 * 65536
    done = upload(INDEX, built, user="anya")
    assert done.returncode == 0, done.stdout + done.stderr
    return built


@pytest.fixture
def mirror(registry: Registry) -> Iterator[Attacker]:
    """The registry through a mirror that records every path it passed on."""
    with serve_attacker(registry.url) as attacker:
        yield attacker


def _pages(mirror: Attacker, tmp_path: Path) -> CheckedPages:
    settings = parse_sources(
        {"primary": {"url": f"{mirror.url}/{INDEX}/+simple/"}, "cache": {"dir": str(tmp_path)}}
    )
    return CheckedPages(SimpleIndex.from_settings(settings), tmp_path / "scratch")


def _metadata_of(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return archive.read(name)


def _page(registry: Registry) -> tuple[str, dict[str, Any]]:
    """The project's page path and its JSON document, as the registry serves it."""
    path = f"/{INDEX}/+simple/{PROJECT}/"
    request = urllib.request.Request(f"{registry.url}{path}", headers={"Accept": SIMPLE_JSON})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return path, json.load(answer)


def _metadata_path(registry: Registry) -> str:
    """Where the registry serves the wheel's metadata file."""
    path, document = _page(registry)
    (entry,) = document["files"]
    return f"{urlsplit(urljoin(f'{registry.url}{path}', entry['url'])).path}.metadata"


def _recorded(mirror: Attacker, suffix: str) -> list[str]:
    return [path for path in mirror.recorded if path.endswith(suffix)]


LENGTHS = pytest.mark.parametrize("chunked", [False, True], ids=["length-said", "chunked"])
"""Files served with their length, or in chunks without it (as devpi serves them): then
whether a wheel is small is known once that many bytes came, or the whole wheel in fewer."""


@LENGTHS
def test_a_small_wheels_metadata_is_read_from_the_wheel(
    registry: Registry, wheel: Path, mirror: Attacker, tmp_path: Path, chunked: bool
) -> None:
    """Even when the mirror would serve other metadata (devpi's pages give no hash for it):
    a dependency the wheel does not declare cannot be slipped to the resolver."""
    mirror.chunked = chunked
    mirror.overrides[_metadata_path(registry)] = OTHER_METADATA + b"Requires-Dist: evil\n"
    with _pages(mirror, tmp_path) as pages:
        served = pages.read_file(PROJECT, f"{wheel.name}.metadata")
    assert served == _metadata_of(wheel)
    assert _recorded(mirror, f"/{wheel.name}"), "the wheel was not fetched"
    assert not _recorded(mirror, ".metadata")


def test_a_large_wheels_metadata_is_asked_of_the_index(
    wheel: Path, mirror: Attacker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With its length said. (Streamed, a file is read 64 KiB at a time: this ~5 KB wheel
    would be whole, and in the cache, by the time it is known not to be small, and its
    metadata may come from there, which is as good; that case needs a wheel over 64 KiB.)"""
    monkeypatch.setattr(snapshot, "SMALL_WHEEL_BYTES", wheel.stat().st_size - 1)
    with _pages(mirror, tmp_path) as pages:
        served = pages.read_file(PROJECT, f"{wheel.name}.metadata")
    assert served == _metadata_of(wheel)
    assert _recorded(mirror, f"/{wheel.name}.metadata")


def test_a_large_wheel_streamed_without_its_length_has_its_metadata_asked_of_the_index(
    large_wheel: Path, mirror: Attacker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not small as soon as more than that many bytes came: the index is asked for the
    metadata file while the wheel is still arriving (slowly: its first 64 KiB take ~0.3 s,
    the rest ~1 s), and the metadata is the wheel's."""
    mirror.chunked = True
    mirror.chunk_pause = 0.02
    monkeypatch.setattr(snapshot, "SMALL_WHEEL_BYTES", 4096)
    with _pages(mirror, tmp_path) as pages:
        served = pages.read_file(LARGE_PROJECT, f"{large_wheel.name}.metadata")
        assert served == _metadata_of(large_wheel)
        assert _recorded(mirror, f"/{large_wheel.name}.metadata")


def test_a_metadata_hash_the_wheel_does_not_match_sends_it_to_the_index(
    registry: Registry, wheel: Path, mirror: Attacker, tmp_path: Path
) -> None:
    """A page that pins the metadata file by hash is held to it: the wheel's own METADATA
    differs, so the index's metadata file (which has the pinned hash) is what is served."""
    page_path, document = _page(registry)
    for entry in document["files"]:
        entry["core-metadata"] = {"sha256": hashlib.sha256(OTHER_METADATA).hexdigest()}
    mirror.overrides[page_path] = json.dumps(document).encode()
    mirror.overrides[_metadata_path(registry)] = OTHER_METADATA
    with _pages(mirror, tmp_path) as pages:
        served = pages.read_file(PROJECT, f"{wheel.name}.metadata")
    assert served == OTHER_METADATA


def test_metadata_read_from_the_wheel_is_kept_under_the_hash_the_page_gives(
    registry: Registry, wheel: Path, mirror: Attacker, tmp_path: Path
) -> None:
    page_path, document = _page(registry)
    digest = hashlib.sha256(_metadata_of(wheel)).hexdigest()
    for entry in document["files"]:
        entry["core-metadata"] = {"sha256": digest}
    mirror.overrides[page_path] = json.dumps(document).encode()
    with _pages(mirror, tmp_path) as pages:
        served = pages.read_file(PROJECT, f"{wheel.name}.metadata")
        (link,) = pages.page(PROJECT).files
    assert served == _metadata_of(wheel)
    assert not _recorded(mirror, ".metadata")
    assert _pages(mirror, tmp_path).index.cached_core_metadata(link) == served


def test_a_tampered_wheel_leaves_the_metadata_to_the_index_and_fails_as_a_hash_mismatch(
    registry: Registry, wheel: Path, mirror: Attacker, tmp_path: Path
) -> None:
    """The resolver still gets the index's metadata file; the installer then gets the
    download's own error, naming the file, and nothing of the altered bytes is kept."""
    mirror.overrides[_metadata_path(registry).removesuffix(".metadata")] = b"not the wheel"
    with _pages(mirror, tmp_path) as pages:
        served = pages.read_file(PROJECT, f"{wheel.name}.metadata")
        (link,) = pages.page(PROJECT).files
        failure = pages.file(link).exception()
    assert served == _metadata_of(wheel)
    assert _recorded(mirror, f"/{wheel.name}.metadata")
    assert isinstance(failure, HashMismatch) and wheel.name in str(failure)
    assert not list((tmp_path / "scratch").rglob(wheel.name))


def test_what_the_resolver_read_is_tied_to_its_pages_unless_metadata_came_unhashed(
    registry: Registry, wheel: Path, mirror: Attacker, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """served() (what a remembered resolution is kept with) holds the page digests while
    every metadata the resolver got is bound by a hash: the wheel's, or a page without
    metadata (refused, so the resolver reads the hash-checked wheel); None once the index's
    unhashed metadata file was served."""
    page_path, document = _page(registry)
    for entry in document["files"]:
        entry.pop("core-metadata", None)
        entry.pop("data-dist-info-metadata", None)
    mirror.overrides[page_path] = json.dumps(document).encode()
    with _pages(mirror, tmp_path / "no-metadata") as pages:
        pages.render(PROJECT)
        with pytest.raises(SourceError, match="serves no core metadata file"):
            pages.read_file(PROJECT, f"{wheel.name}.metadata")
        assert list(pages.served() or {}) == [PROJECT]

    del mirror.overrides[page_path]
    monkeypatch.setattr(snapshot, "SMALL_WHEEL_BYTES", wheel.stat().st_size - 1)
    with _pages(mirror, tmp_path / "large") as pages:
        pages.render(PROJECT)
        pages.read_file(PROJECT, f"{wheel.name}.metadata")
        assert pages.served() is None
