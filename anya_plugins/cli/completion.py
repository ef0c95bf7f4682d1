"""Shell completion (bash, zsh, fish) with argcomplete, installed extensions' commands included.

``anya-ext completion SHELL`` prints the script that registers it; the shell then runs
``anya-ext`` with ``_ARGCOMPLETE`` set, and :func:`complete` answers from the whole parser
(built only then: every command module, and the active extensions' commands).
"""

from __future__ import annotations

import argparse
from typing import Any

from anya_plugins.cli import render

SHELLS = ("bash", "zsh", "fish")

SETUP = {
    "bash": 'eval "$(anya-ext completion bash)"        # in ~/.bashrc',
    "zsh": 'eval "$(anya-ext completion zsh)"         # in ~/.zshrc (after compinit)',
    "fish": "anya-ext completion fish | source         # in ~/.config/fish/config.fish",
}


def register(commands: argparse._SubParsersAction[Any], only: str | None = None) -> None:
    """Add this module's one command (``only`` is it, or None for every command)."""
    completion = commands.add_parser(
        "completion",
        help="print the shell completion script (bash, zsh, fish)",
        description="Print a script that makes the shell complete anya-ext's commands and "
        "options, the installed extensions' commands included. Set-up: "
        + "; ".join(SETUP.values()),
    )
    completion.add_argument("shell", choices=SHELLS)
    completion.set_defaults(handler=completion_command)


def completion_command(args: argparse.Namespace) -> int:
    from argcomplete.shell_integration import shellcode

    render.say(shellcode(["anya-ext"], shell=args.shell))
    return 0


def complete(parser: argparse.ArgumentParser) -> None:
    """Write the completions for the shell's command line and exit (argcomplete's protocol)."""
    import argcomplete

    argcomplete.autocomplete(parser, always_complete_options="long")
