"""The Host: what every Anya process creates to find, load and call its extensions.

Creating a Host and listing its extensions must cost next to nothing, so this
module imports only what Python has already imported at start-up; pluggy,
importlib.metadata, packaging and the TOML parser load on the paths that need them.
"""

from __future__ import annotations

import os
import sys

from anya_plugins.host import cache
from anya_plugins.host.record import (
    ACTIVE,
    DISABLED,
    ENABLED,
    FAILED,
    PROBLEM_STATUSES,
    TAMPERED,
    UNVERIFIED,
    Extension,
)
from anya_plugins.metadata.taxonomy import ENTRY_POINT_GROUP, HOST_API_VERSION

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Container, Iterable, Mapping, Sequence
    from types import ModuleType
    from typing import Any, overload

    import pluggy

    from anya_plugins.config.layers import LayeredConfig
    from anya_plugins.host.api import ExtensionContext, Health
    from anya_plugins.host.loader import Loader


class Failure:
    """One contained failure: which extension, in which phase, what went wrong."""

    __slots__ = ("error", "extension", "phase", "traceback")

    def __init__(self, extension: str, phase: str, error: str, traceback: str) -> None:
        self.extension = extension
        self.phase = phase
        self.error = error
        self.traceback = traceback

    def __repr__(self) -> str:
        return f"Failure({self.extension!r}, {self.phase!r}, {self.error!r})"


class _ActiveRelay:
    """``Host.hook``. A non-data descriptor: :meth:`Host.activate_all` keeps pluggy's relay
    on the host itself, so ``host.hook`` is then one attribute read, as ``pm.hook`` is in
    pluggy (a property would add a Python call to every hook call); a deactivation takes it
    away, and the next read activates every extension again."""

    if TYPE_CHECKING:

        @overload
        def __get__(self, host: None, owner: type[Host] | None = None) -> _ActiveRelay: ...
        @overload
        def __get__(self, host: Host, owner: type[Host] | None = None) -> pluggy.HookRelay: ...

    def __get__(
        self, host: Host | None, owner: type[Host] | None = None
    ) -> pluggy.HookRelay | _ActiveRelay:
        if host is None:  # Host.hook: the descriptor itself (help(), documentation tools)
            return self
        host.activate_all()
        return host.__dict__["hook"]  # type: ignore[no-any-return]


