"""The {{ cookiecutter.name }} extension as the Anya host sees it.

These tests need the extension installed in the running environment
(``pip install -e .`` or the built wheel): the host finds it through its entry point.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import pytest
from anya_plugins import Command, Host

from {{ cookiecutter.__package_name }} import plugin

NAME = "{{ cookiecutter.name }}"


@pytest.fixture
def host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Host]:
    """A host that reads an empty configuration and keeps its data under tmp_path."""
    monkeypatch.setenv("ANYA_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("ANYA_DATA_DIR", str(tmp_path / "data"))
    with Host() as anya_host:
        yield anya_host


def greet_command(host: Host) -> Command:
    offered: list[Command] = [
        command for commands in host.call("anya_commands") for command in commands
    ]
    return next(command for command in offered if command.name == f"{NAME}-greet")


def run(command: Command, *argv: str) -> int | None:
    parser = argparse.ArgumentParser(prog=command.name)
    if command.add_arguments is not None:
        command.add_arguments(parser)
    return command.run(parser.parse_args(argv))


def test_host_discovers_the_extension_with_its_category(host: Host) -> None:
    extension = host.get(NAME)
    assert extension.status == "enabled", extension.error
    assert extension.category == "{{ cookiecutter.category }}"


def test_activation_makes_the_extension_active(host: Host) -> None:
    assert host.activate(NAME).status == "active", host.get(NAME).error


def test_deactivation_returns_the_extension_to_enabled(host: Host) -> None:
    host.activate(NAME)
    assert host.deactivate(NAME).status == "enabled"


def test_greet_command_greets_the_world_by_default(
    host: Host, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(greet_command(host)) == 0
    assert capsys.readouterr().out == "hello, world!\n"


def test_greet_command_greets_whom_it_is_told(
    host: Host, capsys: pytest.CaptureFixture[str]
) -> None:
    run(greet_command(host), "--who", "satoshi")
    assert capsys.readouterr().out == "hello, satoshi!\n"


def test_health_is_ok_once_active(host: Host) -> None:
    host.activate(NAME)
    assert host.health()[NAME].ok


def test_config_schema_defaults_the_greeting_and_refuses_unknown_keys() -> None:
    schema = plugin.anya_config_schema()
    assert schema["properties"]["greeting"]["default"] == "hello"
    assert schema["additionalProperties"] is False
