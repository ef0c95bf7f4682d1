"""The embedded devpi-server: start once per state directory, status, stop, clear failures."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest

from anya_plugins.registry import server
from anya_plugins.registry.devpi import DevpiClient
from anya_plugins.registry.errors import ServerError
from anya_plugins.registry.indexconfig import FEATURE
from tests.registry_fixtures import Registry


def test_empty_state_directory_is_neither_initialised_nor_running(tmp_path: Path) -> None:
    current = server.status(tmp_path)

    assert (current.initialised, current.running, current.url, current.pid) == (
        False,
        False,
        None,
        None,
    )


def test_pid_file_of_another_process_does_not_count_as_running(tmp_path: Path) -> None:
    (tmp_path / server.PID_FILE).write_text(f"{os.getpid()}\n")

    assert not server.status(tmp_path).running
    assert server.stop(tmp_path) is False
    assert not (tmp_path / server.PID_FILE).exists()


def test_admin_credentials_of_an_unprepared_directory_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ServerError, match="root-password is missing") as raised:
        server.admin_credentials(tmp_path)

    assert raised.value.hint is not None and "start the registry" in raised.value.hint


@pytest.mark.slow
def test_status_reports_the_running_registry(registry: Registry) -> None:
    current = server.status(registry.state_dir)

    assert current.running and current.initialised
    assert current.url == registry.url
    assert current.pid is not None


@pytest.mark.slow
def test_starting_a_running_registry_again_is_refused(registry: Registry) -> None:
    with pytest.raises(ServerError, match="already running"):
        server.start(registry.state_dir)


@pytest.mark.slow
def test_secrets_are_readable_by_the_owner_only(registry: Registry) -> None:
    secrets = registry.state_dir / server.SECRETS_DIR

    assert stat.S_IMODE(secrets.stat().st_mode) == 0o700
    for name in ("secret", "root-password"):
        assert stat.S_IMODE((secrets / name).stat().st_mode) == 0o600


@pytest.mark.slow
def test_stopped_registry_starts_again_with_its_data_and_root_password(tmp_path: Path) -> None:
    first = server.start(tmp_path / "state")
    client = DevpiClient(first.url)
    client.login(first.admin)
    client.create_index("root/kept", {"type": "anya"})

    assert server.stop(tmp_path / "state") is True
    assert not server.status(tmp_path / "state").running
    assert server.stop(tmp_path / "state") is False

    second = server.start(tmp_path / "state")
    try:
        assert second.admin == first.admin
        assert FEATURE in DevpiClient(second.url).features()
        assert DevpiClient(second.url).index("root/kept") is not None
    finally:
        server.stop(tmp_path / "state")


@pytest.mark.slow
def test_server_that_cannot_start_is_reported_with_the_end_of_its_log(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ServerError) as raised:
            server.start(tmp_path, port=port, timeout=60)

    message = str(raised.value)
    assert "devpi-server exited with code" in message
    assert f"--- end of {tmp_path / server.LOG_FILE} ---" in message
    assert "address already in use" in message.lower()
    assert not server.status(tmp_path).running
