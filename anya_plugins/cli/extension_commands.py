"""The sub-commands installed extensions contribute, and what to say when one is unavailable.

Only active extensions are asked for commands (``anya_commands``); a disabled, failed or
set-aside extension is never imported for it. So the commands each extension contributed
are remembered (``extension-commands.json`` in the host's cache directory, beside the
discovery cache), and when the command word is nobody's, the extension that contributed it
last time (else the one whose name it starts with, ``<name>-``, as the template's commands
do) is looked up among the extensions that are not active: the error says why its command is
not there, instead of argparse's "invalid choice".
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
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
    _remember({name: owner for name, owner in taken.items() if owner != "anya-ext"})


def unavailable_command(word: str, host: Host) -> UsageError | None:
    """Why ``word`` is no command, when it looks like an extension's that is not active."""
    from anya_plugins.host.record import ACTIVE, DISABLED

    inactive = {e.name: e for e in host.extensions if e.status != ACTIVE}
    owner = inactive.get(_remembered().get(word, "")) or _likely_owner(word, inactive.values())
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


def _memory_file() -> Path:
    from anya_plugins.host.cache import default_cache_dir

    return Path(default_cache_dir()) / "extension-commands.json"


def _remembered() -> dict[str, str]:
    """Command -> extension, as last seen active; nothing if unreadable."""
    try:
        document = json.loads(_memory_file().read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in document.items()} if isinstance(document, dict) else {}


def _remember(commands: dict[str, str]) -> None:
    """Add the active extensions' commands to the memory (written only when it changes; a
    cache that cannot be written costs only the better message)."""
    known = _remembered()
    if all(known.get(name) == owner for name, owner in commands.items()):
        return
    from anya_plugins.config.atomic import write_atomic

    try:
        _memory_file().parent.mkdir(parents=True, exist_ok=True)
        write_atomic(_memory_file(), json.dumps({**known, **commands}, sort_keys=True))
    except OSError as error:
        log.debug("cannot remember the extensions' commands: %s", error)


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
