"""One error hierarchy for everything a person at the terminal may see.

Every error carries a message that names the input that was wrong, a hint
that says what to do next, and the exit code the CLI returns for it.
"""

from __future__ import annotations


class AnyaError(Exception):
    """Base of every error Anya Extensions raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(AnyaError):
    """The command line itself was wrong."""

    exit_code = 2


class MetadataError(AnyaError):
    """An extension's metadata breaks the contract (missing or invalid field)."""

    exit_code = 3

    def __init__(
        self, extension: str, field: str, problem: str, *, hint: str | None = None
    ) -> None:
        super().__init__(f"extension {extension!r}: metadata field {field}: {problem}", hint=hint)
        self.extension = extension
        self.field = field
        self.problem = problem


class ConfigError(AnyaError):
    """The configuration cannot be read, parsed or validated."""

    exit_code = 4


class ExtensionNotFound(AnyaError):
    """A command named an extension that is not installed."""

    exit_code = 5


class ExtensionFailure(AnyaError):
    """An extension raised while being loaded, configured or called."""

    exit_code = 6


class TemplateError(AnyaError):
    """The author template could not be rendered."""

    exit_code = 7
