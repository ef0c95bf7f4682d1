"""PackageCache: get-or-fetch checked by sha256, size, TTL, clean."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest

from anya_plugins import Configuration, PackageCache
from anya_plugins.trust.errors import VerificationFailed

CONTENT = b"a wheel's bytes"
SHA256 = hashlib.sha256(CONTENT).hexdigest()


@pytest.fixture
def cache(tmp_path: Path) -> PackageCache:
    configuration = Configuration(
        values={"sources.cache": {"dir": str(tmp_path / "cache"), "page_ttl_seconds": 30}}
    )
    return PackageCache(configuration.cache())


def test_get_or_fetch_fetches_once_then_serves_from_the_cache(
    cache: PackageCache, tmp_path: Path
) -> None:
    fetched: list[Path] = []

    def fetch(path: Path) -> None:
        fetched.append(path)
        path.write_bytes(CONTENT)

    first = cache.get_or_fetch(SHA256, tmp_path / "one" / "x.whl", fetch)
    second = cache.get_or_fetch(SHA256, tmp_path / "two" / "x.whl", fetch)

    assert (first.fetched, second.fetched, len(fetched)) == (True, False, 1)
    assert second.path.read_bytes() == CONTENT
    assert cache.size() >= len(CONTENT) and cache.page_ttl == timedelta(seconds=30)


def test_a_fetch_with_the_wrong_bytes_is_refused_and_not_kept(
    cache: PackageCache, tmp_path: Path
) -> None:
    target = tmp_path / "x.whl"

    with pytest.raises(VerificationFailed, match="sha256"):
        cache.get_or_fetch(SHA256, target, lambda path: path.write_bytes(b"tampered"))

    assert not target.exists() and cache.info().files == 0


def test_clean_empties_it(cache: PackageCache, tmp_path: Path) -> None:
    cache.get_or_fetch(SHA256, tmp_path / "x.whl", lambda path: path.write_bytes(CONTENT))

    freed = cache.clean()

    assert freed >= len(CONTENT) and cache.size() == 0
    assert not cache.get(SHA256, tmp_path / "y.whl")
