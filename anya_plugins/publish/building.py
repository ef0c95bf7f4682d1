"""``python -m build``: the one adapter that turns a project directory into distributions."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from anya_plugins.errors import AnyaError


class BuildFailed(AnyaError):
    exit_code = 15


def build_project(project: Path, outdir: Path, *, isolated: bool = True) -> list[Path]:
    """Build a wheel and an sdist of ``project`` into ``outdir``; returns the new files."""
    if not (project / "pyproject.toml").is_file():
        raise BuildFailed(f"{project} has no pyproject.toml", hint="point at an extension project")
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="anya-build-") as scratch:
        command = [sys.executable, "-m", "build", "--outdir", scratch, str(project)]
        if not isolated:
            command.insert(3, "--no-isolation")
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise BuildFailed(
                f"building {project} failed:\n{(done.stderr or done.stdout).strip()[-3000:]}"
            )
        built = []
        for file in sorted(Path(scratch).iterdir()):
            target = outdir / file.name
            file.replace(target)
            built.append(target)
    return built
