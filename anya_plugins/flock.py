"""An exclusive lock between processes: ``flock`` on a lock file, waited for up to a timeout.

For the locks an install takes many times: the download cache locks its usage count for every
entry it writes (hundreds in an install with many dependencies). ``filelock``, which the
commands that lock once use, takes ~165 µs to acquire and release here (and ~20 ms to
import); this takes ~10 µs. It is the same lock: ``filelock``'s Unix lock is an ``flock`` on
the same file, so either side excludes the other.

The lock file is opened for each acquisition and closed on release (the kernel drops the
lock with the descriptor, also when the process dies). Threads of one process exclude each
other too (each has a descriptor of its own); callers that lock often from several threads
queue them on a ``threading.Lock`` first rather than have them poll.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

FIRST_POLL_SECONDS = 0.001
LAST_POLL_SECONDS = 0.05


class LockTimeout(TimeoutError):
    """The lock stayed held by someone else for the whole timeout (a ``TimeoutError``, as
    ``filelock``'s is: callers that pass over an ``OSError`` pass over it too)."""


@contextmanager
def exclusive(path: Path, timeout: float) -> Iterator[None]:
    """Hold the lock on ``path`` (created, 0644, if missing) for the block; raises
    :class:`LockTimeout` after ``timeout`` seconds of waiting, ``OSError`` if the file cannot
    be opened."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        _acquire(descriptor, time.monotonic() + timeout)
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


def _acquire(descriptor: int, deadline: float) -> None:
    pause = FIRST_POLL_SECONDS
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise LockTimeout from None
            time.sleep(pause)
            pause = min(pause * 2, LAST_POLL_SECONDS)
