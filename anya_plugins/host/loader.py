"""Importing extensions into one pluggy PluginManager, with every hook call contained.

Each hook implementation is registered through a guard: if it raises, the guard
reports the extension as failed and returns None (which pluggy skips), so one
broken extension neither breaks the call nor the other extensions in it.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import traceback
import types
from collections.abc import Callable, Iterable, Mapping
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
        self._own: dict[str, dict[str, Implementation]] = {}

    def register(self, extension: Extension) -> bool:
        """Import the extension's entry point and register its guarded hooks."""
        if extension.name in self._own:
            return True
        try:
            target = load_entry_point(extension.entry_point)
            if isinstance(target, type):
                target = target()
            own = self._guard_plugin(extension, target)
            self.manager.register(GuardedPlugin(own), name=extension.name)
        except (Exception, SystemExit) as error:
            self._report(extension, "load", error)
            return False
        self._own[extension.name] = own
        return True

    def unregister(self, extension: Extension) -> None:
        if self._own.pop(extension.name, None) is not None:
            self.manager.unregister(name=extension.name)

    def implementations(self, extension: Extension, hook_name: str) -> list[Implementation]:
        """The extension's own (guarded) implementations of one hook."""
        own = self._own.get(extension.name, {}).get(hook_name)
        return [] if own is None else [own]

    def _guard_plugin(self, extension: Extension, target: object) -> dict[str, Implementation]:
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
            implementation = guard(function, self._report, extension, f"hook {attribute}")
            setattr(implementation.function, marker, options)  # what pluggy looks for
            own[attribute] = implementation
        return own


class Implementation:
    """One guarded hook implementation, and how to call it with a hook's keyword arguments."""

    __slots__ = ("function", "keywords", "positional")

    def __init__(
        self, function: Callable[..., Any], positional: tuple[str, ...], keywords: tuple[str, ...]
    ) -> None:
        self.function = function
        self.positional = positional
        """The arguments passed by position: those without a default, as pluggy passes them."""
        self.keywords = keywords
        """The arguments with a default, passed by name when the call has them."""

    def __call__(self, **kwargs: Any) -> Any:
        """Call as pluggy would: the arguments the implementation takes, out of ``kwargs``."""
        args = [kwargs[name] for name in self.positional]
        options = {name: kwargs[name] for name in self.keywords if name in kwargs}
        return self.function(*args, **options)


class GuardedPlugin:
    """An extension as pluggy sees it: its guarded hook implementations are its only
    attributes, and ``dir()`` lists only them.

    pluggy looks up every name ``dir()`` gives, through ``inspect.getattr_static`` unless it
    is in the instance's ``__dict__``: on an object with the default ``__dir__`` that is 27
    slow look-ups per extension (1.1 s of activating 1,000), here one dictionary look-up
    per hook.
    """

    def __init__(self, own: Mapping[str, Implementation]) -> None:
        self.__dict__.update((name, own[name].function) for name in own)

    def __dir__(self) -> list[str]:
        return list(self.__dict__)


def guard(
    function: Callable[..., Any], report: FailureReport, extension: Extension, phase: str
) -> Implementation:
    """``function`` behind a guard that reports what it raises as the extension's failure
    and returns None instead (which pluggy skips).

    Where the implementation's arguments are plain (no defaults, ``*args`` or keyword-only
    ones) the guard is a function with the very same parameters, made once per parameter
    list, so pluggy calls it exactly as it would call the implementation: one frame and a
    try block more, no argument packing. Otherwise a ``*args, **kwargs`` guard.
    """
    parameters = _parameters(function)
    if parameters is not None and not parameters[1]:
        positional = parameters[0]
        guarded = _guard_maker(positional)(function, report, extension, phase)
        return Implementation(guarded, positional, ())

    # No status check here: a failed extension is unregistered at once, so a later call
    # never reaches it, and this stays one frame and a try block per implementation.
    @functools.wraps(function)
    def guarded_any(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except (Exception, SystemExit) as error:
            report(extension, phase, error)
            return None

    positional, keywords = parameters or _signature_parameters(function)
    return Implementation(guarded_any, positional, keywords)


_GUARD_NAMES = ("_anya_function", "_anya_report", "_anya_extension", "_anya_phase", "_anya_error")

_GUARD_SOURCE = """\
def make(_anya_function, _anya_report, _anya_extension, _anya_phase):
    def guarded({parameters}):
        try:
            return _anya_function({parameters})
        except (Exception, SystemExit) as _anya_error:
            _anya_report(_anya_extension, _anya_phase, _anya_error)
            return None
    return guarded
"""


@functools.cache
def _guard_maker(positional: tuple[str, ...]) -> Callable[..., Callable[..., Any]]:
    """A factory of guards taking ``positional`` (compiled once per parameter list)."""
    namespace: dict[str, Any] = {}
    source = _GUARD_SOURCE.format(parameters=", ".join(positional))
    exec(compile(source, "<anya hook guard>", "exec"), namespace)
    maker: Callable[..., Callable[..., Any]] = namespace["make"]
    return maker


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
    if set(names) & set(_GUARD_NAMES):
        return None
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
