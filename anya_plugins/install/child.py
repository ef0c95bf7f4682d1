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


def _die_with(parent: int) -> Callable[[], None] | None:
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)

    def set_death_signal() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return set_death_signal


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
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` to completion, capturing its output; on any exception here (Ctrl-C
    included) the child is killed and waited for before the exception goes on.
    ``keep_fds`` are inherited by the child (the environment lock); ``environ`` is the
    base of its environment (ours by default). Raises OSError when the command cannot be
    started."""
    with subprocess.Popen(
        list(command),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_environment(environ),
        process_group=0,
        pass_fds=tuple(keep_fds),
        preexec_fn=_die_with(os.getpid()),  # runs only prctl and getppid after the fork
    ) as process:
        try:
            stdout, stderr = process.communicate()
        except BaseException:
            process.kill()
            process.wait()
            raise
        return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
