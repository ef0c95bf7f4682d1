"""The merged configuration: which value wins for each key, and where it came from.

Layers, lowest first: ``default`` (an extension's JSON Schema), ``file`` (the
user's TOML file), ``env`` (``ANYA_<SECTION>__<KEY>``) and ``cli`` (``--config
key=value``). A value replaces whatever lower layers set at, inside or above its
key: ``--config btc-wallet.rpc.port=1`` overrides that one key, while
``--config btc-wallet.rpc=5`` replaces the whole ``rpc`` table.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from anya_plugins.config.keys import (
    KeyPath,
    env_key_path,
    env_sections,
    join_key,
    split_key,
)
from anya_plugins.config.lines import key_lines, line_for
from anya_plugins.config.paths import user_config_path
from anya_plugins.config.schema import Problem, coerce, defaults
from anya_plugins.config.tomlfile import located, parse_toml, read_text
from anya_plugins.errors import ConfigError
from anya_plugins.metadata.frozen import Frozen

TYPE_CHECKING = False  # typing costs the start-up milliseconds
if TYPE_CHECKING:
    from typing import Any, Literal, TypeAlias

    from anya_plugins.config.schema import Schema

    LayerName: TypeAlias = Literal["default", "file", "policy", "env", "cli"]

DISABLED_KEY = "host.disabled"
REQUIRE_VERIFIED_KEY = "host.require_verified"
HOST_SCHEMA: Schema = {
    "type": "object",
    "properties": {
        "disabled": {"type": "array", "items": {"type": "string"}},
        "require_verified": {"type": "boolean"},
    },
}
"""The ``[host]`` keys Anya reads itself; env, CLI and ``config set`` strings are typed by it."""


class Origin(Frozen):
    """Where a value came from, written the way a person would go and look for it."""

    layer: LayerName
    source: str
    line: int | None

    def __init__(self, layer: LayerName, source: str, line: int | None = None) -> None:
        self._init(layer, source, line)

    def __str__(self) -> str:
        if self.layer == "default":
            return f"default ({self.source})"
        if self.line is not None:
            return f"{self.layer} {self.source}:{self.line}"
        return f"{self.layer} {self.source}"


class Entry(Frozen):
    """One leaf value of the merged configuration, with the origin that won."""

    key: str
    value: Any
    origin: Origin

    def __init__(self, key: str, value: Any, origin: Origin) -> None:
        self._init(key, value, origin)


class Setting(Frozen):
    """A value one layer sets; ``raw`` keeps the text of env and CLI values for re-typing."""

    path: KeyPath
    entry: Entry
    raw: str | None

    def __init__(self, path: KeyPath, entry: Entry, raw: str | None = None) -> None:
        self._init(path, entry, raw)


class FileLayer(Frozen):
    """The user file as read once: its text, its data, its values and the line of each key."""

    path: Path
    text: str
    data: Mapping[str, Any]
    lines: Mapping[KeyPath, int]
    settings: tuple[Setting, ...]

    def __init__(
        self,
        path: Path,
        text: str,
        data: Mapping[str, Any],
        lines: Mapping[KeyPath, int],
        settings: tuple[Setting, ...],
    ) -> None:
        self._init(path, text, data, lines, settings)


class LayeredConfig:
    """Every layer's values merged; built by :func:`load_config`."""

    def __init__(self, file: FileLayer, settings: Iterable[Setting]) -> None:
        """``settings`` in precedence order, lowest first (the file's included)."""
        self._file = file
        self._settings = tuple(settings)
        self._leaves = _merge(self._settings)
        self._entries = {setting.entry.key: setting.entry for setting in self._leaves.values()}

    @property
    def path(self) -> Path:
        """The user file (it may not exist)."""
        return self._file.path

    def section(self, name: str) -> dict[str, Any]:
        """The merged values of one section as a nested dict (a copy; empty if unset)."""
        values: dict[str, Any] = {}
        for path, setting in self._leaves.items():
            if path[0] != name:
                continue
            table = values
            for part in path[1:-1]:
                table = table.setdefault(part, {})
            table[path[-1]] = copy.deepcopy(setting.entry.value)
        return values

    def get(self, key: str) -> Entry | None:
        """The winning value of one leaf key (tables are read with :meth:`section`)."""
        return self._entries.get(key)

    def entries(self) -> list[Entry]:
        """Every leaf value, sorted by key."""
        return sorted(self._entries.values(), key=lambda entry: entry.key)

    def origin(self, key: str) -> Origin | None:
        """Where a leaf came from; for a table, its header line in the file if it has one."""
        entry = self._entries.get(key)
        if entry is not None:
            return entry.origin
        line = self._file.lines.get(tuple(key.split(".")))
        if line is None or not any(name.startswith(f"{key}.") for name in self._entries):
            return None
        return Origin("file", str(self.path), line)

    @property
    def disabled(self) -> frozenset[str]:
        """The extensions ``host.disabled`` names."""
        return _disabled_names(self.get(DISABLED_KEY))

    @property
    def require_verified(self) -> bool:
        """``host.require_verified``: refuse extensions installed without an Anya receipt."""
        return _require_verified(self.get(REQUIRE_VERIFIED_KEY))

    def with_policy(
        self, settings: Iterable[Setting], *, enforced: Iterable[Setting] = ()
    ) -> LayeredConfig:
        """This configuration with an organisation's policy (``policy`` layer settings) above
        the defaults and the user's file, below the environment and ``--config``; and its
        ``enforced`` settings (security demands) above every layer."""
        lower = ("default", "file")
        return LayeredConfig(
            self._file,
            [
                *(s for s in self._settings if s.entry.origin.layer in lower),
                *settings,
                *(s for s in self._settings if s.entry.origin.layer not in lower),
                *enforced,
            ],
        )

    def with_defaults(self, name: str, schema: Schema) -> LayeredConfig:
        """This configuration with ``schema``'s defaults as the lowest layer of section ``name``.

        Environment and ``--config`` strings of that section are read again with the
        schema's types, since they were typed before the schema was known.
        """
        kept = (
            _retyped(setting, schema) if setting.path[0] == name else setting
            for setting in self._settings
            if not (setting.path[0] == name and setting.entry.origin.layer == "default")
        )
        return LayeredConfig(self._file, [*default_settings(name, schema), *kept])


