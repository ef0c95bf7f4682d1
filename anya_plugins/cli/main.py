"""Entry point of ``anya-ext``: the parser, dispatch, and exit codes.

Exit codes: 0 success, 1 a check failed (doctor, verify...), 2 usage, 141 the reader of
standard output went away (``anya-ext list | head -1``: as for a process SIGPIPE ends,
quietly), and the ``exit_code`` of the AnyaError that stopped the command otherwise. With
``--json`` an error is one JSON object on stderr
(``{"error": {"type", "message", "hint", "exit_code"}}``).
"""

from __future__ import annotations

import os
import sys

from anya_plugins.cli import global_options
from anya_plugins.cli.argv import HELP_OPTIONS, GlobalOptions, scan, verifies
from anya_plugins.errors import AnyaError, UsageError

TYPE_CHECKING = False  # typing costs the start-up milliseconds
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Sequence

    from anya_plugins.cli.parser import Commands

    Handler = Callable[[argparse.Namespace], int]

INTERRUPTED_EXIT = 130
CLOSED_OUTPUT_EXIT = 141
"""128 + SIGPIPE: what a shell reports for ``yes | head -1``'s ``yes``."""


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    options = scan(args_list)
    if options.verbose or options.quiet:
        from anya_plugins.cli import logs

        logs.configure(options.verbose, options.quiet)
    try:
        exit_code = _run(args_list, options)
        sys.stdout.flush()  # here, where a reader gone away is handled below, not at exit
        return exit_code
    except AnyaError as failure:
        _report(failure, failure.exit_code, options)
        return failure.exit_code
    except KeyboardInterrupt:
        _report(AnyaError("interrupted"), INTERRUPTED_EXIT, options)
        return INTERRUPTED_EXIT
    except BrokenPipeError:
        if not _stdout_closed():
            raise  # a pipe or socket of the command's own, not its reader going away
        # Python flushes stdout once more at exit: let that write go nowhere
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return CLOSED_OUTPUT_EXIT


def _stdout_closed() -> bool:
    """Whether nothing reads standard output any more (a pipe whose reader exited)."""
    import select

    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _fd, events in poller.poll(0))
    except (AttributeError, OSError, ValueError):  # no poll(), no file descriptor
        return False


def _report(failure: AnyaError, exit_code: int, options: GlobalOptions) -> None:
    """The error as text (``error:``/``hint:`` lines) or, with ``--json``, as JSON; with
    ``-v`` the traceback of what caused it (an extension's command that raised)."""
    cause = failure.__cause__
    if options.verbose and cause is not None and not isinstance(cause, AnyaError):
        import logging

        logging.getLogger("anya_plugins.cli").info(
            "caused by:", exc_info=(type(cause), cause, cause.__traceback__)
        )
    if options.json:
        import json

        document = {
            "error": {
                "type": type(failure).__name__,
                "message": failure.message,
                "hint": failure.hint,
                "exit_code": exit_code,
            }
        }
        print(json.dumps(document, sort_keys=True), file=sys.stderr, flush=True)
        return
    from anya_plugins.cli import render

    render.error(failure.message, failure.hint)


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


def _run(argv: list[str], options: GlobalOptions) -> int:
    completing = "_ARGCOMPLETE" in os.environ  # the shell asks for completions
    command = None if completing else options.command
    wants_help = command is None and any(arg in HELP_OPTIONS for arg in argv)
    if verifies(argv, options):  # started already by the console script, else now
        from anya_plugins.trust.verify_process import start_ahead

        start_ahead()  # first: its imports overlap all of the command's; ended if unneeded
    from anya_plugins.cli.parser import COMMAND_MODULES, build_parser

    _check_overrides(list(options.config_overrides))
    _recover_interrupted_install()
    parser, commands = build_parser(command)
    if command not in COMMAND_MODULES and (command is not None or wants_help or completing):
        _add_extension_commands(commands, options)
    if completing:
        from anya_plugins.cli.completion import complete

        complete(parser)
    try:
        args = global_options.merge_late(parser.parse_args(argv))
    except UsageError as error:
        if command in COMMAND_MODULES and error.message.startswith("unrecognized arguments"):
            error.hint = f"see 'anya-ext {command} --help'"  # not the top-level help
        raise
    if args.version:
        from anya_plugins import __version__

        print(f"anya-ext {__version__}")
        return 0
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    if args.config_overrides != list(options.config_overrides):
        _check_overrides(args.config_overrides)
    if command in ("install", "update", "sync") and not getattr(args, "json", False):
        from anya_plugins.cli.analytics_cmd import ask_consent_once

        ask_consent_once()
    return handler(args)


def _add_extension_commands(commands: Commands, options: GlobalOptions) -> None:
    """The active extensions' commands; an unknown word that is a command of an extension
    that is not active says so (disabled: how to enable it)."""
    from anya_plugins.cli.extension_commands import register_extension_commands, unavailable_command
    from anya_plugins.cli.parser import COMMAND_MODULES
    from anya_plugins.host.host import Host

    host = Host(config_overrides=options.config_overrides)
    register_extension_commands(commands, host, COMMAND_MODULES)
    word = options.command
    if word is not None and word not in commands.choices:
        unavailable = unavailable_command(word, host)
        if unavailable is not None:
            raise unavailable


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
