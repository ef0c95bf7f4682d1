"""The options every ``anya-ext`` command takes, before or after the command word.

``--json``, ``-v``/``--verbose``, ``-q``/``--quiet`` and ``--config KEY=VALUE`` (one run) go
on the top-level parser and on every command's parser. On a command's parser they store into
their own ``late_*`` destinations with no default, so a value given after the command adds
to the one given before it instead of replacing it (argparse copies a sub-parser's namespace
over its parent's); :func:`merge_late` folds them together after parsing.

:func:`~anya_plugins.cli.argv.scan` reads the same options from the raw arguments without a
parser (and without argparse): logging, the error format and the overrides extensions are
loaded with are needed before the parser exists.
"""

from __future__ import annotations

import argparse

TYPE_CHECKING = False  # typing costs the start-up milliseconds
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any


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
