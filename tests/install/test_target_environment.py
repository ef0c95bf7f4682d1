"""The target environment, told without running its interpreter when it is a venv of this
very Python, exactly as running it tells it; another venv is run (and remembered)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from packaging.tags import sys_tags

from anya_plugins.install.environment import TargetEnvironment
from tests.support import uv


def venv(path: Path) -> Path:
    subprocess.run(
        [uv(), "venv", "--quiet", "--seed", "--python", sys.executable, str(path)],
        check=True,
        capture_output=True,
    )
    return path / "bin" / "python"


def test_a_venv_of_this_python_is_told_without_running_it_as_running_it_tells(
    tmp_path: Path,
) -> None:
    python = venv(tmp_path / "venv")

    told = TargetEnvironment._venv_of_this_python(python)

    assert told is not None
    assert told == TargetEnvironment._probe(python)


def test_venvs_made_by_venv_and_virtualenv_are_told_as_running_them_tells(
    tmp_path: Path,
) -> None:
    """``python -m venv`` writes ``version = 3.11.7``, virtualenv (nox, tox) ``version_info =
    3.11.7.final.0``: both are venvs of this Python, told without running them."""
    made_by_venv = tmp_path / "stdlib"
    subprocess.run([sys.executable, "-m", "venv", str(made_by_venv)], check=True)
    like_virtualenv = venv(tmp_path / "virtualenv")
    config = tmp_path / "virtualenv" / "pyvenv.cfg"
    long_version = ".".join(map(str, sys.version_info[:5]))
    lines = [line for line in config.read_text().splitlines() if not line.startswith("version")]
    config.write_text("\n".join([*lines, f"version_info = {long_version}", ""]))

    for python in (made_by_venv / "bin" / "python", like_virtualenv):
        told = TargetEnvironment._venv_of_this_python(python)
        assert told is not None, python
        run = TargetEnvironment._probe(python)
        # the probe asks the target's own packaging for the tags: venv's bundled pip vendors
        # an older one (linux_x86_64 ordered first); told, they are this packaging's
        assert replace(told, tags=()) == replace(run, tags=())
        assert told.tags == tuple(str(tag) for tag in sys_tags())


def test_a_venv_whose_pyvenv_cfg_names_another_python_is_run(tmp_path: Path) -> None:
    python = venv(tmp_path / "venv")
    config = tmp_path / "venv" / "pyvenv.cfg"
    config.write_text(config.read_text().replace("version_info = ", "version_info = 0."))

    assert TargetEnvironment._venv_of_this_python(python) is None
    assert TargetEnvironment.of(python).prefix == tmp_path / "venv"


def test_an_environment_is_inspected_again_once_its_venv_is_made_again(tmp_path: Path) -> None:
    python = venv(tmp_path / "venv")
    first = TargetEnvironment.of(python)
    assert TargetEnvironment.of(python) is first

    config = tmp_path / "venv" / "pyvenv.cfg"
    config.write_text(config.read_text() + "\n")  # made again: its pyvenv.cfg changed

    assert TargetEnvironment.of(python) is not first
