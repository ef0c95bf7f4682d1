"""Importing extensions into one pluggy PluginManager, with every hook call contained.

Every hook call runs through a loop that contains each implementation: if one raises,
its extension is reported as failed (and unregistered) and the call carries on with the
others, so one broken extension neither breaks the call nor the other extensions in it.
"""

from __future__ import annotations

import importlib
import inspect
import traceback
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
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
    """Owns the PluginManager; imports, registers and unregisters extensions.

    Failures are contained where pluggy runs the implementations of a call: the manager's
    hook executor (the slot pluggy's own call monitoring wraps) is
    :meth:`_call_contained`, pluggy's loop with a try block around each implementation.
    So an extension's function is registered as it is, and a hook call costs what plain
    pluggy's does: no wrapper frame per implementation.
    """

    def __init__(
        self, report: FailureReport, extra_hookspecs: Iterable[ModuleType | type] = ()
    ) -> None:
        self._report = report
        self.manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.manager.add_hookspecs(hookspecs)
        for specs in extra_hookspecs:
            self.manager.add_hookspecs(specs)
        self.manager._inner_hookexec = self._call_contained
        self._extensions: dict[str, Extension] = {}
        self._own: dict[str, dict[str, Implementation]] = {}

    def register(self, extension: Extension) -> bool:
        """Import the extension's entry point and register its hooks."""
        if extension.name in self._own:
            return True
        try:
            target = load_entry_point(extension.entry_point)
            if isinstance(target, type):
                target = target()
            own = self._implementations(extension, target)
            self.manager.register(ExtensionPlugin(own), name=extension.name)
        except (Exception, SystemExit) as error:
            self._report(extension, "load", error)
            return False
        self._own[extension.name] = own
        self._extensions[extension.name] = extension
        return True

    def unregister(self, extension: Extension) -> None:
        if self._own.pop(extension.name, None) is not None:
            del self._extensions[extension.name]
            self.manager.unregister(name=extension.name)

    def implementations(self, extension: Extension, hook_name: str) -> list[Implementation]:
        """The extension's own implementations of one hook, each called contained."""
        own = self._own.get(extension.name, {}).get(hook_name)
        return [] if own is None else [own]

    def _implementations(self, extension: Extension, target: object) -> dict[str, Implementation]:
        marker = hookspecs.PROJECT_NAME + "_impl"
        own: dict[str, Implementation] = {}
        for attribute in dir(target):
            function = getattr(target, attribute, None)
            options = getattr(function, marker, None)
            if not callable(function) or not isinstance(options, dict):
                continue
            if options.get("wrapper") or options.get("hookwrapper"):
                raise UnsupportedHook(
                    f"{attribute} is a hook wrapper; extensions may only implement plain hooks"
                )
            positional, keywords = _parameters(function) or _signature_parameters(function)
            own[attribute] = Implementation(
                function, positional, keywords, self._report, extension, f"hook {attribute}"
            )
        return own

    def _call_contained(
        self,
        hook_name: str,
        hook_impls: Sequence[pluggy.HookImpl],
        caller_kwargs: Mapping[str, object],
        firstresult: bool,
    ) -> object:
        """pluggy's call loop for plain implementations (extensions have no wrappers), with
        what an implementation raises reported as its extension's failure and skipped."""
        results: list[object] = []
        for hook_impl in reversed(hook_impls):
            try:
                args = [caller_kwargs[argname] for argname in hook_impl.argnames]
            except KeyError as missing:
                raise pluggy.HookCallError(
                    f"hook call must provide argument {missing.args[0]!r}"
                ) from missing
            try:
                if hook_impl.kwargnames:
                    options = {
                        k: caller_kwargs[k] for k in hook_impl.kwargnames if k in caller_kwargs
                    }
                    result = hook_impl.function(*args, **options)
                else:
                    result = hook_impl.function(*args)
            except (Exception, SystemExit) as error:
                extension = self._extensions.get(hook_impl.plugin_name)
                if extension is None:  # not one of ours: pluggy's behaviour
                    raise
                self._report(extension, f"hook {hook_name}", error)
                continue
            if result is not None:
                results.append(result)
                if firstresult:
                    break
        if firstresult:
            return results[0] if results else None
        return results


