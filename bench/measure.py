"""Timing: fresh processes (median wall time, peak memory) and in-process calls.

A process is timed from ``Popen`` to ``wait4``. Its peak memory comes from one more run
under ``/usr/bin/time -f %M``, not from our own ``wait4``: Linux folds the parent's
resident set at ``fork``/``exec`` time into the child's ``ru_maxrss``, so a child of this
(large) benchmark process would never report less than the benchmark itself. ``time`` is
small, and reports the largest of the command and the children it waited for.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import threading
import time
import timeit
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from anya_plugins.gc_tuning import THRESHOLD as GC_THRESHOLD

TIME = "/usr/bin/time"
"""GNU time (Debian package ``time``), for peak memory."""
START_AS_ANYA_EXT = f"import gc; gc.set_threshold({GC_THRESHOLD})"
"""The first statement of a floor timed as a ``python -c`` process: it collects garbage as
rarely as anya-ext does (``cli.console``), so a floor pays no collections the CLI does not."""
EXIT_AS_ANYA_EXT = "import gc; gc.freeze()"
"""The last statement of a floor timed as a ``python -c`` process: it exits as anya-ext does
(``cli.console.main`` freezes the heap), so that CPython's exit-time collections —
~300 ms after sigstore's imports on this machine — are not counted in a floor the CLI no
longer pays."""


FORGOTTEN_AFTER_SECONDS = 61.0
"""How long ext4 without a journal treats a deleted inode as recently deleted once its inode
block is written back (the kernel's ``RECENTCY_MIN``, 60 s, plus a second): until then, each
new inode is found by skipping it (``fs/ext4/ialloc.c``, ``recently_deleted``)."""


def settle() -> None:
    """Wait until the files deleted before now no longer slow down creating files: write
    back every dirty block (a deleted inode whose block is dirty counts as recent for
    5 min more), then wait :data:`FORGOTTEN_AFTER_SECONDS`. Before timed runs that create
    thousands of files (installs)."""
    os.sync()
    time.sleep(FORGOTTEN_AFTER_SECONDS)


class BenchError(Exception):
    """A benchmark could not run (a tool failed or is missing); never about a duration."""


@dataclass(frozen=True)
class ProcessTiming:
    """Repeated runs of one command."""

    seconds: tuple[float, ...]
    peak_rss_kib: int | None
    """From one run under ``/usr/bin/time``; None where that is not installed."""

    @property
    def median_ms(self) -> float:
        return statistics.median(self.seconds) * 1000

    @property
    def median_s(self) -> float:
        return statistics.median(self.seconds)

    @property
    def peak_mib(self) -> float | None:
        return None if self.peak_rss_kib is None else self.peak_rss_kib / 1024

    def detail(self) -> str:
        spread = f"{min(self.seconds) * 1000:.0f}-{max(self.seconds) * 1000:.0f} ms"
        peak = "n/a" if self.peak_mib is None else f"{self.peak_mib:.0f} MiB"
        return f"{len(self.seconds)} runs, {spread}; peak RSS {peak}"


def run_process(
    command: Sequence[str | Path],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 600.0,
) -> float:
    """Run ``command`` once: its wall time in seconds. Raises BenchError on failure."""
    argv = [str(part) for part in command]
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=errors,
            env=None if env is None else dict(env),
            cwd=cwd,
        )
        killer = threading.Timer(timeout, process.kill)
        killer.start()
        try:
            _, status, _usage = os.wait4(process.pid, 0)
        finally:
            killer.cancel()
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            tail = errors.read().decode(errors="replace").strip()[-3000:]
            raise BenchError(f"{' '.join(argv)} exited {process.returncode}:\n{tail}")
    return elapsed


def run_measuring_memory(
    command: Sequence[str | Path],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> int | None:
    """Run ``command`` once under ``/usr/bin/time``: its peak resident set in KiB (None, and
    the command run plainly, where GNU time is not installed)."""
    if not has_gnu_time():
        run_process(command, env=env, cwd=cwd)
        return None
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as report:
        run_process([TIME, "-f", "%M", "-o", report.name, *command], env=env, cwd=cwd)
        text = report.read().strip().splitlines()
    return int(text[-1]) if text and text[-1].isdigit() else None


def has_gnu_time() -> bool:
    return os.access(TIME, os.X_OK)


def time_process(
    command: Sequence[str | Path],
    *,
    runs: int,
    warmup: int = 1,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    before_each: Callable[[], None] | None = None,
    memory_in_timed_runs: bool = False,
) -> ProcessTiming:
    """``warmup`` untimed runs, then ``runs`` timed ones; ``before_each`` runs untimed
    before every run (e.g. to empty a cache for cold runs).

    The peak memory comes from one more run under ``/usr/bin/time``, or, with
    ``memory_in_timed_runs``, from the timed runs themselves run under it: for commands
    that take seconds, where the millisecond ``time`` adds does not matter.
    """
    for _ in range(warmup):
        if before_each is not None:
            before_each()
        run_process(command, env=env, cwd=cwd)
    if memory_in_timed_runs:
        seconds, peaks = [], []
        for _ in range(runs):
            if before_each is not None:
                before_each()
            started = time.perf_counter()
            peaks.append(run_measuring_memory(command, env=env, cwd=cwd))
            seconds.append(time.perf_counter() - started)
        known = [peak for peak in peaks if peak is not None]
        return ProcessTiming(tuple(seconds), max(known) if known else None)
    seconds = []
    for _ in range(runs):
        if before_each is not None:
            before_each()
        seconds.append(run_process(command, env=env, cwd=cwd))
    if not has_gnu_time():
        return ProcessTiming(tuple(seconds), None)
    if before_each is not None:
        before_each()
    return ProcessTiming(tuple(seconds), run_measuring_memory(command, env=env, cwd=cwd))


def time_call(function: Callable[[], object], *, repeat: int, min_seconds: float = 0.2) -> float:
    """Median seconds per call, over ``repeat`` timeit batches of at least ``min_seconds``."""
    timer = timeit.Timer(function)
    number = 1
    while timer.timeit(number) < min_seconds:
        number *= 2
    return statistics.median(timer.timeit(number) / number for _ in range(repeat))


def check_output(
    command: Sequence[str | Path],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 600.0,
) -> str:
    """Run a set-up command; its stdout. Raises BenchError with its output when it fails."""
    argv = [str(part) for part in command]
    try:
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            env=None if env is None else dict(env),
            cwd=cwd,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise BenchError(f"{' '.join(argv)}: {error}") from error
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip()[-3000:]
        raise BenchError(f"{' '.join(argv)} exited {done.returncode}:\n{output}")
    return done.stdout
