"""Building a project for ``anya-ext publish`` whatever file system TMPDIR is on."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from anya_plugins.authoring.new import new_extension
from anya_plugins.publish.building import build_project
from tests.registry_fixtures import PASSWORDS, Registry

SHARED_MEMORY = Path("/dev/shm")


@pytest.fixture
def other_file_system(tmp_path: Path) -> Iterator[Path]:
    """A directory on another file system than ``tmp_path``: /dev/shm when it is a separate
    tmpfs, else a tmpfs mounted for the test (root only); skipped when neither exists."""
    here = tmp_path.stat().st_dev
    if SHARED_MEMORY.is_dir() and SHARED_MEMORY.stat().st_dev != here:
        with tempfile.TemporaryDirectory(dir=SHARED_MEMORY, prefix="anya-test-") as directory:
            yield Path(directory)
        return
    mount_point = tmp_path / "tmpfs"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount_point)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(
            f"no second file system: /dev/shm is not a separate tmpfs here and mounting one "
            f"was refused ({mounted.stderr.strip()})"
        )
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return new_extension("crossing", "core/bitcoin", output_dir=tmp_path / "projects").path


@pytest.fixture
def tmpdir_elsewhere(other_file_system: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """TMPDIR (and this process's cached temporary directory) on the other file system."""
    monkeypatch.setenv("TMPDIR", str(other_file_system))
    monkeypatch.setattr(tempfile, "tempdir", str(other_file_system))
    return other_file_system


def test_the_fixture_really_is_another_file_system(tmpdir_elsewhere: Path, project: Path) -> None:
    assert tmpdir_elsewhere.stat().st_dev != project.stat().st_dev
    assert Path(tempfile.gettempdir()) == tmpdir_elsewhere


def test_a_project_builds_into_dist_with_tmpdir_on_another_file_system(
    tmpdir_elsewhere: Path, project: Path
) -> None:
    built = build_project(project, project / "dist", isolated=False)
    assert sorted(path.name for path in built) == [
        "anya_ext_crossing-0.1.0-py3-none-any.whl",
        "anya_ext_crossing-0.1.0.tar.gz",
    ]
    assert all(path.parent == project / "dist" and path.stat().st_size > 0 for path in built)
    assert sorted(path.name for path in (project / "dist").iterdir()) == sorted(
        path.name for path in built
    ), "the build's scratch directory was left behind"


def test_a_failed_build_leaves_no_scratch_in_the_output_directory(
    tmpdir_elsewhere: Path, project: Path
) -> None:
    from anya_plugins.publish.building import BuildFailed

    (project / "pyproject.toml").write_text("[project\nbroken")
    with pytest.raises(BuildFailed, match=r"^building .* failed"):
        build_project(project, project / "dist", isolated=False)
    assert list((project / "dist").iterdir()) == []


@pytest.mark.slow
def test_publish_of_a_project_with_tmpdir_on_another_file_system(
    registry: Registry, tmpdir_elsewhere: Path, project: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "anya_plugins.cli.main", "publish", str(project),
         "--index", "anya/primary", "--url", registry.url, *registry.signing_options()],
        capture_output=True, text=True, check=False,
        env={**os.environ, "ANYA_PUBLISH_PASSWORD": PASSWORDS["anya"]},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert sorted(path.name for path in (project / "dist").iterdir()) == [
        "anya_ext_crossing-0.1.0-py3-none-any.whl",
        "anya_ext_crossing-0.1.0-py3-none-any.whl.publish.attestation",
        "anya_ext_crossing-0.1.0.tar.gz",
        "anya_ext_crossing-0.1.0.tar.gz.publish.attestation",
    ]