class Implementation:
    """One hook implementation of an extension, called on its own (the lifecycle hooks) with
    the arguments it takes, as pluggy would pass them; what it raises is reported as the
    extension's failure, and None returned."""

    __slots__ = ("extension", "function", "keywords", "phase", "positional", "report")

    def __init__(
        self,
        function: Callable[..., Any],
        positional: tuple[str, ...],
        keywords: tuple[str, ...],
        report: FailureReport,
        extension: Extension,
        phase: str,
    ) -> None:
        self.function = function
        self.positional = positional
        """The arguments passed by position: those without a default, as pluggy passes them."""
        self.keywords = keywords
        """The arguments with a default, passed by name when the call has them."""
        self.report = report
        self.extension = extension
        self.phase = phase

    def __call__(self, **kwargs: Any) -> Any:
        try:
            args = [kwargs[name] for name in self.positional]
            options = {name: kwargs[name] for name in self.keywords if name in kwargs}
            return self.function(*args, **options)
        except (Exception, SystemExit) as error:
            self.report(self.extension, self.phase, error)
            return None


class ExtensionPlugin:
    """An extension as pluggy sees it: its hook implementations are its only attributes,
    and ``dir()`` lists only them.

    pluggy looks up every name ``dir()`` gives, through ``inspect.getattr_static`` unless it
    is in the instance's ``__dict__``: on an object with the default ``__dir__`` that is 27
    slow look-ups per extension (1.1 s of activating 1,000), here one dictionary look-up
    per hook.
    """

    def __init__(self, own: Mapping[str, Implementation]) -> None:
        self.__dict__.update((name, own[name].function) for name in own)

    def __dir__(self) -> list[str]:
        return list(self.__dict__)


_PLAIN_FLAGS = inspect.CO_VARARGS | inspect.CO_VARKEYWORDS


def _parameters(function: object) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """The implementation's arguments as pluggy reads them (without default; with one), for a
    function or bound method whose arguments can all be passed by position; else None."""
    bound = isinstance(function, types.MethodType)
    plain = function.__func__ if bound else function  # type: ignore[attr-defined]
    if not isinstance(plain, types.FunctionType):
        return None
    code = plain.__code__
    if code.co_flags & _PLAIN_FLAGS or code.co_kwonlyargcount or hasattr(plain, "__wrapped__"):
        return None
    names = code.co_varnames[: code.co_argcount]
    if bound:
        names = names[1:]
    elif "." in plain.__qualname__.rsplit("<locals>.", 1)[-1] and names[:1] in (
        ("self",),
        ("cls",),
    ):
        return None  # pluggy would drop this first argument: leave the reading to it
    with_default = len(plain.__defaults__ or ())
    split = len(names) - with_default
    return names[:split], names[split:]


def _signature_parameters(function: Callable[..., Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Arguments without and with a default, as ``inspect.signature`` reads any callable."""
    positional: list[str] = []
    keywords: list[str] = []
    for parameter in inspect.signature(function).parameters.values():
        if parameter.kind not in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            continue
        (positional if parameter.default is parameter.empty else keywords).append(parameter.name)
    return tuple(positional), tuple(keywords)


def load_entry_point(value: str) -> object:
    """The object an entry point's ``module:attribute.path`` names, imported.

    What ``importlib.metadata.EntryPoint.load`` does, without importing importlib.metadata
    (about 15 ms) on every process that activates an extension.
    """
    reference = value.split("[", 1)[0]
    module_name, _, attributes = (part.strip() for part in reference.partition(":"))
    if not module_name:
        raise ValueError(f"entry point {value!r} names no module")
    found: object = importlib.import_module(module_name)
    for attribute in filter(None, attributes.split(".")):
        found = getattr(found, attribute)
    return found
