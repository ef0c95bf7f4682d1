"""Client settings follow the embedded registry: ``registry up --port P`` moves the default
sources to P (unless the user configured them), and ``registry status`` shows what a client
writes for each index."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from anya_plugins.registry.client_settings import client_settings
from anya_plugins.registry.embedded import default_layout
from anya_plugins.registry.layout import Layout, load_layout
from anya_plugins.sources.local_registry import URL_FILE
from anya_plugins.sources.settings import DEFAULT_URLS, parse_sources

ANYA_EXT = str(Path(sys.executable).parent / "anya-ext")


def test_default_sources_follow_the_url_the_state_directory_records(tmp_path: Path) -> None:
    (tmp_path / URL_FILE).write_text("http://127.0.0.1:4321\n")

    settings = parse_sources({}, environ={"ANYA_REGISTRY_DIR": str(tmp_path)})

    assert settings.primary.url == "http://127.0.0.1:4321/anya/primary/+simple/"
    assert settings.community.url == "http://127.0.0.1:4321/community/verified/+simple/"


def test_a_configured_source_url_wins_over_the_registry_state(tmp_path: Path) -> None:
    (tmp_path / URL_FILE).write_text("http://127.0.0.1:4321\n")
    configured = "https://pkgs.example/anya/primary/+simple/"

    settings = parse_sources(
        {"primary": {"url": configured}}, environ={"ANYA_REGISTRY_DIR": str(tmp_path)}
    )

    assert settings.primary.url == configured
    assert settings.community.url == "http://127.0.0.1:4321/community/verified/+simple/"


@pytest.mark.parametrize("content", [None, "", "not a url\n"])
def test_without_a_usable_record_the_defaults_are_port_3141(
    tmp_path: Path, content: str | None
) -> None:
    if content is not None:
        (tmp_path / URL_FILE).write_text(content)

    settings = parse_sources({}, environ={"ANYA_REGISTRY_DIR": str(tmp_path)})

    assert (settings.primary.url, settings.community.url) == (
        DEFAULT_URLS["primary"],
        DEFAULT_URLS["community"],
    )


def test_client_settings_name_the_source_and_the_pip_and_uv_index_url() -> None:
    clients = {c.index: c for c in client_settings("http://127.0.0.1:4321/", _layout())}

    primary = clients["anya/primary"]
    assert primary.simple_url == "http://127.0.0.1:4321/anya/primary/+simple/"
    assert primary.toml == (
        '[sources.primary]\nurl = "http://127.0.0.1:4321/anya/primary/+simple/"'
    )
    assert primary.pip == f"pip install --index-url {primary.simple_url} NAME"
    assert primary.uv == f"uv pip install --index-url {primary.simple_url} NAME"
    assert clients["community/verified"].source == "community"
    private = clients["acme/private"]
    assert private.source == "enterprise.acme"
    assert private.toml.startswith("[sources.enterprise.acme]\n")
    assert "credentials" in private.toml
    assert clients["community/experimental"].toml == ""


def _layout() -> Layout:
    return load_layout(default_layout())


@dataclass(frozen=True)
class Cli:
    env: dict[str, str]
    home: Path

    def __call__(self, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [ANYA_EXT, *args],
            capture_output=True,
            text=True,
            env={**self.env, **extra},
            cwd=self.home,
            check=False,
            timeout=180,
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def moved_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cli, int]]:
    """``anya-ext registry up --port P`` in a fresh state directory, as a user would run it."""
    work = tmp_path_factory.mktemp("moved-registry")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ANYA_SOURCES__", "ANYA_CONFIG"))
    }
    env.update(
        HOME=str(work),
        ANYA_CONFIG=str(work / "extensions.toml"),
        ANYA_DATA_DIR=str(work / "data"),
        ANYA_CACHE_DIR=str(work / "cache"),
        ANYA_REGISTRY_DIR=str(work / "registry"),
        # No internet in the tests: the upstream mirror points at a closed port.
        ANYA_REGISTRY_UPSTREAM_URL="http://127.0.0.1:9/simple/",
    )
    cli = Cli(env, work)
    port = _free_port()
    up = cli("registry", "up", "--port", str(port))
    assert up.returncode == 0, up.stdout + up.stderr
    try:
        yield cli, port
    finally:
        down = cli("registry", "down")
        assert down.returncode == 0, down.stdout + down.stderr


@pytest.mark.slow
def test_search_reaches_the_registry_on_its_port_without_configuration(
    moved_registry: tuple[Cli, int],
) -> None:
    cli, _ = moved_registry

    done = cli("--json", "search", "anything")

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) is not None


@pytest.mark.slow
def test_install_asks_the_registry_on_its_port_without_configuration(
    moved_registry: tuple[Cli, int], tmp_path: Path
) -> None:
    cli, port = moved_registry

    done = cli("install", "--dry-run", "anya-ext-no-such-thing")

    assert done.returncode != 0
    assert f"127.0.0.1:{port}/anya/primary/+simple/" in done.stderr, done.stderr
    assert "3141" not in done.stderr


@pytest.mark.slow
def test_an_explicitly_configured_source_wins_over_the_running_registry(
    moved_registry: tuple[Cli, int],
) -> None:
    cli, port = moved_registry
    elsewhere = f"http://127.0.0.1:{_free_port()}/team/index/+simple/"

    done = cli(
        "install", "--dry-run", "anya-ext-no-such-thing", ANYA_SOURCES__PRIMARY__URL=elsewhere
    )

    assert done.returncode != 0
    assert elsewhere.removesuffix("/+simple/") in done.stderr, done.stderr
    assert f":{port}/" not in done.stderr


@pytest.mark.slow
def test_status_prints_the_client_settings_of_each_index(
    moved_registry: tuple[Cli, int],
) -> None:
    cli, port = moved_registry

    text = cli("registry", "status")
    document = json.loads(cli("--json", "registry", "status").stdout)

    assert text.returncode == 0, text.stderr
    url = f"http://127.0.0.1:{port}/anya/primary/+simple/"
    assert f'[sources.primary]\n    url = "{url}"' in text.stdout
    assert f"pip: pip install --index-url {url} NAME" in text.stdout
    assert f"uv:  uv pip install --index-url {url} NAME" in text.stdout
    clients = {client["index"]: client for client in document["clients"]}
    assert clients["community/verified"]["source"] == "community"
    assert document["running"] is True
