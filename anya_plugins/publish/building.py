"""``python -m build``: the one adapter that turns a project directory into distributions.

The build writes into a scratch directory inside the output directory, on the same file
system as the files' destination, so moving them into place is a rename — whatever file
system TMPDIR is on (a tmpfs /tmp is common). A half-built file never appears in the
output directory, and a failure leaves no scratch behind.
"""

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
    try:
        outdir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".anya-build-", dir=outdir) as scratch:
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
    except OSError as error:
        raise BuildFailed(
            f"building {project} into {outdir} failed: {error}",
            hint="the output directory must be writable (it holds the build's scratch too)",
        ) from error
    return built