def load_config(
    path: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Sequence[str] = (),
    known_extensions: Iterable[str] = (),
    schemas: Mapping[str, Mapping[str, Any]] | None = None,
) -> LayeredConfig:
    """Read the user file, the environment and ``overrides`` (``key=value``) into one view.

    ``path`` defaults to :func:`user_config_path`; a missing file is an empty layer.
    ``known_extensions`` tell which section an environment name such as
    ``ANYA_BTC_WALLET__PORT`` means; ``schemas`` (by section) type env and CLI
    strings and add their defaults.
    """
    env = os.environ if environ is None else environ
    file = read_file_layer(user_config_path(env) if path is None else path)
    typed_by = {"host": HOST_SCHEMA, **(schemas or {})}
    settings = [
        *(s for name, schema in (schemas or {}).items() for s in default_settings(name, schema)),
        *file.settings,
        *env_settings(env, known_extensions, typed_by),
        *cli_settings(overrides, typed_by),
    ]
    config = LayeredConfig(file, settings)
    # a wrong type fails now, naming its origin
    _disabled_names(config.get(DISABLED_KEY))
    _require_verified(config.get(REQUIRE_VERIFIED_KEY))
    return config


def read_disabled(path: Path, environ: Mapping[str, str] | None = None) -> frozenset[str]:
    """``host.disabled`` from the file and ``ANYA_HOST__DISABLED`` (a TOML array or ``a,b``)."""
    return load_config(path, environ=environ).disabled


def read_host_policy(
    path: Path, environ: Mapping[str, str] | None = None
) -> tuple[frozenset[str], bool]:
    """``host.disabled`` and ``host.require_verified``, from the file and the environment."""
    config = load_config(path, environ=environ)
    return config.disabled, config.require_verified


