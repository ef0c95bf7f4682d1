"""Work of our own done while the installer runs (the receipts): in the calling thread, while
the child works, and its failure raised only once the installer's own is ruled out.

Real children: a Python process for the timing, the real uv against a throwaway venv for
the order of failures (uv given nothing to install, or a file that is not there).
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

from anya_plugins.install.child import run_child
from anya_plugins.install.environment import TargetEnvironment
from anya_plugins.install.installer import InstallStepFailed, UvInstaller, VerifiedFile
from anya_plugins.install.resolver import find_uv
from tests.support import VenvFactory

_WAIT_FOR_MARKER = (
    "import os, sys, time\n"
    "deadline = time.monotonic() + 20\n"
    "while not os.path.exists(sys.argv[1]) and time.monotonic() < deadline:\n"
    "    time.sleep(0.01)\n"
    "sys.exit(0 if os.path.exists(sys.argv[1]) else 3)\n"
)


def test_meanwhile_runs_in_this_thread_while_the_child_still_runs(tmp_path: Path) -> None:
    marker = tmp_path / "written-meanwhile"
    threads = []

    def meanwhile() -> None:
        threads.append(threading.current_thread())
        marker.write_text("done")

    done = run_child([sys.executable, "-c", _WAIT_FOR_MARKER, str(marker)], meanwhile=meanwhile)

    # the child exits 0 only if the marker appeared while it was waiting for it
    assert done.returncode == 0, done.stderr
    assert threads == [threading.current_thread()]


class _ReceiptsFailed(OSError):
    pass


def _fail() -> None:
    raise _ReceiptsFailed("no space left for the receipts")


def test_a_failure_meanwhile_fails_the_step_once_the_installer_succeeded(
    make_venv: VenvFactory,
) -> None:
    env = TargetEnvironment.of(make_venv().python)
    uv = find_uv()
    assert uv is not None

    with pytest.raises(_ReceiptsFailed, match="no space left"):
        UvInstaller(uv).install(env, [], meanwhile=_fail)


def test_the_installers_own_failure_comes_before_one_meanwhile(
    make_venv: VenvFactory, tmp_path: Path
) -> None:
    env = TargetEnvironment.of(make_venv().python)
    before = env.installed_versions()
    uv = find_uv()
    assert uv is not None
    missing = VerifiedFile(
        "anya-ext-missing", "1.0.0", tmp_path / "anya_ext_missing-1.0.0-py3-none-any.whl", "0" * 64
    )

    with pytest.raises(InstallStepFailed, match="the installer failed during install"):
        UvInstaller(uv).install(env, [missing], meanwhile=_fail)
    assert env.installed_versions() == before
