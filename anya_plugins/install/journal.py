"""A journal that makes the install step all-or-nothing, even across a killed process.

Before the installer touches the environment, the journal records every path under
its library and scripts directories and Anya's receipts, and backs up the files of each
distribution that will be replaced and every receipt. If the step fails — or the process
dies and a later run finds the journal — rollback removes whatever appeared since and puts
the backups back, so the environment and its receipts are exactly as they were.

The journal is only ever touched under the environment's lock (:mod:`envlock`): a live
transaction's journal is never rolled back by a second command.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata as importlib_metadata
from pathlib import Path

from anya_plugins.install import envlock
from anya_plugins.install.environment import TargetEnvironment
from anya_plugins.install.interrupted import JOURNAL_DIR as _JOURNAL_DIR
from anya_plugins.install.pinning import pins_file
from anya_plugins.install.receipts import receipts_dir

_RECEIPT_SUFFIXES = (".json", ".files")
"""The receipts and their install fingerprints, backed up so that a rollback restores them."""


@dataclass(frozen=True)
class Recovery:
    """What a rollback did."""

    removed: int
    restored: int
    started: float


def journal_dir(env: TargetEnvironment) -> Path:
    return env.prefix / _JOURNAL_DIR


def _watched_roots(env: TargetEnvironment) -> list[Path]:
    receipts = receipts_dir(env)
    receipts.mkdir(parents=True, exist_ok=True)
    return [root for root in (*env.library_dirs, env.scripts, receipts) if root.exists()]


def _snapshot(roots: Iterable[Path]) -> list[str]:
    paths: list[str] = []
    for root in roots:
        for directory, dirnames, filenames in os.walk(root):
            if _JOURNAL_DIR in dirnames:
                dirnames.remove(_JOURNAL_DIR)
            # Joined as text: a Path per entry costs more than the walk (thousands of files).
            paths.extend(f"{directory}{os.sep}{name}" for name in dirnames + filenames)
    return paths


def begin(env: TargetEnvironment, replacing: Iterable[importlib_metadata.Distribution]) -> Path:
    """Record the environment and back up the distributions about to be replaced."""
    directory = journal_dir(env)
    if directory.exists():
        shutil.rmtree(directory)
    backup = directory / "backup"
    backup.mkdir(parents=True)
    restored: list[str] = []
    sources = [
        Path(str(dist.locate_file(file))).resolve()
        for dist in replacing
        for file in dist.files or ()
    ]
    receipts = sorted(p for p in receipts_dir(env).glob("*") if p.suffix in _RECEIPT_SUFFIXES)
    # The publisher pins are written inside the step too (trust on first use of what it
    # installs): restored when it rolls back, removed if the step created them.
    pins = pins_file(env)
    for source in [*sources, *receipts, pins]:
        if source.is_file():
            target = backup / f"{len(restored)}"
            shutil.copy2(source, target)
            restored.append(str(source))
    state = {
        "started": time.time(),
        "roots": [str(root) for root in _watched_roots(env)],
        "existing": _snapshot(_watched_roots(env)),
        "backups": restored,
        "absent": [] if pins.exists() else [str(pins)],
    }
    temporary = directory / "journal.json.tmp"
    temporary.write_text(json.dumps(state))
    temporary.replace(directory / "journal.json")
    return directory


@contextmanager
def exclusive(env: TargetEnvironment) -> Iterator[Recovery | None]:
    """Hold the environment for one transaction (waiting for another to finish); a dead
    transaction's journal is rolled back first, and what that did is yielded."""
    with envlock.held(env.prefix):
        yield rollback(env)


@contextmanager
def step(
    env: TargetEnvironment, replacing: Iterable[importlib_metadata.Distribution]
) -> Iterator[None]:
    """The changing part of a transaction, all or nothing: begin, then commit when the block
    finishes, or roll back whatever it did when it raises (Ctrl-C included)."""
    begin(env, replacing)
    try:
        yield
    except BaseException:
        rollback(env)
        raise
    commit(env)


def commit(env: TargetEnvironment) -> None:
    """The install step finished: forget the journal."""
    shutil.rmtree(journal_dir(env), ignore_errors=True)


def pending(env: TargetEnvironment) -> bool:
    return (journal_dir(env) / "journal.json").exists()


def recover(env: TargetEnvironment) -> Recovery | None:
    """Roll back a dead transaction's journal: only when nobody holds the environment's
    lock (its holder died); a live transaction is left alone and None returned."""
    if not pending(env):
        return None
    try:
        with envlock.held(env.prefix, wait=0, on_wait=lambda _message: None):
            return rollback(env)
    except envlock.EnvironmentBusy:
        return None


def rollback(env: TargetEnvironment) -> Recovery | None:
    """Undo an unfinished install step; None when there is nothing to undo. The caller
    holds the environment's lock."""
    directory = journal_dir(env)
    journal = directory / "journal.json"
    if not journal.exists():
        shutil.rmtree(directory, ignore_errors=True)
        return None
    state = json.loads(journal.read_text())
    existing = set(state["existing"])
    removed = 0
    for path in sorted(_snapshot(Path(root) for root in state["roots"]), reverse=True):
        if path in existing:
            continue
        stray = Path(path)
        if stray.is_dir() and not stray.is_symlink():
            shutil.rmtree(stray, ignore_errors=True)
        else:
            stray.unlink(missing_ok=True)
        removed += 1
    for created in state.get("absent", ()):
        Path(created).unlink(missing_ok=True)
    for index, original in enumerate(state["backups"]):
        Path(original).parent.mkdir(parents=True, exist_ok=True)
        # A new file renamed over the old one, never written through it: installers link
        # files from their cache (uv hard-links), and writing into the link would change
        # the cached copy every later install of that wheel gets.
        restoring = Path(f"{original}.anya-restore")
        shutil.copy2(directory / "backup" / str(index), restoring)
        restoring.replace(original)
    shutil.rmtree(directory, ignore_errors=True)
    return Recovery(removed=removed, restored=len(state["backups"]), started=state["started"])