class Host:
    """Discovers extensions without importing them and activates them lazily.

    ``path`` defaults to ``sys.path``; ``disabled`` overrides the configuration's
    ``host.disabled`` list and ``require_verified`` its ``host.require_verified``;
    ``config_overrides`` are ``key=value`` strings that win over the file and the
    environment (the CLI's ``--config``). ``receipts_dir`` is where Anya's install
    receipts are (default: the running environment's).

    Before an extension is imported, its files are checked against the fingerprints taken
    when Anya installed it (:mod:`anya_plugins.host.integrity`): one that changed is
    ``tampered`` and never imported (see :meth:`check_integrity`).
    """

    def __init__(
        self,
        group: str = ENTRY_POINT_GROUP,
        *,
        path: Sequence[str] | None = None,
        disabled: Iterable[str] | None = None,
        config_overrides: Sequence[str] = (),
        use_cache: bool = True,
        cache_dir: str | None = None,
        hookspecs: Iterable[ModuleType | type] = (),
        require_verified: bool | None = None,
        receipts_dir: str | None = None,
    ) -> None:
        self.group = group
        self.path = list(sys.path if path is None else path)
        self._explicit_disabled = None if disabled is None else frozenset(disabled)
        self._explicit_require_verified = require_verified
        self._receipts_dir = receipts_dir
        self._config_overrides = tuple(config_overrides)
        self._use_cache = use_cache and not os.environ.get("ANYA_NO_DISCOVERY_CACHE")
        self._cache_dir = cache_dir
        self._extra_hookspecs = tuple(hookspecs)
        self._extensions: dict[str, Extension] | None = None
        self._config_path = ""
        self._loader: Loader | None = None
        self._config: LayeredConfig | None = None
        self._contexts: dict[str, ExtensionContext] = {}
        self.failures: list[Failure] = []
        self.cache_hit = False
        self._require_verified = False
        self._valid_schemas: set[str] | None = None
        """Digests of configuration schemas known to pass the metaschema (kept in the cache
        directory between processes); loaded when the first schema is validated."""
        self._valid_schemas_stored = 0

    # -- discovery -------------------------------------------------------------------------

    @property
    def extensions(self) -> list[Extension]:
        """Every discovered extension, in discovery order, whatever its status."""
        return list(self._discovered().values())

    def get(self, name: str) -> Extension:
        """The extension called ``name`` (its entry-point or distribution name)."""
        discovered = self._discovered()
        found = discovered.get(name)
        if found is None:
            for extension in discovered.values():
                if extension.dist_name.lower().replace("_", "-") == name.lower().replace("_", "-"):
                    return extension
            from anya_plugins.errors import ExtensionNotFound

            raise ExtensionNotFound(
                f"no extension named {name!r} is installed", hint=_others(name, discovered)
            )
        return found

    @property
    def problems(self) -> list[Extension]:
        """Extensions set aside or broken: incompatible, invalid metadata, failed, tampered,
        or refused as unverified (their installed files are checked first)."""
        self.check_integrity()
        return [ext for ext in self._discovered().values() if ext.status in PROBLEM_STATUSES]

    @property
    def config_path(self) -> str:
        """The user configuration file this host reads (it may not exist)."""
        self._discovered()
        return self._config_path

    def _discovered(self) -> dict[str, Extension]:
        if self._extensions is None:
            self._extensions = self._discover()
        return self._extensions

    def _discover(self) -> dict[str, Extension]:
        key = cache.static_key(self.group, HOST_API_VERSION)
        file = cache.cache_file(self._cache_dir or cache.default_cache_dir(), self.group, self.path)
        payload = cache.load(file, key, self.path) if self._use_cache else None
        self.cache_hit = payload is not None
        if payload is None:
            payload = self._scan()
        changed = not self.cache_hit
        self._config_path = payload["config_path"]
        disabled, require_verified, config_changed = self._host_policy(payload)
        changed = changed or config_changed
        if changed and self._use_cache:
            cache.store(file, key, self.path, payload)
        extensions: dict[str, Extension] = {}
        for record in payload["extensions"]:
            extension = Extension.from_record(record)
            if extension.name in disabled or extension.dist_name in disabled:
                extension.status = DISABLED
            extensions.setdefault(extension.name, extension)
        self._require_verified = require_verified
        return extensions

    def check_integrity(self, name: str | None = None) -> list[Extension]:
        """Check installed files against what was verified at install: of extension ``name``,
        else of every extension not checked yet; returns the ones refused for it.

        One that changed is ``tampered``, and one installed without an Anya receipt is
        ``unverified`` (refused only under ``host.require_verified``). Activation checks each
        extension just before importing it, so discovery and start-up pay nothing for this;
        ``anya-ext list``, ``info`` and ``doctor`` check them all.
        """
        chosen = [self.get(name)] if name is not None else list(self._discovered().values())
        unchecked = [extension for extension in chosen if not extension.integrity]
        present = None
        if len(unchecked) > 1:  # one listing of the receipts rather than a stat each
            from anya_plugins.host.integrity import fingerprint_files

            present = fingerprint_files(self._receipts())
        for extension in unchecked:
            self._check_files(extension, present)
        return [e for e in chosen if e.status in (TAMPERED, UNVERIFIED)]

    def _check_files(self, extension: Extension, present: Container[str] | None = None) -> None:
        """Once per extension and host: a file edited in place changes no directory the
        discovery cache watches, so this never comes from the cache. ``present``: the
        fingerprint files found (:func:`~anya_plugins.host.integrity.fingerprint_files`)."""
        if extension.integrity:
            return
        # not "from anya_plugins.host import integrity": taking a module from its package
        # runs importlib's _handle_fromlist on every call (~0.2 ms of listing 1,000 extensions)
        import anya_plugins.host.integrity as integrity

        extension.integrity, detail = integrity.check(
            self._receipts(), extension.dist_name, extension.version, extension.location, present
        )
        if extension.integrity == integrity.TAMPERED and extension.status != ACTIVE:
            extension.status = TAMPERED
            extension.error = f"refused: {detail}; reinstall it (anya-ext verify shows more)"
        elif (
            extension.integrity == integrity.UNVERIFIED
            and self._require_verified
            and extension.status == ENABLED
        ):
            extension.status = UNVERIFIED
            extension.error = f"refused by host.require_verified: {detail}"

    def _receipts(self) -> str:
        if self._receipts_dir is None:
            from anya_plugins.host.integrity import RECEIPTS_DIR

            self._receipts_dir = os.path.join(sys.prefix, RECEIPTS_DIR)
        return self._receipts_dir

    def _scan(self) -> dict[str, Any]:
        import time

        from anya_plugins.config.paths import user_config_path
        from anya_plugins.host.discovery import scan

        scanned_ns = time.time_ns()
        found, site_dirs = scan(self.group, self.path)
        return {
            "scanned_ns": scanned_ns,
            "extensions": [extension.to_record() for extension in found],
            "site_dirs": site_dirs,
            "config_path": str(user_config_path()),
            "config_stamp": None,
            "disabled": (),
            "require_verified": False,
        }

    def _host_policy(self, payload: dict[str, Any]) -> tuple[frozenset[str], bool, bool]:
        """``host.disabled`` and ``host.require_verified`` (unless given to the constructor),
        and whether the payload changed: the file is re-read only when it changed."""
        explicit = self._explicit_disabled, self._explicit_require_verified
        if explicit[0] is not None and explicit[1] is not None:
            return explicit[0], explicit[1], False
        stamp = _file_stamp(payload["config_path"])
        from_env = any(name in os.environ for name in _HOST_ENV_KEYS)
        if stamp == payload["config_stamp"] and not from_env:
            disabled, require_verified = frozenset(payload["disabled"]), payload["require_verified"]
            changed = False
        else:
            from pathlib import Path

            from anya_plugins.config.layers import read_host_policy

            disabled, require_verified = read_host_policy(Path(payload["config_path"]))
            changed = not from_env
            if changed:
                payload["config_stamp"] = stamp
                payload["disabled"] = tuple(sorted(disabled))
                payload["require_verified"] = require_verified
        if explicit[0] is not None:
            disabled = explicit[0]
        if explicit[1] is not None:
            require_verified = explicit[1]
        return disabled, require_verified, changed

    # -- loading and activation ------------------------------------------------------------

    def activate(self, name: str) -> Extension:
        """Import, configure and activate one extension; failures are contained and reported.

        Returns the extension, whose ``status`` says how it went (``active`` or
        ``failed``; disabled, incompatible and invalid ones are left as they are).
        """
        extension = self._activate(name)
        self._store_valid_schemas()
        return extension

    def _activate(self, name: str) -> Extension:
        extension = self.get(name)
        self._check_files(extension)
        if extension.status != ENABLED:
            return extension
        loader = self._get_loader()
        if not loader.register(extension):
            return extension
        settings = self._validated_config(extension)
        if settings is None:
            return extension
        self._call_own(extension, "anya_configure", config=settings)
        context = self._context(extension, settings)
        self._call_own(extension, "anya_activate", context=context)
        if extension.status != FAILED:
            extension.status = ACTIVE
            self._contexts[extension.name] = context
        return extension

    def activate_all(self) -> list[Extension]:
        """Activate every enabled extension; returns all extensions with their new status."""
        for extension in list(self._discovered().values()):
            if extension.status == ENABLED:
                self._activate(extension.name)
        self._store_valid_schemas()
        self.__dict__["hook"] = self._get_loader().manager.hook  # host.hook: see _ActiveRelay
        return self.extensions

    def deactivate(self, name: str) -> Extension:
        """Call the extension's ``anya_deactivate`` and unregister it."""
        extension = self.get(name)
        if extension.status != ACTIVE:
            return extension
        context = self._contexts.pop(extension.name)
        self._call_own(extension, "anya_deactivate", context=context)
        assert self._loader is not None
        self._loader.unregister(extension)
        if extension.status == ACTIVE:
            extension.status = ENABLED
        self.__dict__.pop("hook", None)  # the next host.hook activates every extension again
        return extension

    def close(self) -> None:
        """Deactivate every active extension, most recently activated first."""
        for name in reversed(list(self._contexts)):
            self.deactivate(name)

    def __enter__(self) -> Host:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- calling hooks ---------------------------------------------------------------------

    hook = _ActiveRelay()
    """pluggy's hook relay over every active extension (activating them on first use)."""

    def call(self, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call a hook on every active extension and return the non-None results."""
        caller = getattr(self.hook, hook_name)
        results = caller(**kwargs)
        if results is None:
            return []
        return results if isinstance(results, list) else [results]

    def call_each(self, hook_name: str, **kwargs: Any) -> list[tuple[Extension, Any]]:
        """Call a hook extension by extension, keeping who returned what."""
        self.activate_all()
        answers = []
        for extension in self._discovered().values():
            if extension.status != ACTIVE:
                continue
            for result in self._call_own(extension, hook_name, **kwargs):
                answers.append((extension, result))
        return answers

    def health(self) -> dict[str, Health]:
        """Each active extension's own health report (failures count as unhealthy)."""
        from anya_plugins.host.api import Health

        self.activate_all()
        reports: dict[str, Health] = {}
        for extension in self._discovered().values():
            if extension.status != ACTIVE:
                continue
            answers = self._call_own(extension, "anya_health")
            if extension.status == FAILED:
                reports[extension.name] = Health(False, extension.error)
            else:
                reports[extension.name] = next(
                    (a for a in answers if isinstance(a, Health)), Health(True, "no report")
                )
        return reports

    def config_schema(self, name: str) -> Mapping[str, Any] | None:
        """The JSON Schema an extension declares for its section (imports the extension)."""
        extension = self.get(name)
        self._check_files(extension)
        if extension.status not in (ENABLED, ACTIVE, DISABLED):
            return None
        if not self._get_loader().register(extension):
            return None
        answers = self._call_own(extension, "anya_config_schema")
        return next((a for a in answers if a is not None), None)

    # -- internals -------------------------------------------------------------------------

    def _get_loader(self) -> Loader:
        if self._loader is None:
            from anya_plugins.host.loader import Loader

            self._loader = Loader(self._report_failure, self._extra_hookspecs)
        return self._loader

    def _call_own(self, extension: Extension, hook_name: str, **kwargs: Any) -> list[Any]:
        loader = self._get_loader()
        answers = []
        for implementation in loader.implementations(extension, hook_name):
            result = implementation(**kwargs)
            if result is not None:
                answers.append(result)
        return answers

    def _report_failure(self, extension: Extension, phase: str, error: BaseException) -> None:
        import logging

        from anya_plugins.host.loader import short_traceback

        extension.status = FAILED
        extension.error = f"{phase}: {type(error).__name__}: {error}"
        extension.traceback = short_traceback(error)
        self.failures.append(Failure(extension.name, phase, extension.error, extension.traceback))
        self._contexts.pop(extension.name, None)
        if self._loader is not None:
            self._loader.unregister(extension)
        # one line for every command that meets it; the traceback for -v and doctor
        log = logging.getLogger("anya_plugins")
        log.warning("extension %s failed (%s)", extension.name, extension.error)
        log.info("extension %s failed:\n%s", extension.name, extension.traceback)

    def configuration(self) -> LayeredConfig:
        """The layered configuration (file, environment, overrides) this host uses."""
        if self._config is None:
            from pathlib import Path

            from anya_plugins.config.layers import load_config

            self._config = load_config(
                Path(self.config_path),
                overrides=self._config_overrides,
                known_extensions=list(self._discovered()),
            )
        return self._config

    def _validated_config(self, extension: Extension) -> dict[str, Any] | None:
        from anya_plugins.errors import AnyaError

        try:
            schema = next(iter(self._call_own(extension, "anya_config_schema")), None)
            if extension.status == FAILED:
                return None
            config = self.configuration()
            if schema is None:
                return config.section(extension.name)
            from anya_plugins.config.schema import validate_section

            return validate_section(extension.name, schema, config, checked=self._schemas())
        except AnyaError as error:
            self._report_failure(extension, "configure", error)
            return None

    def _schemas(self) -> set[str]:
        if self._valid_schemas is None:
            if self._use_cache:
                self._valid_schemas = cache.load_digests(self._schemas_file())
            else:
                from anya_plugins.config.schema import CHECKED

                self._valid_schemas = CHECKED
            self._valid_schemas_stored = len(self._valid_schemas)
        return self._valid_schemas

    def _store_valid_schemas(self) -> None:
        found = self._valid_schemas
        if found is not None and self._use_cache and len(found) > self._valid_schemas_stored:
            cache.store_digests(self._schemas_file(), found)
            self._valid_schemas_stored = len(found)

    def _schemas_file(self) -> str:
        return cache.digests_file(self._cache_dir or cache.default_cache_dir())

    def _context(self, extension: Extension, settings: Mapping[str, Any]) -> ExtensionContext:
        import logging
        from pathlib import Path
        from types import MappingProxyType

        from anya_plugins.host.api import ExtensionContext

        data_root = os.environ.get("ANYA_DATA_DIR")
        if not data_root:
            import platformdirs

            data_root = platformdirs.user_data_dir("anya")
        return ExtensionContext(
            name=extension.name,
            host_api_version=HOST_API_VERSION,
            config=MappingProxyType(dict(settings)),
            data_dir=Path(os.path.join(data_root, "extensions", extension.name)),  # one Path
            logger=logging.getLogger(f"anya.extensions.{extension.name}"),
        )


_HOST_ENV_KEYS = ("ANYA_HOST__DISABLED", "ANYA_HOST__REQUIRE_VERIFIED")


def _file_stamp(path: str) -> tuple[int, int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)


_LISTED_IN_FULL = 10
"""Up to this many installed extensions, a name not found is answered with all of them."""


def _others(name: str, discovered: Mapping[str, Extension]) -> str:
    """The hint for a name not found: the installed names when they are few, else the close
    ones and how to see them all (a thousand names are no help at a terminal)."""
    names = sorted(discovered)
    if len(names) <= _LISTED_IN_FULL:
        return f"installed extensions: {', '.join(names) or 'none'}"
    import difflib

    close = difflib.get_close_matches(name, names, n=3)
    guess = f"did you mean {' or '.join(close)}? " if close else ""
    return f"{guess}{len(names):,} extensions are installed: 'anya-ext list' shows them all"
