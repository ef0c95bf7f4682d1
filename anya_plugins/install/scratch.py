"""Scratch directories that a killed command does not leave behind.

An install downloads, resolves and hands files to the installer in private temporary
directories (``mkdtemp`` in the system's temporary directory), each removed when its step
ends. A process killed outright (SIGKILL, the OOM killer, a power cut of its session) cannot
remove its own, and the downloads in it can be large. So each maker holds an ``flock`` on its
directory for as long as the directory lives — the kernel drops the lock when the process
ends, however it ends — and the first scratch directory a process makes is preceded by a
sweep that removes the directories nobody holds. A directory is swept only when it is also
older than :data:`GRACE_SECONDS` (its maker locks it right after making it, so a younger
unlocked one may be a live maker's), when it belongs to this user and is a real directory
(never a symbolic link). Directories named the way earlier versions named theirs carry no
lock: they are swept once a day old.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import stat
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PREFIX = "anya-scratch-"
GRACE_SECONDS = 60.0
"""An unlocked scratch directory younger than this is left alone: its maker may be about to
lock it."""
LEGACY_PREFIXES = ("anya-download-", "anya-install-", "anya-resolve-")
LEGACY_AGE_SECONDS = 24 * 3600.0
"""Directories of versions that took no lock are swept only once this old."""

_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_swept = False
_sweeping = threading.Lock()


@contextmanager
def scratch_dir(purpose: str) -> Iterator[Path]:
    """A new private directory for one step (``purpose`` names it), removed on exit; held
    locked while it exists. The first one in a process sweeps those dead processes left."""
    _sweep_once()
    path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{purpose}-"))
    descriptor = os.open(path, _DIRECTORY_FLAGS)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)  # uncontended: a sweep skips it for a minute
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        os.close(descriptor)


def sweep(directory: Path | None = None, *, now: float | None = None) -> list[Path]:
    """Remove the scratch directories dead processes left in ``directory`` (by default the
    system's temporary directory); returns those removed."""
    root = Path(tempfile.gettempdir()) if directory is None else directory
    now = time.time() if now is None else now
    removed: list[Path] = []
    try:
        entries = list(os.scandir(root))
    except OSError:
        return removed
    for entry in entries:
        if entry.name.startswith(PREFIX):
            abandoned = _old_enough(entry, now - GRACE_SECONDS) and _unlocked(entry.path)
        elif entry.name.startswith(LEGACY_PREFIXES):
            abandoned = _old_enough(entry, now - LEGACY_AGE_SECONDS)
        else:
            continue
        if abandoned:
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(Path(entry.path))
    return removed


def _sweep_once() -> None:
    global _swept
    with _sweeping:
        if not _swept:
            _swept = True
            sweep()


def _old_enough(entry: os.DirEntry[str], cutoff: float) -> bool:
    """A directory (not a link to one) of this user's, last changed before ``cutoff``."""
    try:
        status = entry.stat(follow_symlinks=False)
    except OSError:
        return False
    return (
        stat.S_ISDIR(status.st_mode) and status.st_uid == os.getuid() and status.st_mtime < cutoff
    )


def _unlocked(path: str) -> bool:
    """Nobody holds the directory's lock: its maker is gone."""
    try:
        descriptor = os.open(path, _DIRECTORY_FLAGS)
    except OSError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    finally:
        os.close(descriptor)
    return True