def read_file_layer(path: Path) -> FileLayer:
    """The user file's layer; broken TOML or a value outside any section is a ConfigError."""
    text = read_text(path)
    data = parse_toml(path, text)
    lines = key_lines(text)
    settings: list[Setting] = []
    origin_of = Origin("file", str(path))
    for section, table in data.items():
        if not isinstance(table, dict):
            where = located(path, lines.get((section,)))
            raise ConfigError(
                f"{where}: {section} is a value outside any section",
                hint="put it under a [section] table such as [host] or [<extension name>]",
            )
        for key_path, value in _leaves(table, (section,)):
            origin = origin_of.replace(line=line_for(lines, key_path))
            settings.append(Setting(key_path, Entry(join_key(key_path), value, origin)))
    return FileLayer(path, text, data, lines, tuple(settings))


def env_settings(
    environ: Mapping[str, str], known_extensions: Iterable[str], schemas: Mapping[str, Schema]
) -> list[Setting]:
    """The ``ANYA_<SECTION>__<KEY>`` variables, in name order."""
    sections = env_sections(known_extensions)
    settings = []
    for variable in sorted(environ):
        key_path = env_key_path(variable, sections)
        if key_path is not None:
            origin = Origin("env", variable)
            settings.append(_from_text(key_path, environ[variable], origin, schemas))
    return settings


def cli_settings(overrides: Sequence[str], schemas: Mapping[str, Schema]) -> list[Setting]:
    """The ``--config key=value`` items, later ones winning."""
    settings = []
    for item in overrides:
        key, equals, raw = item.partition("=")
        if not equals:
            raise ConfigError(
                f"--config {item!r} has no '='",
                hint="write --config <section>.<key>=<value>, e.g. --config btc-wallet.port=8333",
            )
        try:
            key_path = split_key(key)
        except ConfigError as exc:
            raise ConfigError(f"--config {item!r}: {exc.message}", hint=exc.hint) from None
        settings.append(_from_text(key_path, raw, Origin("cli", "--config"), schemas))
    return settings


def default_settings(name: str, schema: Schema) -> list[Setting]:
    origin = Origin("default", "schema")
    return [
        Setting((name, key), Entry(f"{name}.{key}", value, origin))
        for key, value in defaults(schema).items()
    ]


def _from_text(
    key_path: KeyPath, raw: str, origin: Origin, schemas: Mapping[str, Schema]
) -> Setting:
    value = coerce(raw, schemas.get(key_path[0]), key_path[1:])
    return Setting(key_path, Entry(join_key(key_path), value, origin), raw)


def _retyped(setting: Setting, schema: Schema) -> Setting:
    if setting.raw is None:
        return setting
    value = coerce(setting.raw, schema, setting.path[1:])
    entry = setting.entry
    return Setting(setting.path, Entry(entry.key, value, entry.origin), setting.raw)


def _merge(settings: Iterable[Setting]) -> dict[KeyPath, Setting]:
    merged: dict[KeyPath, Setting] = {}
    for setting in settings:
        for path in [path for path in merged if _overlap(path, setting.path)]:
            del merged[path]
        merged[setting.path] = setting
    return merged


def _overlap(one: KeyPath, other: KeyPath) -> bool:
    """Whether one path is the other or lies inside it."""
    shorter = min(len(one), len(other))
    return one[:shorter] == other[:shorter]


def _leaves(table: Mapping[str, Any], prefix: KeyPath) -> Iterator[tuple[KeyPath, Any]]:
    for key, value in table.items():
        path = (*prefix, key)
        if isinstance(value, dict) and value:
            yield from _leaves(value, path)
        else:
            yield path, value


def _disabled_names(entry: Entry | None) -> frozenset[str]:
    if entry is None:
        return frozenset()
    names = entry.value
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        problem = Problem(entry.key, "must be a list of extension names", names, entry.origin)
        raise ConfigError(str(problem), hint='write it as disabled = ["name", ...] under [host]')
    return frozenset(names)


def _require_verified(entry: Entry | None) -> bool:
    if entry is None:
        return False
    if not isinstance(entry.value, bool):
        problem = Problem(entry.key, "must be true or false", entry.value, entry.origin)
        raise ConfigError(str(problem), hint="write it as require_verified = true under [host]")
    return entry.value
