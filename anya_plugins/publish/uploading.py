"""twine: the one adapter that uploads distributions to an index."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from anya_plugins.errors import AnyaError
from anya_plugins.registry.devpi import Credentials


class UploadFailed(AnyaError):
    exit_code = 15


def upload(
    files: Sequence[Path],
    repository_url: str,
    credentials: Credentials,
    *,
    attestations: Sequence[Path] = (),
) -> None:
    """``twine upload``; PEP 740 attestation files go along (twine pairs each with its file)."""
    command = [
        sys.executable, "-m", "twine", "upload", "--non-interactive", "--disable-progress-bar",
        "--repository-url", repository_url, *(str(f) for f in (*files, *attestations)),
    ]  # fmt: skip
    if attestations:
        command.insert(6, "--attestations")
    env = {**os.environ, "TWINE_USERNAME": credentials.user, "TWINE_PASSWORD": credentials.password}
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        raise UploadFailed(
            f"uploading to {repository_url} failed:\n{(done.stderr or done.stdout).strip()}"
        )
