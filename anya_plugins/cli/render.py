"""Rendering results: tables for people, JSON for scripts. No logic lives here."""

from __future__ import annotations

import functools
import json
import sys

from anya_plugins.metadata.frozen import Frozen

TYPE_CHECKING = False  # typing costs the start-up ~6 ms
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

    from rich.console import Console


def to_json(value: Any) -> str:
    """``value`` (frozen records, dataclasses, mappings, sequences; anything else as its
    ``str``) as JSON, keys sorted, one element of the outer list or mapping per line.

    Each element is encoded by json's C encoder, which ``indent`` would switch off, and by
    one encoder for the whole document: ``json.dumps`` or ``JSONEncoder.encode`` per element
    would make a new one each time, and at a thousand extensions' reports that alone costs a
    third of the time.
    """
    try:
        return _lines(_shallow(value), _compact_encoder())
    except TypeError:  # a mapping keyed by what JSON cannot key by: stringify every key first
        return _lines(_plain(value), _compact_encoder())


def _lines(value: Any, compact: Callable[[Any], str]) -> str:
    if isinstance(value, dict) and value:
        members = (f"{compact(str(key))}: {compact(value[key])}" for key in sorted(value))
        return "{\n  " + ",\n  ".join(members) + "\n}"
    if isinstance(value, list | tuple) and value:
        # records as their fields before the encoder sees them: not through its ``default``
        return "[\n  " + ",\n  ".join(map(compact, map(_shallow, value))) + "\n]"
    return compact(value)


def _compact_encoder() -> Callable[[Any], str]:
    """One value as compact JSON, keys sorted: json's C encoder where there is one (it is
    what ``JSONEncoder.encode`` builds for each call), the pure-Python one elsewhere."""
    encoder = json.JSONEncoder(sort_keys=True, default=_shallow_or_text, separators=(", ", ": "))
    c_make_encoder = getattr(json.encoder, "c_make_encoder", None)  # not in typeshed
    if c_make_encoder is None:
        return encoder.encode
    chunks = c_make_encoder(
        {},  # markers: a reference cycle is an error, as with json.dumps
        encoder.default,
        json.encoder.encode_basestring_ascii,
        None,  # indent
        encoder.key_separator,
        encoder.item_separator,
        encoder.sort_keys,
        encoder.skipkeys,
        encoder.allow_nan,
    )
    return lambda value: "".join(chunks(value, 0))


def _shallow(value: Any) -> Any:
    """A record's or dataclass instance's fields as a mapping (their values as they are),
    to be read only: a :class:`Frozen` record's is its own (no copy, ~1.5 ms of
    ``--json list`` at 1,000 extensions).

    dataclasses is imported only once a dataclass exists, so a ``--json`` command whose
    results are :class:`Frozen` records never imports it.
    """
    if isinstance(value, Frozen):
        return vars(value)  # only its fields: a record sets no other attribute
    cls: type = type(value)
    if hasattr(cls, "__dataclass_fields__"):  # an instance: the type of a dataclass has none
        return {name: getattr(value, name) for name in _field_names(cls)}
    return value


def _shallow_or_text(value: Any) -> Any:
    """What the encoder writes for a value it does not know: a record's fields, else text."""
    shallow = _shallow(value)
    return str(value) if shallow is value else shallow


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    import dataclasses

    return tuple(f.name for f in dataclasses.fields(cls))


def _plain(value: Any) -> Any:
    """``value`` with records as mappings and every mapping keyed by text."""
    value = _shallow(value)
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
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
