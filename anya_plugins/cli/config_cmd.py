"""``anya-ext config get|set|unset|show``: layered configuration and where each value came from."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from anya_plugins.cli import render
from anya_plugins.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from anya_plugins.api.configuration import Configuration
    from anya_plugins.host.host import Host


def register(commands: argparse._SubParsersAction[Any], only: str | None = None) -> None:
    """Add this module's one command (``only`` is it, or None for every command)."""
    config = commands.add_parser("config", help="read and change the configuration")
    actions = config.add_subparsers(dest="config_action", metavar="ACTION", required=True)

    get = actions.add_parser("get", help="print one value")
    get.add_argument("key")
    get.add_argument("--origin", action="store_true", help="also say which layer it came from")
    get.set_defaults(handler=get_command)

    set_ = actions.add_parser("set", help="store a value in the user file")
    set_.add_argument("key")
    set_.add_argument("value")
    set_.add_argument(
        "--force", action="store_true",
        help="store it although no installed extension has that section (yet)",
    )  # fmt: skip
    set_.set_defaults(handler=set_command)

    unset = actions.add_parser("unset", help="remove a value from the user file")
    unset.add_argument("key")
    unset.set_defaults(handler=unset_command)

    show = actions.add_parser("show", help="print every value (optionally of one section)")
    show.add_argument("section", nargs="?")
    show.add_argument("--origin", action="store_true", help="also say which layer each came from")
    show.set_defaults(handler=show_command)


def _host(args: argparse.Namespace) -> Host:
    from anya_plugins.host.host import Host

    return Host(config_overrides=args.config_overrides)


def _section_of(key: str) -> str:
    section, _, rest = key.partition(".")
    if not section or not rest:
        raise UsageError(
            f"invalid key {key!r}", hint="keys look like <section>.<key>, e.g. btc.port"
        )
    return section


def _schema_for(host: Host, section: str) -> Mapping[str, Any] | None:
    """The extension's schema when the section is an installed extension, else None."""
    from anya_plugins.errors import ExtensionNotFound

    try:
        host.get(section)
    except ExtensionNotFound:
        return None
    return host.config_schema(section)


def _refuse_unknown_section(host: Host, section: str, args: argparse.Namespace) -> None:
    """A key of an extension that is not installed is most likely a typo: refused."""
    import shlex

    from anya_plugins.errors import ExtensionNotFound
    from anya_plugins.metadata.taxonomy import RESERVED_NAMES

    if section in RESERVED_NAMES:
        return
    try:
        host.get(section)
    except ExtensionNotFound as missing:
        raise ExtensionNotFound(
            f"{args.key}: no installed extension is called {section!r} "
            f"({missing.hint or 'none is installed'})",
            hint="check the name, or store it anyway: anya-ext config set "
            f"{shlex.quote(args.key)} {shlex.quote(args.value)} --force",
        ) from missing


def get_command(args: argparse.Namespace) -> int:
    _section_of(args.key)
    entry = _host(args).configuration().get(args.key)
    if entry is None:
        raise ConfigError(f"{args.key} is not set", hint="see 'anya-ext config show'")
    if args.json:
        render.say(
            render.to_json({"key": entry.key, "value": entry.value, "origin": str(entry.origin)})
        )
    elif args.origin:
        render.say(f"{_format(entry.value)}\t({entry.origin})")
    else:
        render.say(_format(entry.value))
    return 0


def _configuration(host: Host, args: argparse.Namespace) -> Configuration:
    """The layers as the host read them: its file, this process's environment, --config."""
    from anya_plugins.api.configuration import Configuration

    return Configuration.from_user(args.config_overrides, file=Path(host.config_path))


def set_command(args: argparse.Namespace) -> int:
    host = _host(args)
    section = _section_of(args.key)
    schema = _schema_for(host, section)
    if schema is None and not args.force:
        _refuse_unknown_section(host, section, args)
    stored = _configuration(host, args).set(args.key, args.value, schema=schema)
    # Echoed with any URL's password masked (as pip shows URLs): the terminal, its
    # scroll-back and CI logs are not where a credential should land.
    from anya_plugins.sources.credentials import redact

    shown = redact(stored) if isinstance(stored, str) else stored
    if args.json:
        render.say(render.to_json({"key": args.key, "value": shown, "file": host.config_path}))
    else:
        render.say(f"{args.key} = {_format(shown)}  ({host.config_path})")
    return 0


def unset_command(args: argparse.Namespace) -> int:
    host = _host(args)
    _section_of(args.key)
    removed = _configuration(host, args).unset(args.key)
    if args.json:
        render.say(render.to_json({"key": args.key, "removed": removed}))
    else:
        render.say(
            f"{args.key} removed" if removed else f"{args.key} was not set in {host.config_path}"
        )
    return 0


def show_command(args: argparse.Namespace) -> int:
    entries = _host(args).configuration().entries()
    if args.section:
        entries = [e for e in entries if e.key.split(".", 1)[0] == args.section]
    if args.json:
        render.say(
            render.to_json(
                [{"key": e.key, "value": e.value, "origin": str(e.origin)} for e in entries]
            )
        )
        return 0
    headers = ("key", "value", "origin") if args.origin else ("key", "value")
    rows = [
        (e.key, _format(e.value), str(e.origin)) if args.origin else (e.key, _format(e.value))
        for e in entries
    ]
    render.table(None, headers, rows)
    return 0


def _format(value: Any) -> str:
    import json

    return value if isinstance(value, str) else json.dumps(value)
