"""The ``anya-ext`` console script (and ``python -m anya_plugins.cli``): how a short-lived
process collects its garbage, then :func:`anya_plugins.cli.main.main`.

Imported before anything else of the CLI, so the settings cover its imports too. A
program calling :func:`~anya_plugins.cli.main.main` itself keeps its own collector.
"""

from __future__ import annotations

import gc

GC_THRESHOLD = 50_000
"""Allocations between two collections of the youngest generation (CPython's default: 700).

Reference counting frees almost everything a command makes; the cyclic collector only
finds cycles, and at the default it also walks, over and over, the thousands of objects
that imports and a long listing keep alive: 15 collections and ~2 ms of
``anya-ext --json list --no-load`` at 1,000 extensions. Cycles are still collected, every
50,000 allocations instead of 700, which bounds what an install can leave uncollected.
"""


def main() -> int:
    """Run the command in ``sys.argv``; then exit without the interpreter's last garbage
    collections.

    At exit CPython runs full collections over the whole heap while it tears the modules
    down: after an install (sigstore, pydantic, cryptography and their 600 modules in
    memory) that took 90-150 ms of a 2 s warm install, and ~4% of the instructions of
    ``--json list --no-load`` at 1,000 extensions. Freezing the heap first leaves those
    passes nothing to walk. Everything is still freed by reference counting, atexit
    handlers (logging's flush, temporary directories' finalizers) still run, and every file
    this program writes is closed by a ``with`` block before it returns; only cyclic
    garbage left at exit is not collected, which the operating system reclaims with the
    process.
    """
    gc.set_threshold(GC_THRESHOLD)
    from anya_plugins.cli.main import main as run_command

    exit_code = run_command()
    gc.freeze()
    return exit_code
