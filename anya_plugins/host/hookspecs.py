"""The hooks an extension may implement: the public contract between Anya and its extensions.

Every hook is optional. Lifecycle hooks (schema, configure, activate, deactivate,
health) are called for one extension at a time; ``anya_commands`` is collected from
all active extensions. An exception raised by any hook is contained by the host:
the extension is marked failed, reported, and everything else carries on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pluggy

from anya_plugins.host.api import Command, ExtensionContext, Health

PROJECT_NAME = "anya"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec(firstresult=True)
def anya_config_schema() -> Mapping[str, Any] | None:
    """Return the JSON Schema (draft 2020-12) of this extension's configuration section.

    Called once, when the extension is activated and whenever ``anya-ext config``
    changes one of its keys. The section (file, environment and command-line layers
    merged) is validated against it before ``anya_configure`` sees it; ``default``
    values in the schema fill keys nobody set. Return ``None`` for no configuration.
    """


@hookspec
def anya_configure(config: Mapping[str, Any]) -> None:
    """Receive this extension's validated configuration section.

    Called after ``anya_config_schema`` validated it and before ``anya_activate``.
    The mapping is read-only; unknown keys were already refused if the schema says so.
    """


@hookspec
def anya_activate(context: ExtensionContext) -> None:
    """Start the extension: open resources, register handlers.

    Called once per host, the first time the extension is needed (an explicit
    activation, or the first call of any hook). Raising marks the extension failed.
    """


@hookspec
def anya_deactivate(context: ExtensionContext) -> None:
    """Stop the extension and release what ``anya_activate`` acquired.

    Called when the host shuts down or the extension is deactivated; raising is
    reported but does not stop the other extensions from being deactivated.
    """


@hookspec
def anya_commands() -> Sequence[Command] | None:
    """Return the sub-commands this extension adds to ``anya-ext``.

    Called when ``anya-ext`` meets a command that is not built in, or lists its help.
    A name that clashes with a built-in or another extension's command is refused
    and reported, never silently shadowed.
    """


@hookspec(firstresult=True)
def anya_health() -> Health | None:
    """Report whether the extension works (``anya-ext doctor``).

    Called for one active extension at a time. ``None`` means "nothing to report";
    raising counts as unhealthy and is shown with the traceback.
    """
