"""Whether an install was interrupted here: one stat, imported by every ``anya-ext`` run."""

from __future__ import annotations

import sys
from pathlib import Path

JOURNAL_DIR = ".anya-install-journal"


def interrupted_here() -> bool:
    """Whether this interpreter's environment holds an unfinished install's journal."""
    return (Path(sys.prefix) / JOURNAL_DIR / "journal.json").exists()
