"""Search: latency of a search with 1,000 and 10,000 extensions on an index.

A registry of its own: one index per size, created through the layout, then, with the
server stopped, filled through devpi's model API by ``tests.registry.populate`` (metadata
only: ten thousand twine uploads would take many minutes), then started again.

``anya-ext search`` is timed (a fresh process each time) when this checkout has it;
otherwise its row says it is not available. The server's answer is always timed through
``DevpiClient.search`` (``GET /<index>/+anya/search``, the HTTP round trip included), next
to a plain simple-page request, the floor of any request to the same server.
"""

from __future__ import annotations

import functools
import json
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from anya_plugins.registry.devpi import DevpiClient
from bench.environments import anya_venv, clean_env
from bench.measure import (
    EXIT_AS_ANYA_EXT,
    START_AS_ANYA_EXT,
    BenchError,
    check_output,
    run_process,
)
from bench.options import Options, log, run_alone
from bench.registry import (
    LAYOUT,
    USER,
    BenchRegistry,
    running_registry,
    start_registry,
    stop_registry,
)
from bench.report import REPO, Row, Section, Target, with_ratios

TITLE = "Search latency"

SIZES = (1_000, 10_000)
QUICK_SIZES = (20, 100)
RUNS = 20
TARGET_MS = 100.0
POPULATE_MODULE = "tests.registry.populate"

QUERIES: dict[str, tuple[str, str | None, int | None]] = {
    "one name": ("anya-ext-oracle-00001", None, None),
    "two terms": ("lightning routes", None, None),
    "term + category": ("wallet", "core/ml", None),
    "broad term, first 50": ("anya", None, 50),
}
"""label -> (query, category, limit), over the names and summaries ``populate`` generates."""

CLI_QUERY = "lightning routes"
ONE_HIT = "anya-ext-oracle-00001"
FLOOR = "GET simple page of one project (floor)"
BASELINE = "`python -c pass` (fresh process)"
FLOOR_CLIENT = (
    "`python -c` urllib GET of the one-hit search + json.loads (floor of a Python client)"
)
FLOOR_CODE = (
    START_AS_ANYA_EXT
    + "; import json, urllib.request; json.loads(urllib.request.urlopen({url!r}).read()); "
    + EXIT_AS_ANYA_EXT
)
CLI = f"`anya-ext --json search {ONE_HIT}` (one hit, fresh process)"
CLI_MANY = f"`anya-ext --json search {CLI_QUERY}` (fresh process)"
CLI_TABLE = f"`anya-ext search {CLI_QUERY}`, table on a pipe (fresh process)"


def _index(size: int) -> str:
    return f"{USER}/s{size}"


def _layout(sizes: tuple[int, ...]) -> str:
    """The benchmark layout plus one index per size."""
    indexes = "".join(f'\n[indexes."{_index(size)}"]\nacl_upload = ["{USER}"]\n' for size in sizes)
    return LAYOUT + indexes


def sizes(options: Options) -> tuple[int, ...]:
    return options.sizes(SIZES, QUICK_SIZES)


@contextmanager
def populated_registry(state_dir: Path, index_sizes: tuple[int, ...]) -> Iterator[BenchRegistry]:
    """A running registry with the benchmark layout and one index per size filled with that
    many extensions: started once to create the indexes, stopped to fill them, started again.
    """
    if index_sizes:
        stop_registry(start_registry(state_dir, _layout(index_sizes)))
        _populate(state_dir, index_sizes)
    with running_registry(state_dir, _layout(index_sizes)) as registry:
        yield registry


def run(options: Options, registry: BenchRegistry | None = None) -> Section:
    """``registry``: a running registry that :func:`populated_registry` prepared for the
    same options, to use instead of preparing one."""
    index_sizes = sizes(options)
    runs = options.repeats(RUNS, quick=2)
    rows: list[Row] = []
    with options.work_dir("search") as work, ExitStack() as stack:
        if registry is None:
            registry = stack.enter_context(populated_registry(work / "registry", index_sizes))
        client = DevpiClient(registry.url)
        log("search: a venv with anya-plugins, for `anya-ext search`")
        cli = SearchCommand(anya_venv(work / "anya").script("anya-ext"), work)
        for size in index_sizes:
            rows += _measure(registry, client, size, runs, cli)
    rows_with_ratios = with_ratios(rows, FLOOR)
    return Section(
        "search",
        TITLE,
        "one simple-page request to the same server",
        rows_with_ratios,
        _targets(rows_with_ratios, max(index_sizes)),
        (
            "Client-side medians: HTTP round trip and JSON decoding included. The first query "
            "after start reads every project of the index once (one request, not repeated).",
        ),
    )


def _populate(state_dir: Path, index_sizes: tuple[int, ...]) -> None:
    if not (REPO / Path(*POPULATE_MODULE.split("."))).with_suffix(".py").is_file():
        raise BenchError(f"{POPULATE_MODULE} is not in this checkout: cannot fill the indexes")
    counts = [f"{_index(size)}={size}" for size in index_sizes]
    log(f"search: populating {', '.join(counts)}")
    started = time.perf_counter()
    check_output(
        [sys.executable, "-m", POPULATE_MODULE, str(state_dir / "server"), *counts], cwd=REPO
    )
    log(f"search: populated in {time.perf_counter() - started:.1f} s")


