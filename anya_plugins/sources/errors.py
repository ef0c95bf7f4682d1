"""Errors of the sources layer: a bad ``[sources]`` setting, an index that cannot be reached or
answered wrongly, and a download whose bytes are not the ones expected.

Every message and hint is passed through :func:`redact`: a password in a source URL is never
shown, whichever error carries the URL.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from anya_plugins.errors import AnyaError, ConfigError
from anya_plugins.metadata.frozen import Frozen
from anya_plugins.sources.credentials import redact


class SourcesConfigError(ConfigError):
    """A key of the ``[sources]`` configuration section is missing, unknown or of the wrong type."""

    def __init__(self, key: str, problem: str, *, hint: str | None = None) -> None:
        super().__init__(f"sources.{key}: {redact(problem)}", hint=hint)
        self.key = key
        self.problem = redact(problem)


class CaBundleError(ConfigError):
    """The CA bundle named by ``[sources] ca_bundle`` or the environment cannot be loaded."""

    def __init__(self, where: str, path: Path, reason: str) -> None:
        super().__init__(
            f"{where}: cannot load CA certificates from {path}: {reason}",
            hint="point it at a PEM file of CA certificates (or a c_rehash directory)",
        )
        self.where = where
        self.path = path


class SourceError(AnyaError):
    """Talking to a package index failed, or it answered something unusable."""

    exit_code = 8

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(redact(message), hint=redact(hint) if hint is not None else None)


class TransportError(SourceError):
    """One HTTP request got no usable answer: refused, timed out or dropped connection."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = redact(url)
        self.reason = redact(reason)


class ResponseTooSlow(TransportError):
    """Reading one index page or metadata file took longer than its time limit: a server
    that trickles bytes is given up like one that stops sending them."""

    def __init__(self, url: str, what: str, seconds: float, key: str) -> None:
        super().__init__(
            url, f"reading the {what} took longer than the {seconds:g} s limit ({key})"
        )
        self.what = what
        self.seconds = seconds


class ResponseTooLarge(SourceError):
    """An index page or metadata file is larger than its size limit; reading stopped there."""

    def __init__(self, url: str, what: str, max_bytes: int, key: str) -> None:
        super().__init__(
            f"{url}: the {what} is larger than the {_size(max_bytes)} limit ({key})",
            hint=f"raise {key} if this index really serves a {what} this large",
        )
        self.url = redact(url)
        self.what = what
        self.max_bytes = max_bytes


class Attempt(Frozen):
    """One URL that was tried for a request, and why it did not serve it."""

    url: str
    reason: str

    def __init__(self, url: str, reason: str) -> None:
        self._init(url, reason)


class IndexUnreachable(SourceError):
    """No URL of a mirror set served a request; every attempt is listed."""

    def __init__(self, request: str, attempts: Sequence[Attempt]) -> None:
        lines = "\n".join(f"  {attempt.url}: {attempt.reason}" for attempt in attempts)
        super().__init__(
            f"no mirror could serve {request}:\n{lines}",
            hint="check the network and the url and mirrors of this source under [sources]",
        )
        self.request = redact(request)
        self.attempts = tuple(Attempt(redact(a.url), redact(a.reason)) for a in attempts)


class IndexResponseError(SourceError):
    """An index answered, but not with something this client can use."""

    def __init__(self, url: str, problem: str, *, hint: str | None = None) -> None:
        super().__init__(f"{url}: {problem}", hint=hint)
        self.url = redact(url)
        self.problem = problem


def unexpected_status(url: str, status: int, reason: str, *, what: str = "") -> IndexResponseError:
    """An index answered ``status`` where 200 was wanted (``what``: for which file); a 401 or
    403 says how to give the credentials this client sends."""
    problem = f"HTTP {status} {reason}".rstrip() + (f" {what}" if what else "")
    return IndexResponseError(url, problem, hint=credentials_hint(url, status))


def credentials_hint(url: str, status: int) -> str | None:
    """How to give credentials for ``url`` after a 401 (none sent) or 403 (not allowed)."""
    if status not in (401, 403):
        return None
    host = urlsplit(url).hostname or "HOST"
    where = (
        "put USER:PASSWORD@ before the host in the source's URL (anya-ext config set "
        "sources.<source>.url URL, or the variable "
        f"ANYA_SOURCES__<SOURCE>__URL), in a netrc entry (machine {host} login USER password "
        "PASSWORD in ~/.netrc or $NETRC), or in the system keyring (keyring set "
        f"{host} USER, with the keyring package installed)"
    )
    if status == 401:
        return f"this index is private and no credentials were sent for {host}: {where}"
    return f"the credentials sent for {host} are not allowed to read this index: {where}"


class ProjectNotFound(SourceError):
    """The index has no page for this project (HTTP 404)."""

    def __init__(self, project: str, url: str) -> None:
        super().__init__(
            f"project {project!r} is not on the index {url}",
            hint="check the spelling, or look for it on another source",
        )
        self.project = project
        self.url = redact(url)


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
        self.url = redact(url)
        self.algorithm = algorithm


class CacheError(SourceError):
    """The download cache cannot be used (locked for too long, not writable)."""


def _size(count: int) -> str:
    for unit, factor in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if count >= factor and count % factor == 0:
            return f"{count // factor} {unit}"
    return f"{count} bytes"
