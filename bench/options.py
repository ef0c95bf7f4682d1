"""The options every section takes, and running one section alone (``python -m bench.X``)."""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.report import Section, section_markdown

QUICK_ENV = "ANYA_BENCH_QUICK"


def default_work_root() -> Path:
    """Where throwaway venvs, registries and files go: not under /tmp, because stevedore
    silently turns its cache off for any interpreter whose path starts with ``/tmp``."""
    for candidate in (os.environ.get("ANYA_BENCH_WORK"), "/var/tmp"):
        if candidate and os.access(candidate, os.W_OK):
            return Path(candidate)
    return Path(tempfile.gettempdir())


@dataclass(frozen=True)
class Options:
    quick: bool = False
    """Tiny sizes and one run of each: checks that the benchmark runs, measures nothing."""
    runs: int | None = None
    """Overrides every section's repeat count."""
    work_root: Path = field(default_factory=default_work_root)
    keep: bool = False
    """Keep the work directories (to look at the venvs and logs afterwards)."""

    def repeats(self, full: int, quick: int = 1) -> int:
        if self.runs is not None:
            return self.runs
        return quick if self.quick else full

    def sizes(self, full: Sequence[int], quick: Sequence[int]) -> tuple[int, ...]:
        return tuple(quick if self.quick else full)

    @contextmanager
    def work_dir(self, name: str) -> Iterator[Path]:
        """A fresh directory for one section, removed when the run ends unless ``keep``: not
        as the section ends, because deleting its many files would slow down every file the
        sections after it create, for minutes (see :mod:`bench.install`)."""
        self.work_root.mkdir(parents=True, exist_ok=True)
        path = Path(tempfile.mkdtemp(prefix=f"anya-bench-{name}-", dir=self.work_root))
        try:
            yield path
        finally:
            if self.keep:
                log(f"kept {path}")
            else:
                atexit.register(shutil.rmtree, path, ignore_errors=True)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--quick", action="store_true", default=bool(os.environ.get(QUICK_ENV)),
        help=f"tiny sizes, one run each: a smoke run, not a measurement (or ${QUICK_ENV}=1)",
    )  # fmt: skip
    parser.add_argument("--runs", type=int, default=None, help="repeats of every measurement")
    parser.add_argument(
        "--work-dir", type=Path, default=None,
        help="where throwaway venvs and registries go (default: /var/tmp; not /tmp, see docs)",
    )  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the work directories")


def from_args(args: argparse.Namespace) -> Options:
    return Options(
        quick=args.quick,
        runs=args.runs,
        work_root=args.work_dir or default_work_root(),
        keep=args.keep,
    )


def run_alone(
    run: Callable[[Options], Section], description: str, argv: Sequence[str] | None = None
) -> int:
    """Parse the common options, run one section, print its markdown."""
    module = run.__module__
    parser = argparse.ArgumentParser(prog=f"python -m {module}", description=description)
    add_arguments(parser)
    section = run(from_args(parser.parse_args(argv)))
    print(section_markdown(section))
    return 0


_STARTED = time.monotonic()


def log(message: str) -> None:
    """Progress for the person watching a long run (stderr, so tables stay clean)."""
    print(f"[bench {time.monotonic() - _STARTED:6.1f}s] {message}", file=sys.stderr, flush=True)
