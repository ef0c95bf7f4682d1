"""Errors of the registry layer: a broken layout, a devpi that refused, a server that won't run."""

from __future__ import annotations

from anya_plugins.errors import AnyaError


class RegistryError(AnyaError):
    """Something about the registry (layout, devpi server, devpi API) went wrong."""

    exit_code = 12


class LayoutError(RegistryError):
    """The layout file is missing, not TOML, or says something inconsistent."""

    def __init__(self, source: str, key: str, problem: str, *, hint: str | None = None) -> None:
        where = f"{source}: {key}" if key else source
        super().__init__(f"{where}: {problem}", hint=hint)
        self.source = source
        self.key = key
        self.problem = problem


class DevpiError(RegistryError):
    """devpi-server answered a request with an error, or could not be reached."""

    def __init__(
        self, method: str, url: str, status: int | None, problem: str, *, hint: str | None = None
    ) -> None:
        answer = f"HTTP {status}" if status is not None else "no answer"
        super().__init__(f"{method} {url}: {answer}: {problem}", hint=hint)
        self.method = method
        self.url = url
        self.status = status
        self.problem = problem


class ServerError(RegistryError):
    """The embedded devpi-server could not be initialised, started or stopped."""
