"""``python -m bench``: every section in one run, one markdown table, written to a file.

A section that cannot run (a tool missing, a server that would not start) is shown as not
run, with the reason, and the others carry on; the exit code is then 1. No duration ever
makes the run fail.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
import traceback
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

from bench import hooks, install, recommend, search, serving, startup, tuf, verify
from bench.options import Options, add_arguments, from_args, log
from bench.registry import BenchRegistry
from bench.report import REPO, failed_section, markdown

SECTIONS = {module.__name__.rsplit(".", 1)[1]: module
            for module in (startup, hooks, verify, install, search, serving,
                           recommend, tuf)}  # fmt: skip
REGISTRY_SECTIONS = ("install", "search", "serving")
"""Sections that take a running registry (``run(options, registry)``)."""
DEFAULT_OUTPUT = REPO / "bench" / "results" / "latest.md"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    add_arguments(parser)
    parser.add_argument(
        "--only", default=",".join(SECTIONS),
        help=f"comma-separated sections to run (default: all of {', '.join(SECTIONS)})",
    )  # fmt: skip
    parser.add_argument(
        "--output", type=Path, default=None,
        help=f"where to write the markdown (default: {DEFAULT_OUTPUT.relative_to(REPO)}; "
        "a --quick run writes nowhere unless told)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    options = from_args(args)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in SECTIONS]
    if unknown:
        parser.error(f"unknown sections: {', '.join(unknown)}")
    output = args.output or (None if options.quick else DEFAULT_OUTPUT)

    started, load_at_start = time.monotonic(), os.getloadavg()
    sections, failed = [], False
    with ExitStack() as stack:
        registry = _shared_registry(stack, options, chosen)
        for name in chosen:
            module = SECTIONS[name]
            log(f"=== {name} ===")
            section_started = time.monotonic()
            try:
                if name in REGISTRY_SECTIONS:
                    sections.append(module.run(options, registry))
                else:
                    sections.append(module.run(options))
            except Exception as error:  # a section that cannot run is reported, not fatal
                traceback.print_exc()
                sections.append(failed_section(name, module.TITLE, error))
                failed = True
            log(f"{name} took {time.monotonic() - section_started:.0f} s")
    command = shlex.join(["python", "-m", "bench", *(argv if argv is not None else sys.argv[1:])])
    text = markdown(sections, command=command, load_at_start=load_at_start)
    print(text)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text)
        log(f"wrote {output}")
    log(f"whole run took {time.monotonic() - started:.0f} s")
    return 1 if failed else 0


def _shared_registry(
    stack: ExitStack, options: Options, chosen: Sequence[str]
) -> BenchRegistry | None:
    """One registry for every section that needs one (each devpi start costs seconds);
    None, and each section starts its own and reports why it cannot, if it fails."""
    if not set(chosen) & set(REGISTRY_SECTIONS):
        return None
    log("=== registry shared by install, search and serving ===")
    work = stack.enter_context(options.work_dir("registry"))
    index_sizes = search.sizes(options) if "search" in chosen else ()
    try:
        return stack.enter_context(search.populated_registry(work / "registry", index_sizes))
    except Exception:  # each section then tries on its own and reports what went wrong
        traceback.print_exc()
        return None


if __name__ == "__main__":
    raise SystemExit(main())