@dataclass(frozen=True)
class SearchCommand:
    """``anya-ext search`` as a user runs it: from a venv of its own, a fresh process; beside
    it, in the same venv, ``python -c pass`` and the floor of any Python search client (one
    urllib request and ``json.loads``, nothing else imported)."""

    anya_ext: Path
    home: Path

    def missing(self) -> str | None:
        """Why it cannot be timed, or None when this checkout has it."""
        done = subprocess.run(
            [self.anya_ext, "search", "--help"], capture_output=True, text=True, check=False
        )
        return None if done.returncode == 0 else "this checkout's `anya-ext` has no `search`"

    def rows(
        self, registry: BenchRegistry, case: str, index: str, runs: int, expected: int
    ) -> list[Row]:
        """Medians of the commands, taking turns; ``expected``: the server's number of hits
        for :data:`CLI_QUERY`."""
        missing = self.missing()
        if missing is not None:
            return [Row(case, CLI, None, "ms", detail=f"not available: {missing}")]
        env = clean_env(
            HOME=str(self.home),
            ANYA_CONFIG=str(self.home / "anya.toml"),
            ANYA_SOURCES__PRIMARY__URL=f"{registry.url}/{index}/+simple/",
        )
        python = self.anya_ext.with_name("python")
        url = f"{registry.url}/{index}/+anya/search?q={ONE_HIT}"
        commands: dict[str, list[str | Path]] = {
            BASELINE: [python, "-c", "pass"],
            FLOOR_CLIENT: [python, "-c", FLOOR_CODE.format(url=url)],
            CLI: [self.anya_ext, "--json", "search", ONE_HIT],
            CLI_MANY: [self.anya_ext, "--json", "search", *CLI_QUERY.split()],
            CLI_TABLE: [self.anya_ext, "search", *CLI_QUERY.split()],
        }
        try:
            found = {
                label: len(json.loads(check_output(commands[label], env=env)))
                for label in (CLI, CLI_MANY)
            }
            seconds: dict[str, list[float]] = {label: [] for label in commands}
            for _ in range(runs):
                for label, command in commands.items():
                    seconds[label].append(run_process(command, env=env))
        except (BenchError, ValueError) as error:
            last = str(error).strip().splitlines()[-1] if str(error).strip() else ""
            return [Row(case, CLI, None, "ms", detail=f"failed: {last[:200]}")]
        hits = {CLI: (found[CLI], 1), CLI_MANY: (found[CLI_MANY], expected)}
        rows = []
        for label, timings in seconds.items():
            detail = f"{len(timings)} runs, {min(timings) * 1000:.0f}-{max(timings) * 1000:.0f} ms"
            if label in hits:
                got, wanted = hits[label]
                detail = (
                    f"{got} hits"
                    + ("" if got == wanted else f" (**expected {wanted}**)")
                    + f"; {detail}"
                )
            rows.append(Row(case, label, statistics.median(timings) * 1000, "ms", detail=detail))
        return rows


def _measure(
    registry: BenchRegistry, client: DevpiClient, size: int, runs: int, cli: SearchCommand
) -> list[Row]:
    index = _index(size)
    case = f"{size:,} extensions"
    log(f"search: {case}")
    first = _latencies(lambda: client.search(index, "wallet"), 1)[0]
    total = len(client.search(index, ""))
    if total != size:
        raise BenchError(f"{index}: search finds {total} projects, not {size}")
    simple = f"{registry.url}/{index}/+simple/anya-ext-wallet-00000/"
    floor = _latencies(lambda: urllib.request.urlopen(simple, timeout=30).read(), runs)
    rows = [
        Row(case, FLOOR, statistics.median(floor), "ms"),
        Row(case, "DevpiClient.search: first query after start", first, "ms",
            detail="reads every project once"),
    ]  # fmt: skip
    for label, (query, category, limit) in QUERIES.items():
        search = functools.partial(client.search, index, query, category, limit=limit)
        hits = len(search())
        timings = _latencies(search, runs)
        rows.append(
            Row(
                case,
                f"DevpiClient.search: {label}",
                statistics.median(timings),
                "ms",
                detail=f"{hits} hits; max {max(timings):.1f} ms",
            )
        )
    rows += cli.rows(registry, case, index, runs, len(client.search(index, CLI_QUERY)))
    return rows


def _latencies(call: Callable[[], object], runs: int) -> list[float]:
    """Milliseconds of each of ``runs`` calls."""
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def _targets(rows: tuple[Row, ...], largest: int) -> tuple[Target, ...]:
    """The CLI as a user meets it, and the server's answer alone (its slowest query)."""
    case = f"{largest:,} extensions"
    mine = [row for row in rows if row.case == case]
    targets = []
    cli = next((row for row in mine if row.tool == CLI), None)
    floors = {row.tool: row.value for row in mine if row.tool in (BASELINE, FLOOR_CLIENT)}
    if cli is not None:
        measured = "not available"
        if cli.value is not None:
            measured = (
                f"{cli.value:.1f} ms, fresh process (`python -c pass` "
                f"{floors.get(BASELINE) or 0:.1f} ms; urllib + json floor "
                f"{floors.get(FLOOR_CLIENT) or 0:.1f} ms)"
            )
        targets.append(
            Target(
                f"`anya-ext search`, one hit, under {TARGET_MS:.0f} ms at {case}",
                measured,
                None if cli.value is None else cli.value < TARGET_MS,
            )
        )
    queries = [row for row in mine if row.tool.startswith("DevpiClient.search: ")
               and "first query" not in row.tool and row.value is not None]  # fmt: skip
    if queries:
        slowest = max(queries, key=lambda row: row.value or 0.0)
        worst = slowest.value or 0.0
        targets.append(
            Target(
                f"Search answer (`+anya/search` through DevpiClient) under {TARGET_MS:.0f} ms "
                f"at {case}",
                f"{worst:.1f} ms (slowest query: {slowest.tool.split(': ', 1)[1]})",
                worst < TARGET_MS,
            )
        )
    return tuple(targets)


def main(argv: list[str] | None = None) -> int:
    return run_alone(run, "Search latency at 1,000 and 10,000 extensions", argv)


if __name__ == "__main__":
    raise SystemExit(main())
