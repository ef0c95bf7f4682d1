"""The lock an install takes many times (anya_plugins/flock.py): an flock between processes
and threads, the same lock filelock takes, given up after its timeout."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from filelock import FileLock

from anya_plugins.flock import LockTimeout, exclusive
from anya_plugins.sources.cache import DownloadCache
from anya_plugins.sources.errors import CacheError, SourceError
from anya_plugins.sources.freshness import HighWaterMarks

HOLDER = """
import sys, time
from pathlib import Path
from anya_plugins.flock import exclusive
with exclusive(Path(sys.argv[1]), 5):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_a_lock_held_by_another_process_times_out_and_is_had_once_released(
    tmp_path: Path,
) -> None:
    lock = tmp_path / "x.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lock), "1.0"], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    held = time.monotonic()

    with pytest.raises(LockTimeout), exclusive(lock, 0.2):
        pass
    assert 0.2 <= time.monotonic() - held < 1.0
    with exclusive(lock, 10):  # waits for the holder to let go, after its 1.0 s
        assert time.monotonic() - held >= 0.9
    # The holder lets go before it exits (a process may still be tearing down then).
    assert holder.wait(timeout=10) == 0


def test_filelock_and_this_lock_exclude_each_other(tmp_path: Path) -> None:
    lock = tmp_path / "x.lock"
    with FileLock(lock), pytest.raises(LockTimeout), exclusive(lock, 0.1):
        pass
    with exclusive(lock, 1), pytest.raises(TimeoutError):  # filelock's Timeout
        FileLock(lock, timeout=0.1).acquire()


def test_threads_of_one_process_exclude_each_other(tmp_path: Path) -> None:
    lock = tmp_path / "x.lock"
    inside = 0
    most = 0

    def work() -> None:
        nonlocal inside, most
        for _ in range(20):
            with exclusive(lock, 10):
                inside += 1
                most = max(most, inside)
                time.sleep(0.001)
                inside -= 1

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == 1


def test_a_cache_or_marks_locked_too_long_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from anya_plugins.sources import cache, freshness

    monkeypatch.setattr(cache, "LOCK_TIMEOUT_SECONDS", 0.1)
    monkeypatch.setattr(freshness, "LOCK_TIMEOUT_SECONDS", 0.1)
    store = DownloadCache(tmp_path / "cache")
    marks = HighWaterMarks.in_cache(tmp_path / "cache")
    (tmp_path / "cache").mkdir()

    with exclusive(tmp_path / "cache" / ".lock", 1), pytest.raises(CacheError) as stuck:
        store.clean()
    assert "stayed locked for 0 s" in stuck.value.message
    with (
        exclusive(tmp_path / "cache" / f"{marks.FILE}.lock", 1),
        pytest.raises(SourceError, match="kept the rollback marks locked"),
    ):
        marks.record_all("primary", [("anya-ext-x", "1.0")])
