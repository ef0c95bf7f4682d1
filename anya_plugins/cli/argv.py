"""The command line read without a parser, before argparse is even imported: the global
options, the command word, and whether the command verifies signatures (its verifying
process is then started before anything else, :mod:`anya_plugins.cli.console`)."""

from __future__ import annotations

import os

VERIFYING_COMMANDS = frozenset({"install", "update", "sync"})
"""Commands that start the process verifying signatures as they begin
(:mod:`anya_plugins.trust.verify_process`)."""
HELP_OPTIONS = ("-h", "--help")

OWN_CONFIG_OPTION = frozenset({"install"})
"""Commands whose own ``--config`` (the deprecated spelling of ``install --save-config``)
takes the place of the global one after the command word."""


class GlobalOptions:
    """The global options as read from the raw arguments, and the command word: the first
    bare word that is not the value of a ``--config``. (A plain class: dataclasses would
    cost the CLI's start-up more than the rest of this module.)"""

    __slots__ = ("command", "config_overrides", "json", "quiet", "verbose")

    def __init__(
        self,
        json: bool = False,
        verbose: int = 0,
        quiet: int = 0,
        config_overrides: tuple[str, ...] = (),
        command: str | None = None,
    ) -> None:
        self.json = json
        self.verbose = verbose
        self.quiet = quiet
        self.config_overrides = config_overrides
        self.command = command


def scan(argv: list[str]) -> GlobalOptions:
    """The global options in ``argv``, read without a parser; never raises.

    After the command word, ``--config`` belongs to the command when it has one of its own
    (:data:`OWN_CONFIG_OPTION`). Nothing after ``--`` is an option.
    """
    json = False
    verbose = quiet = 0
    overrides: list[str] = []
    command: str | None = None
    position = 0
    while position < len(argv):
        arg = argv[position]
        position += 1
        if arg == "--":
            break
        global_config = command is None or command not in OWN_CONFIG_OPTION
        if arg == "--json":
            json = True
        elif arg == "--verbose":
            verbose += 1
        elif arg == "--quiet":
            quiet += 1
        elif _short_flags(arg):
            verbose += arg.count("v")
            quiet += arg.count("q")
        elif arg == "--config":
            if position < len(argv) and global_config:
                overrides.append(argv[position])
            position += 1
        elif arg.startswith("--config="):
            if global_config:
                overrides.append(arg.partition("=")[2])
        elif command is None and not arg.startswith("-"):
            command = arg
    return GlobalOptions(json, verbose, quiet, tuple(overrides), command)


def verifies(argv: list[str], options: GlobalOptions) -> bool:
    """Whether the command in ``argv`` verifies signatures: an install, update or sync that is
    not asked for its help, nor for shell completions."""
    return (
        options.command in VERIFYING_COMMANDS
        and "_ARGCOMPLETE" not in os.environ
        and not any(arg in HELP_OPTIONS for arg in argv)
    )


def _short_flags(arg: str) -> bool:
    """``-v``, ``-qq``, ``-vvq``...: only v and q after one dash (no ``re`` needed here)."""
    return len(arg) > 1 and arg[0] == "-" and not arg[1:].strip("vq")
