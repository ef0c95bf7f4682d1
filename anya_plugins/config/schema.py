"""An extension's JSON Schema applied to its section: typing strings, defaults, validation.

``jsonschema`` is imported only when a section is validated, never at host start-up.

A schema is checked against the JSON Schema metaschema once per content, not once per
validation: checking costs about a millisecond (3.3 s of activating 1,000 extensions),
validating a section against it some microseconds. The digests of the schemas that passed
are remembered in the process (:data:`CHECKED`) and, by the host, across processes.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, MutableSet, Sequence

from anya_plugins.config.keys import join_key
from anya_plugins.errors import ConfigError
from anya_plugins.metadata.frozen import Frozen

TYPE_CHECKING = False  # typing costs the start-up milliseconds
if TYPE_CHECKING:
    from typing import Any, TypeAlias

    from anya_plugins.config.layers import LayeredConfig, Origin

    Schema: TypeAlias = Mapping[str, Any]

CHECKED: set[str] = set()
"""Digests (:func:`schema_digest`) of the schemas that passed the metaschema in this process."""

_METASCHEMA = "https://json-schema.org/draft/2020-12/schema"
"""The metaschema schemas are checked against; part of every digest."""


class Problem(Frozen):
    """One thing wrong with a value; two problems are the same if key and message are."""

    key: str
    message: str
    value: Any
    origin: Origin | None

    def __init__(self, key: str, message: str, value: Any, origin: Origin | None) -> None:
        self._init(key, message, value, origin)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Problem) and other.__class__ is self.__class__:
            return (self.key, self.message) == (other.key, other.message)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.key, self.message))

    def __str__(self) -> str:
        shown = "" if isinstance(self.value, dict) else f" = {self.value!r}"
        where = f" (from {self.origin})" if self.origin is not None else ""
        return f"{self.key}{shown}{where}: {self.message}"


def coerce(raw: str, schema: Schema | None, key_path: Sequence[str]) -> Any:
    """The value a string from the environment or the command line stands for.

    A key the schema types as a string keeps the text as given (``007`` stays
    ``"007"``); anything else is read as a TOML value (``8332``, ``true``,
    ``[1, 2]``, ``"x"``), else kept as text. An array of strings also takes
    comma-separated names (``a,b``), the shell-friendly spelling.
    """
    node = subschema(schema, key_path)
    types = _types(node)
    if "string" in types and types <= {"string", "null"}:
        return raw
    parsed, value = _toml_value(raw)
    if parsed and (isinstance(value, list) or not _is_string_array(node)):
        return value
    if _is_string_array(node):
        return [name.strip() for name in raw.split(",") if name.strip()]
    return raw


def subschema(schema: Schema | None, key_path: Sequence[str]) -> Schema | None:
    """The schema of one key, following ``properties``; None where the schema says nothing."""
    node = schema
    for part in key_path:
        node = _mapping(_mapping(node, "properties"), part)
    return node


def defaults(schema: Schema) -> dict[str, Any]:
    """The ``default`` of each top-level property that has one."""
    properties = _mapping(schema, "properties") or {}
    return {
        key: copy.deepcopy(spec["default"])
        for key, spec in properties.items()
        if isinstance(spec, Mapping) and "default" in spec
    }


def validate_section(
    name: str, schema: Schema, config: LayeredConfig, *, checked: MutableSet[str] = CHECKED
) -> dict[str, Any]:
    """The section ``name`` merged from every layer, defaults filled, checked against ``schema``.

    Raises ConfigError listing every problem, each with the layer (and file line)
    its value came from, so the person can fix them all in one go. ``checked``: digests of
    schemas known to pass the metaschema (see :func:`check_schema`).
    """
    values, problems = check_section(name, schema, config, checked=checked)
    if problems:
        raise invalid_section(name, problems)
    return values


def check_section(
    name: str, schema: Schema, config: LayeredConfig, *, checked: MutableSet[str] = CHECKED
) -> tuple[dict[str, Any], list[Problem]]:
    """The merged section with defaults filled, and what is wrong with it (sorted by key).

    A section nobody set is the schema's defaults alone, so whether it passes depends on the
    schema only: that is remembered in ``checked`` too (for schemas without ``format``,
    whose checks depend on the packages installed), and jsonschema is then not imported.
    """
    text = _canonical(schema)
    _check_schema(name, schema, text, checked)
    defaults_only = _defaults_digest(text) if not config.section(name) else None
    if defaults_only is not None and defaults_only in checked:
        return defaults(schema), []
    layered = config.with_defaults(name, schema)
    values = layered.section(name)
    from jsonschema import Draft202012Validator  # type: ignore[import-untyped, unused-ignore]
    from jsonschema.exceptions import SchemaError  # type: ignore[import-untyped, unused-ignore]

    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    try:
        errors = list(validator.iter_errors(values))
    except SchemaError as exc:  # only if a digest said valid what is not (a forged cache)
        raise _invalid_schema(name, exc.message) from None
    problems = {
        _problem(layered, (name, *map(str, error.absolute_path)), error) for error in errors
    }
    if defaults_only is not None and not problems:
        checked.add(defaults_only)
    return values, sorted(problems, key=lambda problem: (problem.key, problem.message))


def check_schema(name: str, schema: Schema, checked: MutableSet[str] = CHECKED) -> None:
    """Raise ConfigError unless ``schema`` is a valid draft 2020-12 schema; a schema whose
    digest is in ``checked`` passed before, and one that passes now has its digest added."""
    _check_schema(name, schema, _canonical(schema), checked)


def _check_schema(name: str, schema: Schema, text: str | None, checked: MutableSet[str]) -> None:
    digest = _schema_digest(text)
    if digest in checked:
        return
    from jsonschema import Draft202012Validator  # type: ignore[import-untyped, unused-ignore]
    from jsonschema.exceptions import SchemaError  # type: ignore[import-untyped, unused-ignore]

    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise _invalid_schema(name, exc.message) from None
    if digest is not None:
        checked.add(digest)


def schema_digest(schema: Schema) -> str | None:
    """sha256 of the schema as canonical JSON, with the metaschema it is checked against;
    None for a schema that is not plain JSON data (it is then checked every time)."""
    return _schema_digest(_canonical(schema))


def _schema_digest(text: str | None) -> str | None:
    return None if text is None else _sha256(f"{_METASCHEMA}\n{text}")


def _defaults_digest(text: str | None) -> str | None:
    """What says that the defaults alone pass the schema whose canonical JSON is ``text``;
    None where that may depend on more than the schema (``format`` checks depend on the
    packages installed)."""
    if text is None or '"format"' in text:
        return None
    return _sha256(f"defaults pass\n{_METASCHEMA}\n{text}")


def _canonical(schema: Schema) -> str | None:
    import json

    try:
        return json.dumps(schema, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        return None


def _sha256(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()


def _invalid_schema(name: str, message: str) -> ConfigError:
    return ConfigError(
        f"the configuration schema of {name!r} is itself invalid: {message}",
        hint="this is a bug in the extension; report it to its authors",
    )


def invalid_section(name: str, problems: Sequence[Problem]) -> ConfigError:
    lines = "\n".join(f"  {problem}" for problem in problems)
    return ConfigError(
        f"configuration of {name!r} is not valid:\n{lines}",
        hint="change each value where it comes from: the file line, "
        "the environment variable or the --config option named",
    )


def _problem(config: LayeredConfig, path: tuple[str, ...], error: Any) -> Problem:
    origin = None
    for length in range(len(path), 0, -1):
        origin = config.origin(join_key(path[:length]))
        if origin is not None:
            break
    return Problem(join_key(path), str(error.message), error.instance, origin)


def _toml_value(raw: str) -> tuple[bool, Any]:
    if raw[:1].isalpha() and raw[0] not in "tfin":
        # A TOML value starting with a letter is true, false, inf or nan: a URL or a name
        # is text without importing tomllib (~3 ms of a command's start-up).
        return False, None
    import tomllib

    try:
        document = tomllib.loads(f"v = {raw}")
    except tomllib.TOMLDecodeError:
        return False, None
    if document.keys() != {"v"}:
        return False, None  # text such as "1\nw = 2" is not one value
    return True, document["v"]


def _is_string_array(node: Schema | None) -> bool:
    return _types(node) == {"array"} and _types(_mapping(node, "items")) == {"string"}


def _types(node: Schema | None) -> set[str]:
    declared = node.get("type") if node is not None else None
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return {kind for kind in declared if isinstance(kind, str)}
    return set()


def _mapping(node: Schema | None, key: str) -> Schema | None:
    child = node.get(key) if node is not None else None
    return child if isinstance(child, Mapping) else None
