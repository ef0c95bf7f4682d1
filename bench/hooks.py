"""The cost of one hook call with 1, 10 and 100 implementations (in-process, timeit).

The same generated extension modules are registered twice: in an Anya Host (whose hook
calls contain each implementation's failures) and in a plain pluggy
``PluginManager``. Both call the same hookspec, added to the Host as an application's own
(``Host(hookspecs=...)``), whose implementations return ``value + i``.

Three ways of calling through the Host are timed: ``host.hook.<name>(...)`` as the README
shows it, the relay taken once (``relay = host.hook`` then ``relay.<name>(...)``: the
containing call loop alone) and ``host.call(<name>, ...)``.

The four calls take turns, batch by batch, and each batch is timed in CPU time of this
process (``time.process_time``): on a machine shared with other work, wall time measures the
neighbours. The result is the least disturbed batch (the minimum, as ``timeit`` advises).
"""

from __future__ import annotations

import importlib
import os
import sys
import time
import timeit
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pluggy

from anya_plugins import Host, hookspec
from anya_plugins.host.hookspecs import PROJECT_NAME
from bench.environments import extension, write_installed
from bench.measure import BenchError
from bench.options import Options, log, run_alone
from bench.report import Row, Section, Target, find, with_ratios

TITLE = "Hook call overhead (in-process, per call)"

SIZES = (1, 10, 100)
QUICK_SIZES = (1, 3)
REPEAT = 15
MIN_BATCH_SECONDS = 0.05
TARGET_RATIO = 1.1

PLUGGY = "plain pluggy `pm.hook.bench_compute(value=1)`"
HOST_HOOK = "Anya `host.hook.bench_compute(value=1)`"
HOST_RELAY = "Anya relay taken once: `relay.bench_compute(value=1)`"
HOST_CALL = "Anya `host.call('bench_compute', value=1)`"

IMPLEMENTATION = '''"""A generated extension implementing the benchmark's hook."""

from anya_plugins import hookimpl


@hookimpl
def bench_compute(value):
    return value + {number}
'''


class BenchSpecs:
    """The application's own hookspec that the benchmark calls."""

    @hookspec
    def bench_compute(self, value: int) -> int:  # type: ignore[empty-body]
        """Return ``value`` plus the extension's number; every implementation is called."""


def run(options: Options) -> Section:
    sizes = options.sizes(SIZES, QUICK_SIZES)
    repeat = options.repeats(REPEAT, quick=2)
    min_seconds = 0.01 if options.quick else MIN_BATCH_SECONDS
    rows: list[Row] = []
    with options.work_dir("hooks") as work, _anya_environment(work), _importable(work / "site"):
        site = work / "site"
        site.mkdir()
        written = 0
        for size in sizes:
            for number in range(written, size):
                module = IMPLEMENTATION.format(number=number)
                write_installed(extension(f"hook-{number:04d}", module=module), site)
            written = size
            importlib.invalidate_caches()
            log(f"hooks: {size} implementations")
            rows += _measure(site, size, repeat, min_seconds)
    rows_with_ratios = with_ratios(rows, PLUGGY)
    return Section(
        "hooks",
        TITLE,
        "plain pluggy",
        rows_with_ratios,
        _targets(rows_with_ratios, sizes),
        (
            f"Fastest of {repeat} batches of at least {min_seconds} s of CPU time each, the "
            "four calls taking turns; µs per call of the whole hook (all implementations).",
            "The Host runs a call through pluggy's loop with a try block around each "
            "implementation (its manager's hook executor), not through a wrapper per "
            "implementation; `host.hook` is one attribute read once every extension is "
            "active.",
        ),
    )


def _measure(site: Path, size: int, repeat: int, min_seconds: float) -> list[Row]:
    host = Host(path=[str(site)], use_cache=False, hookspecs=[BenchSpecs])
    host.activate_all()
    active = [e for e in host.extensions if e.status == "active"]
    if len(active) != size:
        problems = "; ".join(f"{e.name}: {e.status} {e.error}" for e in host.extensions)
        raise BenchError(f"{len(active)} of {size} extensions are active: {problems}")
    manager = pluggy.PluginManager(PROJECT_NAME)
    manager.add_hookspecs(BenchSpecs)
    for extension_record in active:
        module_name = extension_record.entry_point.split(":")[0]
        manager.register(importlib.import_module(module_name), name=extension_record.name)
    relay = host.hook
    calls: dict[str, Callable[[], Any]] = {
        PLUGGY: lambda: manager.hook.bench_compute(value=1),
        HOST_HOOK: lambda: host.hook.bench_compute(value=1),
        HOST_RELAY: lambda: relay.bench_compute(value=1),
        HOST_CALL: lambda: host.call("bench_compute", value=1),
    }
    expected = sorted(manager.hook.bench_compute(value=1))
    for label, call in calls.items():
        if sorted(call()) != expected:
            raise BenchError(f"{label} did not return what plain pluggy returns")
    fastest = _fastest_in_turns(calls, repeat, min_seconds)
    host.close()
    return [Row(f"{size} impl.", label, seconds * 1e6, "µs") for label, seconds in fastest.items()]


def _fastest_in_turns(
    calls: dict[str, Callable[[], Any]], repeat: int, min_seconds: float
) -> dict[str, float]:
    """CPU seconds per call of each, the fastest of ``repeat`` batches taken in turns."""
    timers = {label: timeit.Timer(call, timer=time.process_time) for label, call in calls.items()}
    number = 1
    while timers[PLUGGY].timeit(number) < min_seconds:
        number *= 2
    fastest = dict.fromkeys(calls, float("inf"))
    for _ in range(repeat):
        for label, timer in timers.items():
            fastest[label] = min(fastest[label], timer.timeit(number) / number)
    return fastest


def _targets(rows: tuple[Row, ...], sizes: tuple[int, ...]) -> tuple[Target, ...]:
    ratios = []
    for size in sizes:
        row = find(rows, f"{size} impl.", HOST_HOOK)
        if row is None or row.ratio is None:
            return ()
        ratios.append((size, row.ratio))
    measured = ", ".join(f"{ratio:.2f}x at {size}" for size, ratio in ratios)
    return (
        Target(
            f"Hook call overhead: `host.hook.<name>(...)` within {TARGET_RATIO}x of plain "
            f"pluggy ({', '.join(str(s) for s in sizes)} implementations)",
            measured,
            all(ratio <= TARGET_RATIO for _, ratio in ratios),
        ),
    )


@contextmanager
def _anya_environment(work: Path) -> Iterator[None]:
    """Configuration and data in the work directory, for this process, while measuring."""
    wanted = {"ANYA_CONFIG": str(work / "extensions.toml"), "ANYA_DATA_DIR": str(work / "data")}
    saved = {key: os.environ.get(key) for key in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def _importable(directory: Path) -> Iterator[None]:
    sys.path.insert(0, str(directory))
    try:
        yield
    finally:
        sys.path.remove(str(directory))


def main(argv: list[str] | None = None) -> int:
    return run_alone(run, "Hook call overhead: the Host's guarded hooks against pluggy", argv)


if __name__ == "__main__":
    raise SystemExit(main())
