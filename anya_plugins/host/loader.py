"""Importing extensions into one pluggy PluginManager, with every hook call contained.

Each hook implementation is registered through a guard: if it raises, the guard
reports the extension as failed and returns None (which pluggy skips), so one
broken extension neither breaks the call nor the other extensions in it.
"""

from __future__ import annotations

import functools
import traceback
import types
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

import pluggy

from anya_plugins.host import hookspecs
from anya_plugins.host.record import Extension

FailureReport = Callable[[Extension, str, BaseException], None]

_TRACEBACK_FRAMES = 4


class UnsupportedHook(Exception):
    """An extension declared a hook implementation the host cannot contain."""


def short_traceback(error: BaseException) -> str:
    """The last few frames and the error line: enough to find the bug, short enough to read."""
    return "".join(traceback.format_exception(error, limit=-_TRACEBACK_FRAMES)).rstrip()


class Loader:
    """Owns the PluginManager; imports, registers and unregisters extensions."""

    def __init__(
        self, report: FailureReport, extra_hookspecs: Iterable[ModuleType | type] = ()
    ) -> None:
        self._report = report
        self.manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.manager.add_hookspecs(hookspecs)
        for specs in extra_hookspecs:
            self.manager.add_hookspecs(specs)

    def register(self, extension: Extension) -> bool:
        """Import the extension's entry point and register its guarded hooks."""
        if self.manager.has_plugin(extension.name):
            return True
        try:
            target = _load_entry_point(extension)
            if isinstance(target, type):
                target = target()
            guarded = self._guard_plugin(extension, target)
            self.manager.register(guarded, name=extension.name)
        except (Exception, SystemExit) as error:
            self._report(extension, "load", error)
            return False
        return True

    def unregister(self, extension: Extension) -> None:
        if self.manager.has_plugin(extension.name):
            self.manager.unregister(name=extension.name)

    def implementations(self, extension: Extension, hook_name: str) -> list[Callable[..., Any]]:
        """The extension's own (guarded) implementations of one hook."""
        caller = getattr(self.manager.hook, hook_name, None)
        if caller is None:
            return []
        return [
            impl.function for impl in caller.get_hookimpls() if impl.plugin_name == extension.name
        ]

    def _guard_plugin(self, extension: Extension, target: object) -> types.SimpleNamespace:
        marker = hookspecs.PROJECT_NAME + "_impl"
        guarded = types.SimpleNamespace()
        for attribute in dir(target):
            function = getattr(target, attribute, None)
            options = getattr(function, marker, None)
            if not callable(function) or not isinstance(options, dict):
                continue
            if options.get("wrapper") or options.get("hookwrapper"):
                raise UnsupportedHook(
                    f"{attribute} is a hook wrapper; extensions may only implement plain hooks"
                )
            setattr(guarded, attribute, self._guard(extension, attribute, function))
        return guarded

    def _guard(
        self, extension: Extension, hook_name: str, function: Callable[..., Any]
    ) -> Callable[..., Any]:
        report = self._report

        # No status check here: a failed extension is unregistered at once, so a later call
        # never reaches it, and this stays one frame and a try block per implementation.
        @functools.wraps(function)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                return function(*args, **kwargs)
            except (Exception, SystemExit) as error:
                report(extension, f"hook {hook_name}", error)
                return None

        return guarded


def _load_entry_point(extension: Extension) -> object:
    from importlib.metadata import EntryPoint

    return EntryPoint(extension.name, extension.entry_point, "anya.extensions").load()
