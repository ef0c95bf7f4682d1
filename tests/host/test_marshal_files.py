"""The marshal files beside the discovery cache (the cache itself, the schema digests, the
install fingerprints; the receipts' features in tests/install/test_recorded_features.py) are
read through one helper: whatever is in the file — nothing, garbage, a torn write, another
format — each reader answers "nothing kept", never raises."""

from __future__ import annotations

import marshal
from collections.abc import Callable
from pathlib import Path

import pytest

from anya_plugins.host import cache, integrity

KEY = (cache.FORMAT, "key")

BAD_CONTENTS = {
    "missing": None,
    "empty": b"",
    "garbage": b"\x00not marshal",
    "torn": marshal.dumps((1, "a" * 100, (2, 3)))[:-20],
    "another shape": marshal.dumps(("one", "two")),
    "not a tuple": marshal.dumps({"a": 1, "b": 2, "c": 3}),
}


def _discovery(file: str) -> object:
    return cache.load(file, KEY, [])


READERS: dict[str, tuple[Callable[[str], object], object]] = {
    "discovery cache": (_discovery, None),
    "schema digests": (cache.load_digests, set()),
    "fingerprints": (integrity.read, None),
}


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("contents", BAD_CONTENTS)
def test_a_file_that_holds_nothing_usable_reads_as_nothing_kept(
    tmp_path: Path, reader: str, contents: str
) -> None:
    file = tmp_path / "kept.marshal"
    data = BAD_CONTENTS[contents]
    if data is not None:
        file.write_bytes(data)
    read, nothing = READERS[reader]
    assert read(str(file)) == nothing


@pytest.mark.parametrize("contents", ["missing", "empty", "garbage", "torn"])
def test_the_helper_reads_none_from_a_file_that_is_not_marshal_data(
    tmp_path: Path, contents: str
) -> None:
    file = tmp_path / "kept.marshal"
    data = BAD_CONTENTS[contents]
    if data is not None:
        file.write_bytes(data)
    assert cache.read_marshal(str(file)) is None


def test_what_each_writer_wrote_is_read_back(tmp_path: Path) -> None:
    digests = str(tmp_path / "digests.marshal")
    cache.store_digests(digests, {"b" * 64, "a" * 64})
    assert cache.load_digests(digests) == {"a" * 64, "b" * 64}

    fingerprints = str(tmp_path / "x.files")
    entry = (1, 2, 3, 4, 5, "c" * 64)
    integrity.write(fingerprints, "1.0", "/site", [entry])
    assert integrity.read(fingerprints) == ("1.0", "/site", (entry,))

    discovery = str(tmp_path / "discovery.marshal")
    payload = {"site_dirs": [], "scanned_ns": 10 * cache.RACY_WINDOW_NS}
    cache.store(discovery, KEY, [], payload)
    assert cache.read_marshal(discovery) == (KEY, cache.fingerprint([], []), payload)
    assert cache.load(discovery, KEY, []) == payload
    assert cache.load(discovery, (cache.FORMAT, "another key"), []) is None
