"""Host start-up and discovery: a fresh process that creates the Host and lists extensions.

With N = 0, 10, 100 and 1,000 extensions installed in a throwaway venv (generated straight
into site-packages: a module and a ``.dist-info`` each), every tool runs as a fresh
``python -c`` process:

- ``python -c pass``: the floor every Python program pays;
- the Anya Host, cold (``ANYA_NO_DISCOVERY_CACHE=1``) and with its discovery cache warm;
- ``importlib.metadata.entry_points(group=...)``: lists, imports nothing (what the Host's
  cold scan builds on);
- pluggy's ``PluginManager.load_setuptools_entrypoints``: imports every extension;
- stevedore's ``ExtensionManager``, without and with its entry-point cache: imports every
  extension too.

The venv also holds anya-plugins' own dependencies, as a user's environment would. Before
the warm runs the site-packages mtime is set one minute back: the discovery cache is not
trusted within two seconds of the newest watched mtime, and a freshly written directory
would never give a hit.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.environments import (
    ENTRY_POINT_GROUP,
    Venv,
    anya_venv,
    clean_env,
    extension,
    write_installed,
)
from bench.measure import BenchError, check_output, time_process
from bench.options import Options, log, run_alone
from bench.report import Row, Section, Target, find, with_ratios

TITLE = "Host start-up and discovery (fresh process)"

SIZES = (0, 10, 100, 1000)
QUICK_SIZES = (2,)
RUNS = 11
TARGET_SIZE = 1000
TARGET_OVER_BASELINE_MS = 30.0
TARGET_FASTER_THAN_PLUGGY = 10.0

BASELINE = "python -c pass"
ANYA_COLD = "Anya Host, cold (no cache)"
ANYA_WARM = "Anya Host, warm cache"
PLUGGY = "pluggy load_setuptools_entrypoints (imports all)"

_HOST = "from anya_plugins import Host; h = Host(); e = h.extensions"
_HOST_COUNT = f"{_HOST}; print(len(e), sum(x.status == 'enabled' for x in e), h.cache_hit)"
_STEVEDORE = f"from stevedore import ExtensionManager; m = ExtensionManager({ENTRY_POINT_GROUP!r})"
_PLUGGY = (
    "import pluggy; pm = pluggy.PluginManager('anya'); "
    f"n = pm.load_setuptools_entrypoints({ENTRY_POINT_GROUP!r})"
)
_ENTRY_POINTS = (
    f"from importlib.metadata import entry_points; e = entry_points(group={ENTRY_POINT_GROUP!r})"
)


@dataclass(frozen=True)
class Tool:
    label: str
    code: str
    count_code: str
    """Prints how many extensions the tool saw (and, for the Host, how many are enabled
    and whether the cache was hit), to check that it did the work being timed."""
    env: dict[str, str] = field(default_factory=dict)


def _tools(home: Path) -> list[Tool]:
    no_cache, with_cache = home / "stevedore-no-cache", home / "stevedore-cache"
    no_cache.mkdir(parents=True, exist_ok=True)
    # stevedore's documented switch: a .disable file in its cache directory.
    (no_cache / "python-entrypoints").mkdir(exist_ok=True)
    (no_cache / "python-entrypoints" / ".disable").touch()
    return [
        Tool(BASELINE, "pass", "print(0)"),
        Tool(ANYA_COLD, _HOST, _HOST_COUNT, {"ANYA_NO_DISCOVERY_CACHE": "1"}),
        Tool(ANYA_WARM, _HOST, _HOST_COUNT),
        Tool("importlib.metadata entry_points (lists only)", _ENTRY_POINTS,
             f"{_ENTRY_POINTS}; print(len(e))"),
        Tool(PLUGGY, _PLUGGY, f"{_PLUGGY}; print(n)"),
        Tool("stevedore ExtensionManager, no cache (imports all)", _STEVEDORE,
             f"{_STEVEDORE}; print(len(m.extensions))", {"XDG_CACHE_HOME": str(no_cache)}),
        Tool("stevedore ExtensionManager, cache (imports all)", _STEVEDORE,
             f"{_STEVEDORE}; print(len(m.extensions))", {"XDG_CACHE_HOME": str(with_cache)}),
    ]  # fmt: skip


def run(options: Options) -> Section:
    sizes = options.sizes(SIZES, QUICK_SIZES)
    runs = options.repeats(RUNS)
    with options.work_dir("startup") as work:
        log("startup: making a venv with anya-plugins and stevedore")
        venv = anya_venv(work / "venv", "stevedore")
        home = work / "home"
        home.mkdir()
        tools = _tools(home)
        rows: list[Row] = []
        installed = 0
        for size in sizes:
            for number in range(installed, size):
                write_installed(extension(f"bench-{number:04d}"), venv.site_packages)
            installed = size
            rows += _measure_size(venv, home, tools, size, runs)
        dependencies = len(_dependencies(venv))
    rows_with_ratios = with_ratios(rows, ANYA_WARM)
    return Section(
        "startup",
        TITLE,
        ANYA_WARM,
        rows_with_ratios,
        _targets(rows_with_ratios, max(sizes)),
        (
            "Each tool: `python -c '<code>'` in a fresh process, median wall time; peak RSS "
            "from one more run under /usr/bin/time. pluggy and stevedore import every "
            "extension (that is what they offer); the Host and importlib.metadata only list "
            "them.",
            f"The venv also holds anya-plugins, stevedore and their {dependencies} installed "
            "dependencies, as a user's environment would.",
        ),
    )


def _measure_size(venv: Venv, home: Path, tools: list[Tool], size: int, runs: int) -> list[Row]:
    case = f"N={size}"
    env = clean_env(HOME=str(home), ANYA_CONFIG=str(home / "extensions.toml"))
    for tool in tools:  # compile every module once, write stevedore's caches
        check_output([venv.python, "-c", tool.code], env={**env, **tool.env}, cwd=home)
    aged = time.time() - 60
    os.utime(venv.site_packages, (aged, aged))
    rows = []
    for tool in tools:
        log(f"startup: {case} {tool.label}")
        tool_env = {**env, **tool.env}
        timing = time_process(
            [venv.python, "-c", tool.code], runs=runs, warmup=1, env=tool_env, cwd=home
        )
        seen = check_output([venv.python, "-c", tool.count_code], env=tool_env, cwd=home).split()
        _check_seen(tool, seen, size)
        rows.append(Row(case, tool.label, timing.median_ms, "ms", detail=timing.detail()))
    return rows


def _check_seen(tool: Tool, seen: list[str], size: int) -> None:
    """The tool saw every generated extension (the Host: all enabled, cache as expected)."""
    if tool.label == BASELINE:
        return
    count = int(seen[0])
    if count != size:
        raise BenchError(f"{tool.label} saw {count} extensions, not {size}")
    if tool.label in (ANYA_COLD, ANYA_WARM):
        enabled, hit = int(seen[1]), seen[2] == "True"
        if enabled != size:
            raise BenchError(f"the Host enabled {enabled} of {size} generated extensions")
        if hit != (tool.label == ANYA_WARM):
            raise BenchError(f"{tool.label}: discovery cache hit was {hit}")


def _dependencies(venv: Venv) -> list[Path]:
    return [
        path
        for path in venv.site_packages.glob("*.dist-info")
        if not path.name.startswith(("anya_ext_bench_", "anya_plugins-"))
    ]


def _targets(rows: tuple[Row, ...], largest: int) -> tuple[Target, ...]:
    case = f"N={TARGET_SIZE}"
    if largest < TARGET_SIZE:
        case = f"N={largest}"
    baseline, warm, pluggy = (find(rows, case, tool) for tool in (BASELINE, ANYA_WARM, PLUGGY))
    if not (baseline and warm and pluggy and baseline.value and warm.value and pluggy.value):
        return ()
    over = warm.value - baseline.value
    faster = pluggy.value / warm.value
    return (
        Target(
            f"Host start-up, {case}, warm cache: within {TARGET_OVER_BASELINE_MS:.0f} ms "
            "of `python -c pass`",
            f"{warm.value:.1f} ms vs {baseline.value:.1f} ms: +{over:.1f} ms",
            over <= TARGET_OVER_BASELINE_MS,
        ),
        Target(
            f"Host start-up, {case}, warm cache: at least {TARGET_FASTER_THAN_PLUGGY:.0f}x "
            "faster than pluggy's load_setuptools_entrypoints",
            f"{faster:.1f}x ({pluggy.value:.0f} ms vs {warm.value:.1f} ms)",
            faster >= TARGET_FASTER_THAN_PLUGGY,
        ),
    )


def main(argv: list[str] | None = None) -> int:
    return run_alone(run, "Host start-up and discovery against importlib.metadata, pluggy, "
                     "stevedore", argv)  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
