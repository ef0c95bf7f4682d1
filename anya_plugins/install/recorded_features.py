"""The features each extension was installed with, as its receipt says, for the features
column of ``anya-ext list`` and ``info``: a listing reads it for every extension that has
features, so it is read without the receipts module (dataclasses, pathlib and typing cost
~17 ms to import) and through a cache.

A receipt is JSON of ~5.5 KB (most of it the PEP 740 provenance): opening and parsing a
thousand takes ~38 ms, statting them ~4 ms. The cache keeps each receipt's version and
features with the receipt file's inode, size, mtime and ctime; a receipt whose stat differs
is read again. Receipts are replaced by rename, so a rewritten one has another inode unless
a freed one is reused within the same clock tick: as for the discovery cache, an entry
whose receipt was written (mtime) within RACY_WINDOW_NS of the cache is not kept.
"""

from __future__ import annotations

import json
import os
import time

from anya_plugins.host import cache

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

FORMAT = 1
CACHE_FILE = "receipt-features.marshal"

Entry = tuple[int, int, int, int, str, tuple[str, ...]]
"""(inode, size, mtime_ns, ctime_ns, version, features) of one receipt file."""


def receipt_file(directory: str, name: str) -> str:
    """Where the receipt of distribution ``name`` (canonical) lives in ``directory``."""
    return os.path.join(directory, f"{name}.json")  # noqa: PTH118


def recorded_features(
    directory: str, installed: Mapping[str, str], cache_dir: str | None = None
) -> dict[str, tuple[str, ...]]:
    """The features each of ``installed`` (canonical name -> installed version) was installed
    with, from its receipt in ``directory``. Only those receipts are looked at, and one for
    another version than the installed one counts for nothing (as in ``read_receipts``), nor
    does one that cannot be read as a JSON object (``list`` still lists the extension).
    ``cache_dir``: where the cache lives (the discovery cache's directory by default)."""
    file = os.path.join(cache_dir or cache.default_cache_dir(), CACHE_FILE)  # noqa: PTH118
    kept = _load(file, directory)
    fresh: dict[str, Entry] = {}
    found: dict[str, tuple[str, ...]] = {}
    for name, installed_version in installed.items():
        path = receipt_file(directory, name)
        try:
            stat = os.stat(path)  # noqa: PTH116
            entry = kept.get(name)
            if entry is None or entry[:4] != (
                stat.st_ino,
                stat.st_size,
                stat.st_mtime_ns,
                stat.st_ctime_ns,
            ):
                with open(path, "rb") as handle:  # noqa: PTH123
                    data = json.loads(handle.read())
                if not isinstance(data, dict):
                    continue
                entry = (
                    stat.st_ino,
                    stat.st_size,
                    stat.st_mtime_ns,
                    stat.st_ctime_ns,
                    str(data.get("version", "")),
                    tuple(data.get("features", ())),
                )
                fresh[name] = entry
        except (OSError, ValueError):
            continue  # no receipt, or one that is not JSON: the column shows the defaults
        if entry[4] == installed_version:
            found[name] = entry[5]
    if fresh:
        _store(file, directory, kept, fresh)
    return found


def _load(file: str, directory: str) -> dict[str, Entry]:
    stored = cache.read_marshal(file)
    if not isinstance(stored, tuple) or len(stored) != 3 or stored[:2] != (FORMAT, directory):
        return {}
    return stored[2]  # type: ignore[no-any-return]


def _store(file: str, directory: str, kept: dict[str, Entry], fresh: dict[str, Entry]) -> None:
    settled = time.time_ns() - cache.RACY_WINDOW_NS
    entries = {**kept, **{name: e for name, e in fresh.items() if e[2] < settled}}
    if entries != kept:
        cache.write_atomically(file, (FORMAT, directory, entries))
