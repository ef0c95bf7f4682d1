"""The options every ``anya-ext`` command takes, before or after the command word.

``--json``, ``-v``/``--verbose``, ``-q``/``--quiet`` and ``--config KEY=VALUE`` (one run) go
on the top-level parser and on every command's parser. On a command's parser they store into
their own ``late_*`` destinations with no default, so a value given after the command adds
to the one given before it instead of replacing it (argparse copies a sub-parser's namespace
over its parent's); :func:`merge_late` folds them together after parsing.

:func:`scan` reads the same options from the raw arguments without a parser: logging, the
error format and the overrides extensions are loaded with are needed before the parser exists.
"""

from __future__ import annotations

import argparse
import re

TYPE_CHECKING = False  # typing costs the start-up milliseconds
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

OWN_CONFIG_OPTION = frozenset({"install"})
"""Commands whose own ``--config`` (the deprecated spelling of ``install --save-config``)
takes the place of the global one after the command word."""

_SHORT_FLAGS = re.compile(r"^-[vq]+$")


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


def add_to_top(parser: argparse.ArgumentParser) -> None:
    """The global options on the top-level parser, with their defaults."""
    _add(parser, late=False)


def add_to_command(parser: argparse.ArgumentParser) -> None:
    """The global options on a command's parser: no defaults, ``late_*`` destinations."""
    _add(parser, late=True)


def _add(parser: argparse.ArgumentParser, *, late: bool) -> None:
    group = parser.add_argument_group("global options (before or after the command)")
    prefix = "late_" if late else ""

    def default(value: object) -> object:
        return argparse.SUPPRESS if late else value

    group.add_argument(
        "--json", dest="json", action="store_true", default=default(False),
        help="machine-readable output; errors as JSON on stderr",
    )  # fmt: skip
    group.add_argument(
        "-v", "--verbose", dest=f"{prefix}verbose", action="count", default=default(0),
        help="more detail (-vv: debug): which mirror served, which resolver ran, timings",
    )  # fmt: skip
    group.add_argument(
        "-q", "--quiet", dest=f"{prefix}quiet", action="count", default=default(0),
        help="no progress or notes, only results and errors",
    )  # fmt: skip
    group.add_argument(
        "--config", dest=f"{prefix}config_overrides", action="append", metavar="KEY=VALUE",
        default=default([]),
        help="override a configuration value for this run only (repeatable; "
        "'install --save-config' stores one instead)",
    )  # fmt: skip


def merge_late(args: argparse.Namespace) -> argparse.Namespace:
    """Add the values given after the command to those given before it."""
    late = vars(args)
    args.verbose = args.verbose + late.pop("late_verbose", 0)
    args.quiet = args.quiet + late.pop("late_quiet", 0)
    args.config_overrides = [*args.config_overrides, *late.pop("late_config_overrides", [])]
    return args


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
        elif _SHORT_FLAGS.match(arg):
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


class DeprecatedSpelling(argparse._AppendAction):
    """``append``, warning when the option is given under its old spelling (``old``)."""

    def __init__(self, *args: object, old: str, new: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.old = old
        self.new = new

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        if option_string == self.old:
            import sys

            print(
                f"warning: {self.old} is deprecated here: it is spelt {self.new} (stored for the "
                "extension); the global --config KEY=VALUE, before or after the command, sets a "
                "value for one run only",
                file=sys.stderr,
                flush=True,
            )
        super().__call__(parser, namespace, values, option_string)
