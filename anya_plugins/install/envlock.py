"""One transaction per environment: a lock the operating system releases when its holders die.

Every command that changes an environment (install, update, uninstall, sync) holds the
lock of that environment from before it reads what is installed until its receipts are
written. The lock is an ``flock`` on a file in the environment's prefix: the kernel drops
it when the last process holding the open file ends, so a killed holder never leaves it
behind, and the installer child inherits it so that the lock outlives the parent for as
long as the child can still write. An unfinished journal is rolled back only by whoever
holds the lock: a journal whose lock is free belongs to a dead transaction.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from anya_plugins.errors import AnyaError

log = logging.getLogger(__name__)

LOCK_FILE = ".anya-install.lock"
DEFAULT_WAIT = 600.0
"""How long a second command waits for the environment before giving up (seconds)."""
_POLL = 0.1


class EnvironmentBusy(AnyaError):
    """Another command is changing the same environment and did not finish in time."""

    exit_code = 11


_held: dict[Path, tuple[int, int]] = {}
"""Locks this process holds: lock path -> (file descriptor, depth)."""


def lock_path(prefix: Path) -> Path:
    return prefix / LOCK_FILE


def _open(path: Path) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def holder(prefix: Path) -> str:
    """Who holds (or last held) the lock: ``pid N: command``, for messages."""
    try:
        return lock_path(prefix).read_text().strip() or "another anya-ext command"
    except OSError:
        return "another anya-ext command"


def _note_holder(fd: int) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"pid {os.getpid()}: {' '.join(sys.argv)}\n".encode(), 0)


@contextmanager
def held(
    prefix: Path,
    *,
    wait: float = DEFAULT_WAIT,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[int]:
    """Hold the environment's lock (re-entrant within this process); yields its file
    descriptor, which an installer child inherits. Waits up to ``wait`` seconds for
    another holder, telling ``on_wait`` (or the log) once, then raises EnvironmentBusy."""
    path = lock_path(prefix)
    if path in _held:
        fd, depth = _held[path]
        _held[path] = (fd, depth + 1)
        try:
            yield fd
        finally:
            _held[path] = (fd, depth)
        return
    try:
        fd = _open(path)
    except OSError as error:
        raise EnvironmentBusy(
            f"cannot open the lock of the environment {prefix}: {error.strerror}",
            hint="run as a user who may write to this environment",
        ) from error
    try:
        _acquire(fd, prefix, wait, on_wait)
        _note_holder(fd)
        _held[path] = (fd, 1)
        try:
            yield fd
        finally:
            del _held[path]
    finally:
        os.close(fd)  # closing the last descriptor releases the flock


def _acquire(fd: int, prefix: Path, wait: float, on_wait: Callable[[str], None] | None) -> None:
    if _try_lock(fd):
        return
    who = holder(prefix)
    message = f"waiting for {who} to finish with {prefix}"
    (on_wait or log.warning)(message)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        time.sleep(_POLL)
        if _try_lock(fd):
            return
    raise EnvironmentBusy(
        f"{prefix} is still being changed by {who} after {wait:.0f} s",
        hint="wait for that command to finish, or stop it; an interrupted one is rolled "
        "back by the next anya-ext command",
    )


def descriptor(prefix: Path) -> int | None:
    """The descriptor of the lock this process holds on ``prefix``, for an installer child
    to inherit; None when this process does not hold it."""
    held_now = _held.get(lock_path(prefix))
    return held_now[0] if held_now else None
