"""Scratch directories: gone after their step, and those a killed process left are swept."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from anya_plugins.install import scratch
from anya_plugins.install.scratch import scratch_dir, sweep

HOLD = """
import sys, time
from anya_plugins.install.scratch import scratch_dir
with scratch_dir("download") as path:
    (path / "wheel.whl").write_bytes(b"x" * 1024)
    print(path, flush=True)
    time.sleep(120)
"""


def _holder() -> tuple[subprocess.Popen[str], Path]:
    """A process holding a scratch directory (in its TMPDIR, ours), and that directory."""
    process = subprocess.Popen([sys.executable, "-c", HOLD], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    return process, Path(process.stdout.readline().strip())


def _left_by_a_killed_process() -> Path:
    """A scratch directory whose maker was killed (SIGKILL) while holding it."""
    killed, left = _holder()
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    return left


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then), follow_symlinks=False)


@pytest.fixture
def tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The system's temporary directory, for this process and its children, is ``tmp``."""
    directory = tmp_path / "tmp"
    directory.mkdir()
    monkeypatch.setenv("TMPDIR", str(directory))
    monkeypatch.setattr("tempfile.tempdir", None)
    yield directory


def test_a_scratch_directory_lives_as_long_as_its_step(tmp: Path) -> None:
    with scratch_dir("download") as path:
        assert path.parent == tmp and path.name.startswith("anya-scratch-download-")
        (path / "file").write_text("x")
    assert not path.exists()
    with pytest.raises(RuntimeError), scratch_dir("install") as path:
        raise RuntimeError
    assert not path.exists()
    assert list(tmp.iterdir()) == []


def test_only_what_a_dead_process_left_is_swept(tmp: Path) -> None:
    dead = _left_by_a_killed_process()
    live_process, live = _holder()
    try:
        young = tmp / "anya-scratch-download-young"
        young.mkdir()
        target = tmp / "elsewhere"
        target.mkdir()
        (target / "keep").write_text("x")
        link = tmp / "anya-scratch-download-link"
        link.symlink_to(target)
        old_legacy, new_legacy = tmp / "anya-download-old", tmp / "anya-install-new"
        unrelated = tmp / "someone-else"
        for directory in (old_legacy, new_legacy, unrelated):
            directory.mkdir()
        for path in (dead, live, link, target):
            _age(path, 2 * scratch.GRACE_SECONDS)
        _age(old_legacy, 2 * scratch.LEGACY_AGE_SECONDS)
        _age(new_legacy, scratch.LEGACY_AGE_SECONDS / 2)
        _age(unrelated, 2 * scratch.LEGACY_AGE_SECONDS)

        assert sorted(sweep(tmp)) == sorted([dead, old_legacy])

        assert not dead.exists() and not old_legacy.exists()
        assert (live / "wheel.whl").exists(), "a live process's directory was swept"
        assert young.is_dir() and new_legacy.is_dir() and unrelated.is_dir()
        assert link.is_symlink() and (target / "keep").exists()
    finally:
        live_process.kill()
        live_process.wait()


def test_the_first_scratch_directory_of_a_process_sweeps(tmp: Path) -> None:
    dead = _left_by_a_killed_process()
    assert (dead / "wheel.whl").exists()
    _age(dead, 2 * scratch.GRACE_SECONDS)
    subprocess.run(
        [
            sys.executable,
            "-c",
            "from anya_plugins.install.scratch import scratch_dir\n"
            "with scratch_dir('install'): pass",
        ],
        check=True,
    )
    assert list(tmp.iterdir()) == []
