"""Reading one configuration section into typed settings, with errors that name the key and
where its value was set (file and line, environment variable, or ``--config``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from anya_plugins.errors import AnyaError

TYPE_CHECKING = False  # typing costs the start-up milliseconds
if TYPE_CHECKING:
    from typing import Any, Protocol

    class KeyError_(Protocol):
        def __call__(self, key: str, problem: str, *, hint: str | None = None) -> AnyaError: ...


Origins = Callable[[str], object | None]
"""``LayeredConfig.origin``: where a dotted key's value came from, or None."""


class SectionReader:
    """Type checks for one parse of ``[section]``; every failure is ``make_error(key, ...)``."""

    def __init__(self, section: str, origins: Origins | None, make_error: KeyError_) -> None:
        self._section = section
        self._origins = origins
        self._make_error = make_error

    def error(self, key: str, problem: str, *, hint: str | None = None) -> AnyaError:
        # Only whole leaves have an origin: ``publishers[0].names`` was set with ``publishers``.
        leaf = key.split("[", 1)[0]
        origin = self._origins(f"{self._section}.{leaf}") if self._origins and leaf else None
        where = f" (from {origin})" if origin is not None else ""
        return self._make_error(key, f"{problem}{where}", hint=hint)

    def known_keys(self, prefix: str, table: Mapping[str, Any], known: tuple[str, ...]) -> None:
        for key in table:
            if key not in known:
                full = f"{prefix}.{key}" if prefix else key
                raise self.error(full, "unknown key", hint=f"keys allowed here: {', '.join(known)}")

    def table(self, key: str, value: Any) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.error(key, f"must be a table, not {value!r}")
        return value

    def text(self, key: str, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, f"must be a non-empty string, not {value!r}")
        return value.strip()

    def flag(self, key: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, not {value!r}")
        return value

    def number(self, key: str, value: Any, *, positive: bool = False) -> int | float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(key, f"must be a number, not {value!r}")
        if value < 0 or (positive and value == 0):
            raise self.error(key, f"must be {'above' if positive else 'at least'} 0, not {value}")
        return value

    def items(self, key: str, value: Any) -> list[Any]:
        """A list; a string (from the environment or ``--config``) is split on commas."""
        if isinstance(value, str):
            value = [item for item in (part.strip() for part in value.split(",")) if item]
        if not isinstance(value, list):
            raise self.error(key, f"must be a list, not {value!r}")
        return value
