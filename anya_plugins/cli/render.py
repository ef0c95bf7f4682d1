"""Rendering results: tables for people, JSON for scripts. No logic lives here."""

from __future__ import annotations

import dataclasses
import functools
import json
import sys

TYPE_CHECKING = False  # typing costs the start-up ~6 ms
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from rich.console import Console


def to_json(value: Any) -> str:
    """``value`` (dataclasses, mappings, sequences; anything else as its ``str``) as JSON, keys
    sorted, one element of the outer list or mapping per line.

    Each element is encoded by json's C encoder, which ``indent`` would switch off: a
    thousand extensions' reports take about 7 ms this way instead of 26 (or of 120 on a busy
    machine).
    """
    try:
        return _lines(_shallow(value))
    except TypeError:  # a mapping keyed by what JSON cannot key by: stringify every key first
        return _lines(_plain(value))


def _lines(value: Any) -> str:
    if isinstance(value, dict) and value:
        members = (f"{_compact(str(key))}: {_compact(value[key])}" for key in sorted(value))
        return "{\n  " + ",\n  ".join(members) + "\n}"
    if isinstance(value, list | tuple) and value:
        return "[\n  " + ",\n  ".join(map(_compact, value)) + "\n]"
    return _compact(value)


def _compact(value: Any) -> str:
    return _ENCODER.encode(value)


def _shallow(value: Any) -> Any:
    """A dataclass instance as a mapping of its fields (their values as they are)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: getattr(value, name) for name in _field_names(type(value))}
    return value


def _shallow_or_text(value: Any) -> Any:
    """What the encoder writes for a value it does not know: a dataclass's fields, else text."""
    shallow = _shallow(value)
    return str(value) if shallow is value else shallow


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


_ENCODER = json.JSONEncoder(sort_keys=True, default=_shallow_or_text, separators=(", ", ": "))
"""One encoder for every element (``json.dumps`` would make one per call)."""


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def console(stderr: bool = False) -> Console:
    """rich loads only when something is printed: it is most of the CLI's start-up cost."""
    import os

    from rich.console import Console

    # NO_COLOR (no-color.org) means no styling at all: rich alone would keep bold.
    no_style = bool(os.environ.get("NO_COLOR"))
    return Console(
        stderr=stderr,
        highlight=False,
        soft_wrap=not sys.stdout.isatty(),
        color_system=None if no_style else "auto",
    )


def table(title: str | None, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Print a table: boxed by rich on a terminal; on a pipe or file, plain aligned columns
    that never wrap or cut a value (a path stays greppable), one row per line."""
    if not sys.stdout.isatty():
        print(plain_table(title, headers, rows), flush=True)
        return
    from rich.table import Table
    from rich.text import Text

    out = Table(title=title, show_lines=False)
    for header in headers:
        out.add_column(header, overflow="fold")
    for row in rows:
        out.add_row(*(Text(cell) for cell in row))
    console().print(out)


def plain_table(title: str | None, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest value and two spaces apart; no styling."""
    lines = [tuple(headers), *(tuple(" ".join(cell.splitlines()) for cell in row) for row in rows)]
    widths = [max(len(line[column]) for line in lines) for column in range(len(headers))]
    text = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    ]
    return "\n".join([title, *text] if title else text)


def say(text: str) -> None:
    """Plain text (and all JSON) goes out with print: no rich to load for it."""
    print(text, flush=True)


def error(message: str, hint: str | None = None) -> None:
    print(f"error: {message}", file=sys.stderr, flush=True)
    if hint:
        print(f"hint: {hint}", file=sys.stderr, flush=True)
