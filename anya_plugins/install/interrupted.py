"""Whether an install was interrupted here: one stat, imported by every ``anya-ext`` run."""

from __future__ import annotations

import os
import sys

JOURNAL_DIR = ".anya-install-journal"


def interrupted_here() -> bool:
    """Whether this interpreter's environment holds an install's journal: an unfinished
    step's, or what one killed while it began or committed left behind."""
    journal = os.path.join(sys.prefix, JOURNAL_DIR)  # noqa: PTH118 (start-up)
    return os.path.exists(journal)  # noqa: PTH110 (pathlib costs the start-up ~5 ms)
