"""Ctrl-C during an install, update or sync: say what it left, and never hide a finished install.

The transaction's journal already makes the install step all-or-nothing. What a person
needs after pressing Ctrl-C is the outcome:

- before the install step, or during it: the command stops, an install step cut short is
  rolled back, and "nothing changed" is said (exit 130);
- after the install step committed: the interrupt is held back until the command has
  finished what follows (the audit log entry, the report), and the install is reported as
  done (exit 0). A second Ctrl-C is not held back.

While a rollback runs (an interrupt is being handled), further Ctrl-Cs are ignored, so a
second press cannot cut it short. An interrupt Python would drop (one landing in a fork
handler, as the installer starts) is delivered again rather than lost.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, TypeVar

from packaging.utils import canonicalize_name

from anya_plugins.errors import AnyaError
from anya_plugins.install import journal
from anya_plugins.install.environment import TargetEnvironment
from anya_plugins.install.journal import Recovery
from anya_plugins.install.receipts import read_receipts
from anya_plugins.install.transaction import Change, InstallResult

if TYPE_CHECKING:
    from sys import UnraisableHookArgs

INTERRUPTED_EXIT = 130
"""128 + SIGINT, what shells report for a command stopped by Ctrl-C."""

T = TypeVar("T")

_REDELIVERY_DELAY = 0.01
"""Seconds before a dropped interrupt is delivered again (out of the fork handler by then)."""

COMPLETED_NOTE = "interrupted after the install was complete: the changes above stand"
HELD_BACK_NOTE = "interrupted too late to stop the install: it was finished, and stands"


class InstallInterrupted(AnyaError):
    """Ctrl-C stopped the command before anything was installed; the environment is as it was."""

    exit_code = INTERRUPTED_EXIT


def reporting_interrupt(
    env: TargetEnvironment,
    requested: Sequence[str],
    run: Callable[[], T],
    *,
    held_back: Callable[[], None] = lambda: None,
) -> T | InstallResult:
    """Run ``run`` (one install, update or sync into ``env``) and answer Ctrl-C by what it left.

    Raises InstallInterrupted when nothing changed (after rolling back an install step the
    interrupt cut short). An interrupt that comes once the environment has changed and no
    install step is under way is held back: ``run`` finishes, its value is returned, and
    ``held_back`` is called to say so — as it is when an interrupt was raised but caught
    on the way and the install went through. Should
    ``run`` be stopped after its install was complete all the same (a second Ctrl-C), the
    install is returned as an InstallResult with a note.
    """
    watch = _Watch(env)
    with watch.handling_interrupts():
        try:
            value = run()
        except KeyboardInterrupt:
            watch.ignore_further()
            recovered = journal.recover(env) if journal.pending(env) else None
            changes = _changes(env, watch.before, installed_dists(env))
            if not changes:
                raise InstallInterrupted(
                    _nothing_changed(watch.during_step, recovered),
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
    if watch.held_back or watch.raised:
        held_back()
    return value


class _Watch:
    """The state an interrupt is judged by: what was installed before, whether an install
    step is under way (its journal), whether an interrupt was held back or raised."""

    def __init__(self, env: TargetEnvironment) -> None:
        self.env = env
        self.before = installed_dists(env)
        self.during_step: bool | None = None
        self.held_back = False
        self.raised = False
        self._handling = False

    @contextmanager
    def handling_interrupts(self) -> Iterator[None]:
        """SIGINT handled by :meth:`_interrupt` while the block runs. Only the main thread
        handles signals: elsewhere the block runs as it is (Python's KeyboardInterrupt)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = signal.signal(signal.SIGINT, self._interrupt)
        previous_hook = sys.unraisablehook
        sys.unraisablehook = self._unraisable(previous_hook)
        self._handling = True
        try:
            yield
        finally:
            sys.unraisablehook = previous_hook
            signal.signal(
                signal.SIGINT, signal.default_int_handler if previous is None else previous
            )

    @staticmethod
    def _unraisable(
        previous: Callable[[UnraisableHookArgs], object],
    ) -> Callable[[UnraisableHookArgs], object]:
        """Python drops an interrupt raised where it cannot propagate (a fork handler, as
        when the installer starts) and prints a traceback: deliver it again instead, a
        moment later from another thread (delivered here, it would land in this hook and
        be dropped again)."""

        def hook(unraisable: UnraisableHookArgs) -> object:
            if isinstance(unraisable.exc_value, KeyboardInterrupt):
                threading.Timer(_REDELIVERY_DELAY, os.kill, (os.getpid(), signal.SIGINT)).start()
                return None
            return previous(unraisable)

        return hook

    def ignore_further(self) -> None:
        """From now on Ctrl-C is ignored (while the outcome is worked out and reported)."""
        if self._handling:
            signal.signal(signal.SIGINT, signal.SIG_IGN)

    def _interrupt(self, _signum: int, _frame: FrameType | None) -> None:
        if isinstance(sys.exc_info()[1], KeyboardInterrupt):
            return  # an interrupt is being handled (a rollback under way): let it finish
        self.during_step = journal.pending(self.env)
        if not self.during_step and not self.held_back and installed_dists(self.env) != self.before:
            self.held_back = True  # committed: let the command finish; a second press stops it
            return
        self.raised = True
        raise KeyboardInterrupt


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
