"""The ``anya-ext`` console script (and ``python -m anya_plugins.cli``): the collector set as
for a short-lived process (:mod:`anya_plugins.gc_tuning`), then
:func:`anya_plugins.cli.main.main`.

Imported before anything else of the CLI, so the settings cover its imports too. A
program calling :func:`~anya_plugins.cli.main.main` itself keeps its own collector.
"""

from __future__ import annotations

import gc
import sys

from anya_plugins.cli.argv import scan, verifies
from anya_plugins.gc_tuning import collect_rarely


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
    collect_rarely()
    arguments = sys.argv[1:]
    if verifies(arguments, scan(arguments)):
        from anya_plugins.trust.verify_process import start_ahead

        start_ahead()  # before argparse and the CLI's modules are imported (main's is later)
    from anya_plugins.cli.main import main as run_command

    exit_code = run_command()
    gc.freeze()
    return exit_code
