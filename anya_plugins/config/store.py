"""Changing the user file one key at a time, keeping its comments and layout.

Each change takes a lock beside the file, reads the file again under it and
replaces it atomically, so concurrent writers neither lose each other's changes
nor leave a half-written file; a file that is not valid TOML is never rewritten.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import tomlkit
from tomlkit.exceptions import ParseError

from anya_plugins.config.atomic import write_atomic
from anya_plugins.config.keys import KeyPath, join_key, split_key
from anya_plugins.config.layers import (
    HOST_SCHEMA,
    Entry,
    FileLayer,
    LayeredConfig,
    Origin,
    Setting,
    read_file_layer,
)
from anya_plugins.config.schema import check_section, coerce, invalid_section
from anya_plugins.config.tomlfile import located
from anya_plugins.errors import ConfigError

if TYPE_CHECKING:
    from anya_plugins.config.schema import Schema

LOCK_TIMEOUT_SECONDS = 30.0


def set_value(path: Path, key: str, raw: str, schema: Schema | None = None) -> Any:
    """Store ``key`` in the file, typed like an environment value; return what was stored.

    With ``schema`` (the section's), the value is checked before anything is written:
    a change that adds a problem to the section is refused, while problems the
    section already had (a required key not set yet, say) do not block it. Keys of
    ``[host]`` are checked against the host's own schema when none is given.
    """
    key_path = split_key(key)
    if schema is None and key_path[0] == "host":
        schema = HOST_SCHEMA
    value = coerce(raw, schema, key_path[1:])
    with _locked(path):
        file = read_file_layer(path)
        _check_assignable(file, key_path)
        if schema is not None:
            _check_change(file, key_path, value, schema)
        document = _document(file)
        table: Any = document
        for part in key_path[:-1]:
            if part not in table:
                table[part] = tomlkit.table()
            table = table[part]
        table[key_path[-1]] = value
        write_atomic(path, tomlkit.dumps(document))
    return value


def unset_value(path: Path, key: str) -> bool:
    """Remove ``key`` (a value or a whole table) from the file; False if it was not there."""
    key_path = split_key(key)
    if not path.exists():
        return False
    with _locked(path):
        file = read_file_layer(path)
        if _kind(file.data, key_path) == "missing":
            return False
        document = _document(file)
        table: Any = document
        for part in key_path[:-1]:
            table = table[part]
        del table[key_path[-1]]
        write_atomic(path, tomlkit.dumps(document))
    return True


def set_disabled(path: Path, name: str, disabled: bool) -> bool:
    """Add ``name`` to ``host.disabled`` or remove it; whether the file changed."""
    if not name.strip():
        raise ConfigError("empty extension name", hint="name the extension as it is installed")
    if not disabled and not path.exists():
        return False
    with _locked(path):
        file = read_file_layer(path)
        if (name in LayeredConfig(file, file.settings).disabled) == disabled:
            return False
        document = _document(file)
        if "host" not in document:
            document["host"] = tomlkit.table()
        host: Any = document["host"]
        if "disabled" not in host:
            host["disabled"] = tomlkit.array()
        names = host["disabled"]
        if disabled:
            names.append(name)
        else:
            for index in reversed(range(len(names))):
                if names[index] == name:
                    del names[index]
        write_atomic(path, tomlkit.dumps(document))
    return True


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold ``<path>.lock`` for the duration; failures to create or write become ConfigError."""
    from anya_plugins.flock import LockTimeout, exclusive

    lock_path = path.with_name(f"{path.name}.lock")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with exclusive(lock_path, LOCK_TIMEOUT_SECONDS):
            yield
    except LockTimeout:
        raise ConfigError(
            f"{path}: another process kept it locked for {LOCK_TIMEOUT_SECONDS:.0f} s",
            hint=f"try again; if no other anya-ext is running, delete {lock_path}",
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot be changed: {exc.strerror or exc}",
            hint="check the permissions of the file and its directory, "
            "or point ANYA_CONFIG at another file",
        ) from None


def _document(file: FileLayer) -> tomlkit.TOMLDocument:
    try:
        return tomlkit.parse(file.text)
    except ParseError as exc:
        raise ConfigError(
            f"{file.path}: {exc}", hint="fix the TOML syntax there; the file was left unchanged"
        ) from None


def _check_assignable(file: FileLayer, key_path: KeyPath) -> None:
    """Refuse to overwrite a table with a value or to reach through a value: both lose data."""
    for length in range(2, len(key_path)):
        if _kind(file.data, key_path[:length]) == "value":
            _refuse(file, key_path[:length], "is a value, so nothing can be set inside it")
    if _kind(file.data, key_path) == "table":
        _refuse(file, key_path, "is a table; set the keys inside it")


def _refuse(file: FileLayer, key_path: KeyPath, problem: str) -> None:
    raise ConfigError(
        f"{located(file.path, file.lines.get(key_path))}: {join_key(key_path)} {problem}",
        hint=f"unset {join_key(key_path)} first if you mean to replace it",
    )


def _check_change(file: FileLayer, key_path: KeyPath, value: Any, schema: Schema) -> None:
    section = key_path[0]
    change = Setting(key_path, Entry(join_key(key_path), value, Origin("cli", "config set")))
    _, before = check_section(section, schema, LayeredConfig(file, file.settings))
    _, after = check_section(section, schema, LayeredConfig(file, [*file.settings, change]))
    added = [problem for problem in after if problem not in set(before)]
    if added:
        raise invalid_section(section, added)


def _kind(data: Mapping[str, Any], key_path: KeyPath) -> Literal["missing", "table", "value"]:
    node: Any = data
    for part in key_path:
        if not isinstance(node, dict) or part not in node:
            return "missing"
        node = node[part]
    return "table" if isinstance(node, dict) else "value"
