"""Rendering results: tables for people, JSON for scripts. No logic lives here."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


def to_json(value: Any) -> str:
    return json.dumps(_plain(value), indent=2, sort_keys=True, default=str)


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
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=not sys.stdout.isatty())


def table(title: str | None, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Print a table; on a pipe rich drops colour but keeps the columns."""
    from rich.table import Table
    from rich.text import Text

    out = Table(title=title, show_lines=False)
    for header in headers:
        out.add_column(header, overflow="fold")
    for row in rows:
        out.add_row(*(Text(cell) for cell in row))
    console().print(out)


def say(text: str) -> None:
    """Plain text (and all JSON) goes out with print: no rich to load for it."""
    print(text, flush=True)


def error(message: str, hint: str | None = None) -> None:
    print(f"error: {message}", file=sys.stderr, flush=True)
    if hint:
        print(f"hint: {hint}", file=sys.stderr, flush=True)
