"""``anya-ext registry tuf init|rotate``: the ceremony from the command line."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

from tuf.api.metadata import Metadata

from anya_plugins.registry.errors import RegistryError


def anya(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "anya_plugins.cli", *map(str, args)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_init_writes_offline_keys_apart_and_a_root_for_clients(tmp_path: Path) -> None:
    tuf, offline = tmp_path / "tuf", tmp_path / "offline"

    done = anya("--json", "registry", "tuf", "init", "--dir", tuf, "--offline-dir", offline,
                "--index", "acme/private", "--index", "anya/primary")  # fmt: skip

    assert done.returncode == 0, done.stderr
    ceremony = json.loads(done.stdout)
    assert ceremony["indexes"] == ["acme/private", "anya/primary"]
    assert sorted(p.name for p in offline.iterdir()) == ["root.pem", "targets.pem"]
    assert not list(tuf.rglob("root.pem")) and not list(tuf.rglob("targets.pem"))
    assert all(stat.S_IMODE(key.stat().st_mode) == 0o600 for key in tmp_path.rglob("*.pem"))
    root = Metadata.from_bytes(Path(ceremony["trusted_root"]).read_bytes())
    root.verify_delegate("root", root)


def test_rotating_the_root_key_signs_the_new_root_with_the_old_one_too(tmp_path: Path) -> None:
    tuf, offline = tmp_path / "tuf", tmp_path / "offline"
    anya("registry", "tuf", "init", "--dir", tuf, "--offline-dir", offline, "--index", "a/b")
    first = Metadata.from_bytes((tuf / "metadata" / "1.root.json").read_bytes())

    done = anya("--json", "registry", "tuf", "rotate", "root", "--dir", tuf,
                "--offline-dir", offline)  # fmt: skip

    assert done.returncode == 0, done.stderr
    second = Metadata.from_bytes((tuf / "metadata" / "2.root.json").read_bytes())
    first.verify_delegate("root", second)
    second.verify_delegate("root", second)


def test_a_role_that_is_no_index_is_refused_with_a_hint(tmp_path: Path) -> None:
    tuf, offline = tmp_path / "tuf", tmp_path / "offline"
    anya("registry", "tuf", "init", "--dir", tuf, "--offline-dir", offline, "--index", "a/b")

    done = anya("registry", "tuf", "rotate", "nonsense", "--dir", tuf, "--offline-dir", offline)

    assert done.returncode == RegistryError.exit_code
    assert "not an index name like user/index" in done.stderr
