"""The command line read before argparse: global options, the command word, and whether the
command starts the verifying process first."""

from __future__ import annotations

import pytest

from anya_plugins.cli.argv import scan, verifies


def test_global_options_before_and_after_the_command_word() -> None:
    options = scan(["-vv", "--json", "--config", "a.b=1", "list", "-q", "--config=c.d=2"])
    assert (options.command, options.json, options.verbose, options.quiet) == ("list", True, 2, 1)
    assert options.config_overrides == ("a.b=1", "c.d=2")


def test_a_config_value_is_not_the_command_and_nothing_after_dashes_is_an_option() -> None:
    assert scan(["--config", "install", "list"]).command == "list"
    assert scan(["list", "--", "-v", "--json"]).verbose == 0
    assert not scan(["list", "--", "--json"]).json


@pytest.mark.parametrize(
    ("argument", "verbose", "quiet"),
    [("-v", 1, 0), ("-vqv", 2, 1), ("-q", 0, 1), ("-x", 0, 0), ("-v-", 0, 0), ("-", 0, 0)],
)
def test_short_flags_are_only_v_and_q(argument: str, verbose: int, quiet: int) -> None:
    options = scan(["list", argument])
    assert (options.verbose, options.quiet) == (verbose, quiet)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["install", "hello"], True),
        (["-v", "update", "--all"], True),
        (["--config", "sources.primary.url=x", "sync", "anya.lock"], True),
        (["install", "--help"], False),
        (["-h", "install"], False),
        (["list"], False),
        (["--config", "install", "list"], False),
        ([], False),
    ],
)
def test_which_commands_start_the_verifying_process(argv: list[str], expected: bool) -> None:
    assert verifies(argv, scan(argv)) is expected


def test_shell_completion_never_starts_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_ARGCOMPLETE", "1")
    assert not verifies(["install", "hello"], scan(["install", "hello"]))
