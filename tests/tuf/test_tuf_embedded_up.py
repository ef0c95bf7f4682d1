"""``registry up --tuf DIR``: the embedded registry starts devpi with ``--anya-tuf DIR``,
remembers it like the other ``up`` options, and ``registry status`` says TUF is on and which
root clients set as ``tuf_root``."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from anya_plugins import EmbeddedRegistry, RegistryUpOptions
from anya_plugins.registry.errors import RegistryError
from anya_plugins.registry.tuf_repository import TufCeremony, init_repository

pytestmark = pytest.mark.slow

ANYA_EXT = str(Path(sys.executable).parent / "anya-ext")
INDEX = "anya/primary"
LAYOUT = f"""
[users.anya]
password_env = "ANYA_TEST_TUFUP_PASSWORD_UNSET"
[indexes."{INDEX}"]
volatile = true
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def ceremony(tmp_path: Path) -> TufCeremony:
    return init_repository(tmp_path / "tuf", tmp_path / "offline", [INDEX])


@pytest.fixture
def state_dir(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "state"
    try:
        yield directory
    finally:
        EmbeddedRegistry(directory).down()


def _timestamp(url: str) -> bytes:
    with urllib.request.urlopen(f"{url}/+tuf/metadata/timestamp.json", timeout=10) as response:
        return bytes(response.read())


def _status(state_dir: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ANYA_EXT, *options, "registry", "status", "--state-dir", str(state_dir),
         "--layout", str(state_dir.parent / "layout.toml")],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip


def test_up_with_tuf_signs_remembers_it_and_status_names_the_root(
    ceremony: TufCeremony, state_dir: Path, tmp_path: Path
) -> None:
    layout = tmp_path / "layout.toml"
    layout.write_text(LAYOUT)
    options = RegistryUpOptions(port=_free_port(), layout=layout, tuf=ceremony.directory)

    running = EmbeddedRegistry(state_dir).up(options)

    assert json.loads(_timestamp(running.url))["signed"]["_type"] == "timestamp"
    state = EmbeddedRegistry(state_dir).status(layout)
    assert state.tuf is not None
    assert (state.tuf.directory, state.tuf.tuf_root) == (
        ceremony.directory.resolve(),
        ceremony.trusted_root.resolve(),
    )
    assert state.tuf.indexes == (INDEX,)
    primary = {c.index: c for c in state.clients}[INDEX]
    assert f'tuf_root = "{ceremony.trusted_root.resolve()}"' in primary.toml

    shown = _status(state_dir)
    assert shown.returncode == 0, shown.stderr
    assert f"TUF: on, signing {INDEX}" in shown.stdout
    assert str(ceremony.trusted_root.resolve()) in shown.stdout
    as_json = json.loads(_status(state_dir, "--json").stdout)
    assert as_json["tuf"]["tuf_root"] == str(ceremony.trusted_root.resolve())

    # A running registry keeps its TUF directory: another one is refused.
    other = init_repository(tmp_path / "tuf2", tmp_path / "offline2", [INDEX])
    with pytest.raises(RegistryError, match="running with the TUF directory"):
        EmbeddedRegistry(state_dir).up(RegistryUpOptions(layout=layout, tuf=other.directory))

    # Remembered: up again without --tuf signs again.
    assert EmbeddedRegistry(state_dir).down()
    again = EmbeddedRegistry(state_dir).up(RegistryUpOptions(port=_free_port(), layout=layout))
    assert again.started
    assert json.loads(_timestamp(again.url))["signed"]["_type"] == "timestamp"


def test_without_tuf_status_says_it_is_off_and_up_refuses_a_directory_that_is_not_one(
    state_dir: Path, tmp_path: Path
) -> None:
    with pytest.raises(RegistryError, match=r"holds no N\.root\.json"):
        EmbeddedRegistry(state_dir).up(RegistryUpOptions(tuf=tmp_path))
    assert EmbeddedRegistry(state_dir).status().tuf is None
