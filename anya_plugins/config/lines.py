"""Finding the line of a table or key in TOML text, so messages can point at it.

tomllib keeps no positions, so this is a line-oriented scan: table headers,
``key = ...`` and ``dotted.key = ...`` lines, skipping multi-line strings. It is
best effort: keys inside inline tables or multi-line arrays are not found, and
then the line of the nearest enclosing key or table is used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from anya_plugins.config.keys import KeyPath

_KEY_PART = re.compile(
    r"[ \t]*"
    r"""(?:(?P<bare>[A-Za-z0-9_-]+)|"(?P<basic>(?:[^"\\]|\\.)*)"|'(?P<literal>[^']*)')"""
    r"[ \t]*"
)
_MULTILINE_QUOTES = ('"""', "'''")


def key_lines(text: str) -> dict[KeyPath, int]:
    """The 1-based line where each table and key of ``text`` first appears."""
    found: dict[KeyPath, int] = {}
    table: KeyPath = ()
    open_quote: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if open_quote is not None:
            if open_quote in line:
                open_quote = None
            continue
        stripped = line.strip()
        header = _table_header(stripped) if stripped.startswith("[") else None
        if header is not None:
            table = header
            _record(found, header, number)
            continue
        assignment = _assignment(stripped)
        if assignment is not None:
            keys, value = assignment
            _record(found, table + keys, number)
            open_quote = _opened_multiline(value.strip())
    return found


def line_for(lines: Mapping[KeyPath, int], path: KeyPath) -> int | None:
    """The line of ``path``, else of its nearest enclosing table or key, else None."""
    for length in range(len(path), 0, -1):
        line = lines.get(path[:length])
        if line is not None:
            return line
    return None


def _record(found: dict[KeyPath, int], path: KeyPath, number: int) -> None:
    for length in range(1, len(path) + 1):
        found.setdefault(path[:length], number)


def _table_header(stripped: str) -> KeyPath | None:
    brackets = 2 if stripped.startswith("[[") else 1
    parsed = _dotted_key(stripped, brackets)
    if parsed is None:
        return None
    keys, end = parsed
    return keys if stripped.startswith("]" * brackets, end) else None


def _assignment(stripped: str) -> tuple[KeyPath, str] | None:
    parsed = _dotted_key(stripped, 0)
    if parsed is None:
        return None
    keys, end = parsed
    if not stripped.startswith("=", end):
        return None
    return keys, stripped[end + 1 :]


def _dotted_key(text: str, start: int) -> tuple[KeyPath, int] | None:
    keys: list[str] = []
    position = start
    while True:
        match = _KEY_PART.match(text, position)
        if match is None:
            return None
        keys.append(_key_text(match))
        position = match.end()
        if not text.startswith(".", position):
            return tuple(keys), position
        position += 1


def _key_text(match: re.Match[str]) -> str:
    basic = match["basic"]
    if basic is None:
        return match["bare"] if match["bare"] is not None else match["literal"]
    if "\\" not in basic:
        return basic
    import tomllib  # only for an escaped key: the host reads configuration at start-up

    try:
        return str(tomllib.loads(f'k = "{basic}"')["k"])
    except tomllib.TOMLDecodeError:
        return basic


def _opened_multiline(value: str) -> str | None:
    for quote in _MULTILINE_QUOTES:
        if value.startswith(quote) and value.count(quote) == 1:
            return quote
    return None
