"""The hooks Anya calls on the {{ cookiecutter.name }} extension.

The host registers this module with pluggy under the name "{{ cookiecutter.name }}"
(entry point group ``anya.extensions``). Every hook is optional; delete the ones
you do not need.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from anya_plugins import Command, Health, hookimpl
{%- if cookiecutter.compiled == "yes" %}

from {{ cookiecutter.__package_name }}._native import greeting
{%- endif %}

if TYPE_CHECKING:
    from anya_plugins import ExtensionContext

EXTENSION_NAME = "{{ cookiecutter.name }}"
GREET_COMMAND = f"{EXTENSION_NAME}-greet"
DEFAULT_GREETING = "hello"

CONFIG_SCHEMA: Mapping[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": f"{EXTENSION_NAME} configuration",
    "type": "object",
    "properties": {
        "greeting": {
            "type": "string",
            "minLength": 1,
            "default": DEFAULT_GREETING,
            "description": f"The word {GREET_COMMAND} greets with.",
        },
        "verbose": {
            "type": "boolean",
            "default": False,
            "description": "Log each greeting.",
        },
    },
    "additionalProperties": False,
}


@dataclass
class _State:
    """What this extension keeps between hook calls within one host."""

    config: Mapping[str, Any] = field(default_factory=dict)
    context: ExtensionContext | None = None

    @property
    def greeting(self) -> str:
        return str(self.config.get("greeting", DEFAULT_GREETING))

    @property
    def verbose(self) -> bool:
        return bool(self.config.get("verbose", False))


_state = _State()


@hookimpl
def anya_config_schema() -> Mapping[str, Any]:
    return CONFIG_SCHEMA


@hookimpl
def anya_configure(config: Mapping[str, Any]) -> None:
    _state.config = dict(config)


@hookimpl
def anya_activate(context: ExtensionContext) -> None:
    _state.config = dict(context.config)
    _state.context = context
    context.logger.info(
        "%s activated (host API %s, data in %s)",
        context.name,
        context.host_api_version,
        context.data_dir,
    )


@hookimpl
def anya_deactivate(context: ExtensionContext) -> None:
    _state.context = None
    context.logger.info("%s deactivated", context.name)


@hookimpl
def anya_commands() -> list[Command]:
    return [
        Command(
            name=GREET_COMMAND,
            help=f"Print a greeting from the {EXTENSION_NAME} extension.",
            run=greet,
            add_arguments=add_greet_arguments,
        )
    ]


@hookimpl
def anya_health() -> Health:
    if _state.context is None:
        return Health(ok=False, detail="not activated")
    return Health(ok=True, detail=f"active; greeting is {_state.greeting!r}")


def add_greet_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--who", default="world", help="whom to greet (default: %(default)s)")


def greet(args: argparse.Namespace) -> int:
{%- if cookiecutter.compiled == "yes" %}
    message = greeting(_state.greeting, args.who)  # the compiled part
{%- else %}
    message = f"{_state.greeting}, {args.who}!"
{%- endif %}
    print(message)
    if _state.verbose and _state.context is not None:
        _state.context.logger.info("greeted %s", args.who)
    return 0
