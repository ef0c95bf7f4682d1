"""Whether an install was interrupted here: one stat, imported by every ``anya-ext`` run."""

from __future__ import annotations

import os
import sys

JOURNAL_DIR = ".anya-install-journal"


def interrupted_here() -> bool:
    """Whether this interpreter's environment holds an unfinished install's journal."""
    journal = os.path.join(sys.prefix, JOURNAL_DIR, "journal.json")  # noqa: PTH118 (start-up)
    return os.path.exists(journal)  # noqa: PTH110 (pathlib costs the start-up ~5 ms)
