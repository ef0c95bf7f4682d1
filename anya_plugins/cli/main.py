"""Entry point of ``anya-ext``: the parser, dispatch, and exit codes.

Exit codes: 0 success, 1 a check failed (doctor, verify...), 2 usage, and the
``exit_code`` of the AnyaError that stopped the command otherwise.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from anya_plugins.cli import (
    audit_cmd,
    config_cmd,
    extensions_cmd,
    install_cmd,
    publish_cmd,
    registry_cmd,
    releases_cmd,
    search_cmd,
    trust_cmd,
)
from anya_plugins.errors import AnyaError, UsageError

Handler = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message, hint=f"see '{self.prog} --help'")


def build_parser() -> tuple[argparse.ArgumentParser, argparse._SubParsersAction[_Parser]]:
    parser = _Parser(prog="anya-ext", description="Install, inspect and configure Anya extensions.")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--config",
        dest="config_overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a configuration value for this run (repeatable)",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0)
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    extensions_cmd.register(commands)
    config_cmd.register(commands)
    registry_cmd.register(commands)
    install_cmd.register(commands)
    publish_cmd.register(commands)
    releases_cmd.register(commands)
    audit_cmd.register(commands)
    search_cmd.register(commands)
    trust_cmd.register(commands)
    return parser, commands


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        return _run(args_list)
    except AnyaError as failure:
        from anya_plugins.cli import render

        render.error(failure.message, failure.hint)
        return failure.exit_code
    except KeyboardInterrupt:
        from anya_plugins.cli import render

        render.error("interrupted")
        return 130


def _recover_interrupted_install() -> None:
    """An install killed midway is rolled back before any command looks at the environment;
    one still running (its lock held) is left alone."""
    from anya_plugins.install.interrupted import interrupted_here

    if not interrupted_here():
        return
    from anya_plugins.cli import render
    from anya_plugins.install import journal
    from anya_plugins.install.environment import TargetEnvironment

    recovery = journal.recover(TargetEnvironment.of())
    if recovery is not None:
        render.error(
            f"an install was interrupted; rolled back ({recovery.removed} paths removed, "
            f"{recovery.restored} files restored)"
        )


def _run(argv: list[str]) -> int:
    _check_overrides(_overrides(argv))
    _recover_interrupted_install()
    parser, commands = build_parser()
    builtin = set(commands.choices)
    command = _command_word(argv)
    wants_help = command is None and any(arg in ("-h", "--help") for arg in argv)
    if (command is not None and command not in builtin) or wants_help:
        extensions_cmd.register_extension_commands(commands, builtin, _overrides(argv))
    args = parser.parse_args(argv)
    if args.version:
        from anya_plugins import __version__

        print(f"anya-ext {__version__}")
        return 0
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    return handler(args)


def _command_word(argv: list[str]) -> str | None:
    """The first bare word that is not the value of a global ``--config``."""
    position = _command_position(argv)
    return None if position is None else argv[position]


def _command_position(argv: list[str]) -> int | None:
    skip_next = False
    for position, arg in enumerate(argv):
        if skip_next:
            skip_next = False
        elif arg == "--config":
            skip_next = True
        elif not arg.startswith("-"):
            return position
    return None


def _overrides(argv: list[str]) -> list[str]:
    """The global ``--config`` values: those before the command word (after it, ``--config``
    is the command's own option, e.g. ``install --config``)."""
    end = _command_position(argv)
    end = len(argv) if end is None else end
    values = [argv[i + 1] for i in range(end - 1) if argv[i] == "--config"]
    return values + [arg.split("=", 1)[1] for arg in argv[:end] if arg.startswith("--config=")]


def _check_overrides(overrides: list[str]) -> None:
    """Refuse a malformed ``--config`` before anything reads the configuration or loads an
    extension (each would otherwise fail on it in turn)."""
    if not overrides:
        return
    from anya_plugins.config.layers import cli_settings
    from anya_plugins.errors import ConfigError

    try:
        cli_settings(overrides, {})
    except ConfigError as error:
        raise UsageError(error.message, hint=error.hint) from error


if __name__ == "__main__":
    raise SystemExit(main())
