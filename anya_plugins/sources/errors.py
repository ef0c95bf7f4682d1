"""Errors of the sources layer: a bad ``[sources]`` setting, an index that cannot be reached or
answered wrongly, and a download whose bytes are not the ones expected."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from anya_plugins.errors import AnyaError, ConfigError


class SourcesConfigError(ConfigError):
    """A key of the ``[sources]`` configuration section is missing, unknown or of the wrong type."""

    def __init__(self, key: str, problem: str, *, hint: str | None = None) -> None:
        super().__init__(f"sources.{key}: {problem}", hint=hint)
        self.key = key
        self.problem = problem


class SourceError(AnyaError):
    """Talking to a package index failed, or it answered something unusable."""

    exit_code = 8


class TransportError(SourceError):
    """One HTTP request got no usable answer: refused, timed out or dropped connection."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


@dataclass(frozen=True)
class Attempt:
    """One URL that was tried for a request, and why it did not serve it."""

    url: str
    reason: str


class IndexUnreachable(SourceError):
    """No URL of a mirror set served a request; every attempt is listed."""

    def __init__(self, request: str, attempts: Sequence[Attempt]) -> None:
        lines = "\n".join(f"  {attempt.url}: {attempt.reason}" for attempt in attempts)
        super().__init__(
            f"no mirror could serve {request}:\n{lines}",
            hint="check the network and the url and mirrors of this source under [sources]",
        )
        self.request = request
        self.attempts = tuple(attempts)


class IndexResponseError(SourceError):
    """An index answered, but not with something this client can use."""

    def __init__(self, url: str, problem: str, *, hint: str | None = None) -> None:
        super().__init__(f"{url}: {problem}", hint=hint)
        self.url = url
        self.problem = problem


class ProjectNotFound(SourceError):
    """The index has no page for this project (HTTP 404)."""

    def __init__(self, project: str, url: str) -> None:
        super().__init__(
            f"project {project!r} is not on the index {url}",
            hint="check the spelling, or look for it on another source",
        )
        self.project = project
        self.url = url


class HashMismatch(SourceError):
    """Downloaded bytes do not have the hash the index or the lock promised."""

    def __init__(
        self, filename: str, expected: str, actual: str, url: str, *, algorithm: str = "sha256"
    ) -> None:
        super().__init__(
            f"{filename}: {algorithm} hash mismatch: expected {expected}, got {actual} "
            f"(downloaded from {url})",
            hint="the file was altered or damaged on its way; nothing was kept. "
            "Try again, and report it to the index's operators if it happens again",
        )
        self.filename = filename
        self.expected = expected
        self.actual = actual
        self.url = url
        self.algorithm = algorithm


class CacheError(SourceError):
    """The download cache cannot be used (locked for too long, not writable)."""
