"""Running uv or pip as a child that cannot outlive us.

The child gets its own process group, so a Ctrl-C at the terminal reaches only us and we
stop it ourselves before the journal rolls back; on Linux it is also killed by the kernel
the moment we die (``PR_SET_PDEATHSIG``), so a ``kill -9`` of anya-ext alone never leaves
an installer writing into an environment that the next command is rolling back. Loopback
addresses never go through a proxy: the resolver reads our checked pages on 127.0.0.1.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence

_PR_SET_PDEATHSIG = 1
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _in_child(parent: int) -> Callable[[], None]:
    """What the child runs between fork and exec: take SIGINT back (it was held while we
    forked) and, on Linux, ask to be killed when ``parent`` dies."""
    libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None

    def prepare() -> None:
        if hasattr(signal, "pthread_sigmask"):
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        if libc is not None:
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if os.getppid() != parent:  # the parent died before prctl took effect
                os._exit(1)

    return prepare


def _hold_interrupts() -> set[int | signal.Signals] | None:
    """Hold SIGINT while the child is being started: Python drops a signal that lands in
    the fork hooks (and logging's lock stays taken); held, it arrives once released.
    Returns the mask to restore (None where signals cannot be held)."""
    if not hasattr(signal, "pthread_sigmask"):
        return None
    return signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


def _release_interrupts(previous: set[int | signal.Signals] | None) -> None:
    if previous is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def child_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a resolver or installer: ours, with loopback exempt from proxies."""
    env = dict(os.environ if base is None else base)
    for key in ("NO_PROXY", "no_proxy"):
        listed = [item for item in env.get(key, "").split(",") if item.strip()]
        env[key] = ",".join(dict.fromkeys([*listed, *LOOPBACK]))
    return env


def run_child(
    command: Sequence[str],
    *,
    keep_fds: Sequence[int] = (),
    environ: Mapping[str, str] | None = None,
    meanwhile: Callable[[], object] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` to completion, capturing its output; on any exception here (Ctrl-C
    included) the child is killed and waited for before the exception goes on.
    ``keep_fds`` are inherited by the child (the environment lock); ``environ`` is the
    base of its environment (ours by default); ``meanwhile`` is called in this thread once
    the child runs, before waiting for it (work of our own done while the child works,
    without a thread of its own to take turns at the GIL with). Raises OSError when the
    command cannot be started."""
    held = _hold_interrupts()
    try:
        process = subprocess.Popen(
            list(command),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=child_environment(environ),
            process_group=0,
            pass_fds=tuple(keep_fds),
            preexec_fn=_in_child(os.getpid()),  # only signal calls run there, after the fork
        )
    except BaseException:
        _release_interrupts(held)
        raise
    with process:
        try:
            _release_interrupts(held)  # a Ctrl-C held meanwhile arrives here, child known
            if meanwhile is not None:
                meanwhile()
            stdout, stderr = process.communicate()
        except BaseException:
            process.kill()
            process.wait()
            raise
        return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
