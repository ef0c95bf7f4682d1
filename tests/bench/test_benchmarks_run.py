"""Every benchmark still runs: tiny sizes and one repeat (``--quick``). Nothing is timed
against anything here, and no duration can fail a test; only that each section ran and the
table was written.

One quick run of ``python -m bench`` covers every section (they share one registry, which
keeps this under a minute); the serving section needs wrk and nginx from Debian, which
``nox -s bench`` installs, and is skipped, saying so, where they are missing.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench import __main__ as bench_main
from tests.support import REPO

SECTIONS = tuple(bench_main.SECTIONS)
DEBIAN_TOOLS = {"serving": ("wrk", "nginx")}
"""Sections that cannot run without these commands."""


@dataclass(frozen=True)
class QuickRun:
    done: subprocess.CompletedProcess[str]
    written: str
    ran: tuple[str, ...]


def _missing_tools(section: str) -> list[str]:
    return [tool for tool in DEBIAN_TOOLS.get(section, ()) if shutil.which(tool) is None]


def _bench(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *(str(arg) for arg in args)],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
        timeout=600,
    )


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> QuickRun:
    ran = tuple(section for section in SECTIONS if not _missing_tools(section))
    output = tmp_path_factory.mktemp("bench") / "latest.md"
    done = _bench("bench", "--quick", "--only", ",".join(ran), "--output", output)
    return QuickRun(done, output.read_text() if output.exists() else "", ran)


@pytest.mark.slow
def test_a_quick_run_exits_cleanly_and_writes_its_table(quick_run: QuickRun) -> None:
    assert quick_run.done.returncode == 0, quick_run.done.stderr[-5000:]
    assert quick_run.written == quick_run.done.stdout.rstrip("\n") + "\n"
    assert "## Targets" in quick_run.written
    assert "Did not run" not in quick_run.written


@pytest.mark.slow
@pytest.mark.parametrize("section", SECTIONS)
def test_each_section_shows_its_table(quick_run: QuickRun, section: str) -> None:
    missing = _missing_tools(section)
    if missing:
        pytest.skip(f"{section} needs {', '.join(missing)} (apt-get install, or nox -s bench)")
    title = bench_main.SECTIONS[section].TITLE
    assert f"### {title}\n" in quick_run.written
    table = quick_run.written.split(f"### {title}\n", 1)[1].split("\n### ", 1)[0]
    assert "| case | tool |" in table


def test_a_section_runs_alone_and_prints_its_table() -> None:
    done = _bench("bench.hooks", "--quick")

    assert done.returncode == 0, done.stderr[-5000:]
    assert f"### {bench_main.SECTIONS['hooks'].TITLE}" in done.stdout
