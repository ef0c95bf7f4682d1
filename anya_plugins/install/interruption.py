"""Ctrl-C during an install, update or sync: say what it left, and never hide a finished install.

The transaction's journal already makes the install step all-or-nothing. What a person
needs after pressing Ctrl-C is the outcome: nothing changed (interrupted before, or during
the install step, which was rolled back), or — when the interrupt arrived after the install
was complete — the install, reported as done. The first Ctrl-C interrupts; later ones are
ignored until the rollback and this report are finished, so a second press cannot cut a
rollback short.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import TypeVar

from packaging.utils import canonicalize_name

from anya_plugins.errors import AnyaError
from anya_plugins.install import journal
from anya_plugins.install.environment import TargetEnvironment
from anya_plugins.install.journal import Recovery
from anya_plugins.install.receipts import read_receipts
from anya_plugins.install.transaction import Change, InstallResult

INTERRUPTED_EXIT = 130
"""128 + SIGINT, what shells report for a command stopped by Ctrl-C."""

T = TypeVar("T")

COMPLETED_NOTE = "interrupted after the install was complete: the changes above stand"


class InstallInterrupted(AnyaError):
    """Ctrl-C stopped the command before anything was installed; the environment is as it was."""

    exit_code = INTERRUPTED_EXIT


def reporting_interrupt(
    env: TargetEnvironment, requested: Sequence[str], run: Callable[[], T]
) -> T | InstallResult:
    """Run ``run`` (one install, update or sync into ``env``); on Ctrl-C, find out what it left.

    Raises InstallInterrupted when nothing changed (after rolling back an install step the
    interrupt cut short); returns the install as an InstallResult, with a note, when the
    interrupt came after it was complete.
    """
    before = installed_dists(env)
    during_step: list[bool] = []  # whether the install step had begun when Ctrl-C came

    def note_step() -> None:
        during_step.append(journal.pending(env))

    with _first_interrupt_only(note_step):
        try:
            return run()
        except KeyboardInterrupt:
            recovered = journal.recover(env) if journal.pending(env) else None
            changes = _changes(env, before, installed_dists(env))
            if not changes:
                raise InstallInterrupted(
                    _nothing_changed(during_step[0] if during_step else None, recovered),
                    hint="run the command again to install",
                ) from None
            return InstallResult(
                requested=tuple(requested),
                changes=changes,
                index_url="",
                resolver="",
                installer="",
                dry_run=False,
                notes=(COMPLETED_NOTE,),
            )


def _nothing_changed(during_step: bool | None, recovered: Recovery | None) -> str:
    if recovered is not None:
        return (
            f"interrupted during the install step: rolled back ({recovered.removed} paths "
            f"removed, {recovered.restored} files restored); nothing changed"
        )
    if during_step:
        return "interrupted during the install step: rolled back; nothing changed"
    if during_step is None:
        return "interrupted: nothing changed, the environment is as it was"
    return "interrupted before anything was installed: nothing changed"


def installed_dists(env: TargetEnvironment) -> dict[str, str]:
    """Installed distributions (canonical name -> version) from the ``.dist-info`` directory
    names alone: cheap enough to take before every install."""
    found: dict[str, str] = {}
    for directory in env.library_dirs:
        if not directory.is_dir():
            continue
        for entry in directory.glob("*.dist-info"):
            name, dash, version = entry.name.removesuffix(".dist-info").rpartition("-")
            if dash:
                found.setdefault(str(canonicalize_name(name)), version)
    return found


def _changes(
    env: TargetEnvironment, before: dict[str, str], after: dict[str, str]
) -> tuple[Change, ...]:
    changed = sorted(name for name in {*before, *after} if before.get(name) != after.get(name))
    if not changed:
        return ()
    receipts = read_receipts(env)
    return tuple(
        Change(
            name=name,
            old_version=before.get(name),
            new_version=after.get(name, ""),
            filename=receipts[name].filename if name in receipts else "",
            sha256=receipts[name].sha256 if name in receipts else "",
            url=receipts[name].url if name in receipts else "",
        )
        for name in changed
    )


@contextmanager
def _first_interrupt_only(on_interrupt: Callable[[], None]) -> Iterator[None]:
    """The first SIGINT calls ``on_interrupt`` then raises KeyboardInterrupt; later ones are
    ignored until the block ends (the rollback and the report run undisturbed). Only the
    main thread handles signals: elsewhere the block runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(_signum: int, _frame: FrameType | None) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        on_interrupt()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler if previous is None else previous)
