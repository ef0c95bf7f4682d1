"""Dotted configuration keys, and how environment variable names map onto them.

A key is ``<section>.<key>[.<subkey>...]``; inside the package it travels as a
tuple of parts (a ``KeyPath``) so that merging can compare parts, not text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from anya_plugins.errors import ConfigError
from anya_plugins.metadata.taxonomy import RESERVED_NAMES

KeyPath = tuple[str, ...]

ENV_PREFIX = "ANYA_"
ENV_SEPARATOR = "__"
_KEY_HINT = "write keys as <section>.<key>, e.g. btc-wallet.port or host.disabled"


def split_key(key: str) -> KeyPath:
    """The parts of a dotted key; a key must name a section and at least one key in it."""
    stripped = key.strip()
    if not stripped:
        raise ConfigError("empty configuration key", hint=_KEY_HINT)
    parts = tuple(stripped.split("."))
    if any(not part for part in parts):
        raise ConfigError(f"configuration key {key!r} has an empty part", hint=_KEY_HINT)
    if len(parts) < 2:
        raise ConfigError(
            f"configuration key {key!r} names only a section, not a key in it", hint=_KEY_HINT
        )
    return parts


def join_key(path: Iterable[str]) -> str:
    return ".".join(path)


def env_sections(known_extensions: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Section names by their environment spelling; more than one name means ambiguous."""
    by_spelling: dict[str, set[str]] = {}
    for name in (*RESERVED_NAMES, *known_extensions):
        by_spelling.setdefault(_env_spelling(name), set()).add(name)
    return {spelling: tuple(sorted(names)) for spelling, names in by_spelling.items()}


def env_key_path(variable: str, sections: Mapping[str, tuple[str, ...]]) -> KeyPath | None:
    """The key an ``ANYA_<SECTION>__<KEY>[__<SUBKEY>]`` variable sets; None for other variables.

    ``ANYA_CONFIG`` and the like (no ``__``) are settings of the host, not values.
    """
    if not variable.startswith(ENV_PREFIX) or ENV_SEPARATOR not in variable:
        return None
    section_part, *key_parts = variable[len(ENV_PREFIX) :].split(ENV_SEPARATOR)
    if not section_part or not all(key_parts):
        raise ConfigError(
            f"environment variable {variable} has an empty section or key",
            hint="name it ANYA_<SECTION>__<KEY>, e.g. ANYA_BTC_WALLET__PORT, or unset it",
        )
    spelling = _env_spelling(section_part)
    candidates = sections.get(spelling, (spelling,))
    if len(candidates) > 1:
        raise ConfigError(
            f"environment variable {variable} could mean section "
            + " or ".join(repr(name) for name in candidates),
            hint="set this value in the configuration file or with --config instead",
        )
    return (candidates[0], *(part.lower() for part in key_parts))


def _env_spelling(name: str) -> str:
    return name.replace("-", "_").lower()
