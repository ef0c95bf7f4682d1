"""Files that appear whole or not at all: written under a temporary name, then renamed.

A process killed mid-write leaves only a ``.anya-*.part`` file, which no reader takes for
a finished one and which :func:`remove_stale` deletes once nobody has written to it for
an hour (a live writer touches it with every chunk).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

PREFIX = ".anya-"
SUFFIX = ".part"
STALE_AFTER_SECONDS = 3600.0
CHUNK_SIZE = 256 * 1024


class TempFile:
    """An open temporary file; :meth:`commit` gives it its final name."""

    def __init__(self, path: Path, handle: BinaryIO) -> None:
        self.path = path
        self.handle = handle

    def commit(self, target: Path) -> None:
        """Flush, sync and rename over ``target`` (a reader sees the old file or the new one)."""
        if not self.handle.closed:
            self.handle.flush()
            os.fsync(self.handle.fileno())
            self.handle.close()
        self.path.replace(target)


@contextmanager
def temporary_file(directory: Path) -> Iterator[TempFile]:
    """A new temporary file in ``directory``, deleted on exit unless it was committed."""
    directory.mkdir(parents=True, exist_ok=True)
    descriptor, name = tempfile.mkstemp(dir=directory, prefix=PREFIX, suffix=SUFFIX)
    path = Path(name)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            yield TempFile(path, handle)
    finally:
        path.unlink(missing_ok=True)


def copy_hashing(source: BinaryIO, out: BinaryIO) -> str:
    """Copy ``source`` to ``out``, chunk by chunk; the sha256 (hex) of what was copied."""
    digest = hashlib.sha256()
    while chunk := source.read(CHUNK_SIZE):
        digest.update(chunk)
        out.write(chunk)
    return digest.hexdigest()


def copy_verified(source: BinaryIO, target: Path, sha256: str, *, durable: bool = True) -> bool:
    """Copy ``source`` to ``target`` only if its bytes have this sha256; False (and ``target``
    untouched) if they do not. Not ``durable``: not synced to disk (a file for use now)."""
    with temporary_file(target.parent) as temp:
        if copy_hashing(source, temp.handle) != sha256:
            return False
        if not durable:
            temp.handle.close()  # closed, it is renamed without a sync
        temp.commit(target)
    return True


def remove_stale(directory: Path, *, now: float | None = None) -> int:
    """Delete this module's temporary files in ``directory`` that nobody has written to for
    :data:`STALE_AFTER_SECONDS`; returns the bytes freed."""
    cutoff = (time.time() if now is None else now) - STALE_AFTER_SECONDS
    freed = 0
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return 0
    for entry in entries:
        if not (entry.name.startswith(PREFIX) and entry.name.endswith(SUFFIX)):
            continue
        try:
            stat = entry.stat(follow_symlinks=False)
            if stat.st_mtime < cutoff:
                Path(entry.path).unlink()
                freed += stat.st_size
        except FileNotFoundError:
            continue  # another process removed it first
    return freed
