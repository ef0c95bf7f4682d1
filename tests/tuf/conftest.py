"""A registry of its own signing TUF metadata for ``acme/signed``, with two releases of
``tufdemo`` uploaded one after the other and what an honest mirror served in between."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from anya_plugins.registry import server
from anya_plugins.registry.devpi import DevpiClient
from anya_plugins.registry.tuf_repository import TufCeremony, init_repository
from anya_plugins.sources.settings import parse_sources
from anya_plugins.sources.simple import SimpleIndex
from tests.registry_fixtures import metadata_wheel
from tests.tuf.attacker import Attacker, serve_attacker

INDEX = "acme/signed"
PROJECT = "tufdemo"
PASSWORD = "acme-tuf-password"


@dataclass(frozen=True)
class TufRegistry:
    url: str
    state_dir: Path
    ceremony: TufCeremony
    wheels: Path
    first_release: dict[str, bytes]
    """Everything an honest mirror served while only tufdemo 1.0 was on the index."""

    def upload(self, *files: Path) -> None:
        result = subprocess.run(
            [
                sys.executable, "-m", "twine", "upload", "--non-interactive",
                "--disable-progress-bar", "--repository-url", f"{self.url}/{INDEX}/",
                "-u", "acme", "-p", PASSWORD, *(str(f) for f in files),
            ],
            capture_output=True, text=True, check=False,
            env={"PATH": "/usr/bin:/bin", "HOME": str(self.wheels)},
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr


def tuf_index(source_url: str, root: Path, cache: Path) -> SimpleIndex:
    """The client of one source with TUF configured, as ``anya-ext`` builds it."""
    settings = parse_sources(
        {"primary": {"url": source_url, "tuf_root": str(root)}, "cache": {"dir": str(cache)}}
    )
    return SimpleIndex.from_settings(settings)


@pytest.fixture(scope="session")
def tuf_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TufRegistry]:
    base = tmp_path_factory.mktemp("tuf")
    ceremony = init_repository(base / "tuf", base / "offline", [INDEX])
    state_dir = base / "registry"
    running = server.start(state_dir, extra_options=[f"--anya-tuf={ceremony.directory}"])
    try:
        admin = DevpiClient(running.url)
        admin.login(running.admin)
        admin.create_user("acme", PASSWORD)
        admin.create_index(
            INDEX, {"type": "stage", "bases": [], "volatile": True, "acl_upload": ["acme"]}
        )
        wheels = base / "wheels"
        wheels.mkdir()
        registry = TufRegistry(running.url, state_dir, ceremony, wheels, {})
        registry.upload(metadata_wheel(wheels, PROJECT, version="1.0"))
        with serve_attacker(running.url) as honest:
            tuf_index(
                f"{honest.url}{INDEX}/+simple/", ceremony.trusted_root, base / "c1"
            ).project_page(PROJECT)
            registry.first_release.update(honest.recorded)
        registry.upload(metadata_wheel(wheels, PROJECT, version="2.0"))
        yield registry
    finally:
        server.stop(state_dir)


@pytest.fixture
def attacker(tuf_registry: TufRegistry) -> Iterator[Attacker]:
    with serve_attacker(tuf_registry.url) as mirror:
        yield mirror
