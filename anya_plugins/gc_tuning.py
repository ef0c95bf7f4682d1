"""Garbage collection in anya's own short-lived processes: the ``anya-ext`` command
(:mod:`anya_plugins.cli.console`) and the process it verifies signatures in
(:mod:`anya_plugins.trust.verify_process`). A program importing anya-plugins keeps its own
collector settings."""

from __future__ import annotations

import gc

THRESHOLD = 50_000
"""Allocations between two collections of the youngest generation (CPython's default: 700).

Reference counting frees almost everything a command makes; the cyclic collector only
finds cycles, and at the default it also walks, over and over, the thousands of objects
that imports and a long listing keep alive: 15 collections and ~2 ms of
``anya-ext --json list --no-load`` at 1,000 extensions, ~10 ms of the verifying process's
import of sigstore. Cycles are still collected, every 50,000 allocations instead of 700,
which bounds what an install can leave uncollected.
"""


def collect_rarely() -> None:
    """Set this process's collector to :data:`THRESHOLD` (before the imports it covers)."""
    gc.set_threshold(THRESHOLD)
