"""The ``anya-ext`` argument parser, built for the command being run.

Each built-in command lives in one ``*_cmd`` module, named in :data:`COMMAND_MODULES`. Running
a command imports only its module; the whole parser (every module, and the installed
extensions' commands) is built only for ``--help``, a word that is no built-in command, and
shell completion.
"""

from __future__ import annotations

import argparse
import os
import sys

from anya_plugins.cli import global_options
from anya_plugins.errors import UsageError

TYPE_CHECKING = False  # typing costs the start-up milliseconds
if TYPE_CHECKING:
    from typing import Any

PROG = "anya-ext"

COMMAND_MODULES: dict[str, str] = {
    "list": "extensions_cmd",
    "info": "extensions_cmd",
    "enable": "extensions_cmd",
    "disable": "extensions_cmd",
    "doctor": "extensions_cmd",
    "new": "extensions_cmd",
    "config": "config_cmd",
    "registry": "registry_cmd",
    "install": "install_cmd",
    "uninstall": "install_cmd",
    "update": "install_cmd",
    "outdated": "install_cmd",
    "lock": "install_cmd",
    "sync": "install_cmd",
    "verify": "install_cmd",
    "cache": "install_cmd",
    "publish": "publish_cmd",
    "sign": "publish_cmd",
    "yank": "releases_cmd",
    "unyank": "releases_cmd",
    "deprecate": "releases_cmd",
    "delete": "releases_cmd",
    "audit": "audit_cmd",
    "sbom": "audit_cmd",
    "audit-log": "audit_cmd",
    "search": "search_cmd",
    "mirrors": "mirrors_cmd",
    "review": "hub_cmd",
    "reviews": "hub_cmd",
    "collection": "hub_cmd",
    "trust": "trust_cmd",
    "analytics": "analytics_cmd",
    "recommend": "recommend_cmd",
    "completion": "completion",
    "compliance": "compliance_cmd",
    "enterprise": "enterprise_cmd",
}
"""Every built-in command and the module (in ``anya_plugins.cli``) whose
``register(commands, only=None)`` adds it: every command of the module, or only ``only``."""


class HelpFormatter(argparse.HelpFormatter):
    """argparse's, sized to the terminal without importing shutil (and bz2 and lzma with it,
    ~3 ms): argparse makes a formatter for every argument added, to check its metavar."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        width = _terminal_columns() - 2 if width is None else width
        super().__init__(prog, indent_increment, max_help_position, width)


def _terminal_columns() -> int:
    """``shutil.get_terminal_size().columns``: ``COLUMNS``, else the terminal's, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class TopParser(argparse.ArgumentParser):
    """A usage error is an :class:`UsageError` (exit 2, JSON with ``--json``), not argparse's
    own exit."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message, hint=f"see '{self.prog} --help'")


class CommandParser(TopParser):
    """A command's parser: it takes the global options too, and its own options win over
    them when they share a spelling (an extension's ``-v``, ``install --config``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("conflict_handler", "resolve")
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)
        global_options.add_to_command(self)


if TYPE_CHECKING:
    Commands = argparse._SubParsersAction[CommandParser]


def build_parser(command: str | None) -> tuple[TopParser, Commands]:
    """The parser with ``command`` alone, or every module's commands when ``command`` is not
    a built-in one (``None``: help, completion)."""
    parser = TopParser(
        prog=PROG,
        description="Install, inspect and configure Anya extensions.",
        allow_abbrev=False,
        epilog="Global options go before or after the command. "
        f"'{PROG} completion bash|zsh|fish' prints a shell completion script.",
    )
    global_options.add_to_top(parser)
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=CommandParser)
    module = COMMAND_MODULES.get(command or "")
    if module is not None:
        register_module(module, commands, command)
        return parser, commands
    for name in dict.fromkeys(COMMAND_MODULES.values()):
        register_module(name, commands)
    return parser, commands


def register_module(name: str, commands: Commands, only: str | None = None) -> None:
    """Add module ``name``'s commands, or only the command ``only`` (the one being run: a
    parser made for each command of ``list``'s module took ~1.7 ms of its start-up)."""
    # __import__ rather than importlib: the same import, and -X importtime shows it
    module = __import__(f"anya_plugins.cli.{name}", fromlist=["register"])
    module.register(commands, only)
