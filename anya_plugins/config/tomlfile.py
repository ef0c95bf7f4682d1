"""Reading the user file: its text as it is, and its data or an error that points at the spot."""

from __future__ import annotations

import re
from pathlib import Path

from anya_plugins.errors import ConfigError

TYPE_CHECKING = False  # typing costs the start-up milliseconds
if TYPE_CHECKING:
    from typing import Any

_SYNTAX_HINT = (
    "fix the TOML syntax at that spot (https://toml.io); "
    "Anya neither reads nor rewrites the file until then"
)
_AT_END = " (at end of document)"
_POSITION = re.compile(r"^(?P<problem>.*) \(at line (?P<line>\d+), column (?P<column>\d+)\)$")


def read_text(path: Path) -> str:
    """The file's text with its line endings untouched; a missing file reads as empty."""
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return ""
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {exc.start})",
            hint="TOML files must be UTF-8; re-save the file in that encoding",
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot be read: {exc.strerror or exc}",
            hint="check that it is a readable file, or point ANYA_CONFIG at another one",
        ) from None


def parse_toml(path: Path, text: str) -> dict[str, Any]:
    """The file's data; broken TOML raises ``path:line:column: problem``."""
    if not text:
        return {}  # no file, or an empty one: tomllib is not imported for nothing
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _broken_toml(path, text, str(exc)) from None


def _broken_toml(path: Path, text: str, message: str) -> ConfigError:
    position = _POSITION.match(message)
    if position is not None:
        where = located(path, int(position["line"]), int(position["column"]))
        return ConfigError(f"{where}: {position['problem']}", hint=_SYNTAX_HINT)
    if message.endswith(_AT_END):  # tomllib gives no position there; the end is the spot
        line, column = text.count("\n") + 1, len(text) - text.rfind("\n")
        return ConfigError(f"{located(path, line, column)}: {message}", hint=_SYNTAX_HINT)
    return ConfigError(f"{path}: {message}", hint=_SYNTAX_HINT)


def located(path: Path, line: int | None, column: int | None = None) -> str:
    """``path:line[:column]`` as compilers write it, so editors and terminals can jump there."""
    if line is None:
        return str(path)
    return f"{path}:{line}" if column is None else f"{path}:{line}:{column}"
