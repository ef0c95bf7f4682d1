"""Anya Extensions: discover, load and call extensions of the Anya platform.

``import anya_plugins`` is paid by every Anya process, so it imports nothing:
the public names below load on first use.
"""

from __future__ import annotations

TYPE_CHECKING = False

__version__ = "0.1.0"

_EXPORTS = {
    "Host": "anya_plugins.host.host",
    "Extension": "anya_plugins.host.record",
    "ExtensionContext": "anya_plugins.host.api",
    "Command": "anya_plugins.host.api",
    "Health": "anya_plugins.host.api",
    "hookimpl": "anya_plugins.host.hookspecs",
    "hookspec": "anya_plugins.host.hookspecs",
    "HOST_API_VERSION": "anya_plugins.metadata.taxonomy",
    "AnyaError": "anya_plugins.errors",
}

__all__ = [
    "HOST_API_VERSION",
    "AnyaError",
    "Command",
    "Extension",
    "ExtensionContext",
    "Health",
    "Host",
    "__version__",
    "hookimpl",
    "hookspec",
]

if TYPE_CHECKING:
    from anya_plugins.errors import AnyaError
    from anya_plugins.host.api import Command, ExtensionContext, Health
    from anya_plugins.host.hookspecs import hookimpl, hookspec
    from anya_plugins.host.host import Host
    from anya_plugins.host.record import Extension
    from anya_plugins.metadata.taxonomy import HOST_API_VERSION


def __getattr__(name: str) -> object:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'anya_plugins' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value
