"""The sub-commands installed extensions contribute, and what to say when one is unavailable.

Only active extensions are asked for commands (``anya_commands``); a disabled, failed or
set-aside extension is never imported for it. So when the command word is nobody's, the
extension it most likely belongs to (the word is its name or starts with ``<name>-``, as the
template's commands do) is looked up among the extensions that are not active, and the
error says why its command is not there, instead of argparse's "invalid choice".
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from anya_plugins.errors import ExtensionFailure, UsageError

if TYPE_CHECKING:
    from anya_plugins.host.api import Command
    from anya_plugins.host.host import Host
    from anya_plugins.host.record import Extension

log = logging.getLogger(__name__)


def register_extension_commands(
    commands: argparse._SubParsersAction[Any], host: Host, builtin: Iterable[str]
) -> None:
    """Add every active extension's sub-commands; a clashing name is reported, not shadowed.
    A failing extension is one warning line (the host logs it); ``-v`` and ``anya-ext doctor``
    show its traceback."""
    from anya_plugins.host.api import Command

    taken = dict.fromkeys(builtin, "anya-ext")
    for extension, contributed in host.call_each("anya_commands"):
        for command in contributed or ():
            if not isinstance(command, Command):
                log.warning("extension %s returned a non-Command: %r", extension.name, command)
                continue
            if command.name in taken:
                log.warning(
                    "extension %s: command %r is already provided by %s; ignored",
                    extension.name,
                    command.name,
                    taken[command.name],
                )
                continue
            taken[command.name] = extension.name
            parser = commands.add_parser(command.name, help=f"{command.help} [{extension.name}]")
            if command.add_arguments is not None:
                command.add_arguments(parser)
            parser.set_defaults(handler=_run_extension_command(extension.name, command))


def unavailable_command(word: str, host: Host) -> UsageError | None:
    """Why ``word`` is no command, when it looks like an extension's that is not active."""
    from anya_plugins.host.record import ACTIVE, DISABLED

    owner = _likely_owner(word, (e for e in host.extensions if e.status != ACTIVE))
    if owner is None:
        return None
    if owner.status == DISABLED:
        return UsageError(
            f"{word!r} is a command of the extension {owner.name}, which is disabled",
            hint=f"anya-ext enable {owner.name}",
        )
    detail = f": {owner.error}" if owner.error else ""
    return UsageError(
        f"{word!r} is a command of the extension {owner.name}, which is {owner.status}{detail}",
        hint="anya-ext doctor",
    )


def _likely_owner(word: str, candidates: Iterable[Extension]) -> Extension | None:
    matches = [e for e in candidates if word == e.name or word.startswith(f"{e.name}-")]
    return max(matches, key=lambda e: len(e.name), default=None)


def _run_extension_command(name: str, command: Command) -> Callable[[argparse.Namespace], int]:
    def handler(args: argparse.Namespace) -> int:
        try:
            code = command.run(args)
        except Exception as error:
            raise ExtensionFailure(
                f"extension {name}: command {command.name!r} raised {type(error).__name__}: {error}"
            ) from error
        return int(code or 0)

    return handler
