"""What a benchmark section measured, as data, and the markdown that shows it.

Every section returns a :class:`Section`: rows of medians (one row per case and tool, with
the ratio to the section's reference tool in the same case) and the targets it checks.
:func:`markdown` renders a whole run: the machine, the targets met or not, then each section.
"""

from __future__ import annotations

import datetime
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
_VERSIONED_PACKAGES = ("anya-plugins", "pluggy", "stevedore", "devpi-server", "sigstore", "uv")
_VERSIONED_TOOLS = {"nginx": ("nginx", "-v"), "wrk": ("wrk", "-v")}


@dataclass(frozen=True)
class Row:
    """One median: a tool doing one case's work."""

    case: str
    tool: str
    value: float | None
    """The median (a rate for load runs); None when the tool could not be measured
    (``detail`` says why)."""
    unit: str
    ratio: float | None = None
    """``value`` divided by the reference tool's value in the same case."""
    detail: str = ""


@dataclass(frozen=True)
class Target:
    """A goal of the benchmark issue, and how this run did against it."""

    goal: str
    measured: str
    met: bool | None
    """None when the run could not measure it."""


@dataclass(frozen=True)
class Section:
    name: str
    title: str
    reference: str
    """What the ratio column compares against, e.g. ``python -c pass``."""
    rows: tuple[Row, ...] = ()
    targets: tuple[Target, ...] = ()
    notes: tuple[str, ...] = field(default=())


def with_ratios(rows: Iterable[Row], reference_tool: str) -> tuple[Row, ...]:
    """The rows with ``ratio`` set against the row of ``reference_tool`` in the same case."""
    rows = tuple(rows)
    references = {row.case: row.value for row in rows if row.tool == reference_tool and row.value}
    return tuple(
        replace(row, ratio=row.value / references[row.case])
        if row.value is not None and row.case in references
        else row
        for row in rows
    )


def find(rows: Iterable[Row], case: str, tool: str) -> Row | None:
    return next((row for row in rows if row.case == case and row.tool == tool), None)


def failed_section(name: str, title: str, error: BaseException) -> Section:
    """What a section that could not run shows instead of its table."""
    first = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return Section(name, title, "", notes=(f"**Did not run**: {type(error).__name__}: {first}",))


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if value >= 100:
        text = f"{value:,.0f}"
    elif value >= 10:
        text = f"{value:.1f}"
    elif value >= 1:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3f}"
    return f"{text} {unit}"


def _status(met: bool | None) -> str:
    return {True: "met", False: "**not met**", None: "not measured"}[met]


def section_markdown(section: Section) -> str:
    lines = [f"### {section.title}", ""]
    if section.rows:
        if section.reference:
            lines += [f"Ratio: against {section.reference} in the same case.", ""]
        lines += ["| case | tool | result | ratio | detail |", "|---|---|---:|---:|---|"]
        for row in section.rows:
            ratio = f"{row.ratio:.2f}x" if row.ratio is not None else ""
            lines.append(
                f"| {row.case} | {row.tool} | {format_value(row.value, row.unit)} "
                f"| {ratio} | {row.detail} |"
            )
        lines.append("")
    if section.targets:
        lines += [targets_markdown(section.targets), ""]
    lines += [f"- {note}" for note in section.notes]
    return "\n".join(lines).rstrip() + "\n"


def targets_markdown(targets: Sequence[Target]) -> str:
    lines = ["| target | measured | status |", "|---|---|---|"]
    lines += [f"| {t.goal} | {t.measured} | {_status(t.met)} |" for t in targets]
    return "\n".join(lines)


def markdown(
    sections: Sequence[Section], *, command: str, load_at_start: tuple[float, ...] = ()
) -> str:
    """The whole run: machine, targets, then every section's table."""
    targets = [target for section in sections for target in section.targets]
    parts = [
        "# Anya Extensions benchmarks",
        "",
        f"Command: `{command}`",
        "",
        *machine_lines(load_at_start),
        "",
        "Results are medians of repeated runs (the serving rates: requests over a whole load "
        "run); ratios are against the reference named in each section. Targets are goals, not "
        "assertions: nothing fails on a time.",
        "",
        "## Targets",
        "",
        targets_markdown(targets) if targets else "(no section with targets ran)",
        "",
        "## Results",
        "",
    ]
    parts += [section_markdown(section) for section in sections]
    return "\n".join(parts).rstrip() + "\n"


def machine_lines(load_at_start: tuple[float, ...] = ()) -> list[str]:
    """The machine a run happened on, as markdown bullet lines."""
    loads = [f"{', '.join(f'{x:.2f}' for x in os.getloadavg())} at the end"]
    if load_at_start:
        loads.insert(0, f"{', '.join(f'{x:.2f}' for x in load_at_start)} at the start")
    return [
        f"- Date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {os.cpu_count()} CPUs (`nproc`: {_nproc()}), {_cpu_model()}, "
        f"{_memory_gib():.0f} GiB, {platform.system()} {platform.release()}",
        f"- Python: {platform.python_version()} ({sys.executable})",
        f"- Commit: {_commit()}",
        f"- Versions: {', '.join(_versions())}",
        f"- Load average (1, 5, 15 min): {'; '.join(loads)} (the run itself adds about 1-2)",
    ]


def _nproc() -> str:
    return str(len(os.sched_getaffinity(0))) if hasattr(os, "sched_getaffinity") else "?"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _memory_gib() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        return 0.0


def _commit() -> str:
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{head}{' with uncommitted changes' if dirty else ''}"


def _versions() -> list[str]:
    found = []
    for name in _VERSIONED_PACKAGES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    for name, command in _VERSIONED_TOOLS.items():
        if shutil.which(command[0]) is None:
            continue
        done = subprocess.run(list(command), capture_output=True, text=True, check=False)
        words = (done.stdout + done.stderr).split()
        version = next((w.split("/")[-1] for w in words if w[:1].isdigit() or "/" in w), "")
        found.append(f"{name} {version}".strip())
    return found
