"""Rollback protection: a source must never serve older releases than it has served before.

For every source (named by its configured primary URL, so that all its mirrors count as
one) the newest version of each project ever downloaded from it and verified is kept. A
fresh page whose newest release is older — a stale mirror, or an attacker replaying old
metadata to hold a user on a vulnerable version — is refused instead of silently used.

Only verified releases raise a mark: a version merely listed on a page proves nothing, and
marking it would let one lying mirror (listing a fake ``99.0.0``) block a project forever.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from packaging.version import InvalidVersion, Version

from anya_plugins.flock import LockTimeout, exclusive
from anya_plugins.sources.errors import SourceError

LOCK_TIMEOUT_SECONDS = 60.0


class IndexRollback(SourceError):
    """A source served a project's releases older than it served before."""


class HighWaterMarks:
    """The newest version per (source, project) ever seen, in one small JSON file."""

    FILE = "high-water.json"

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def in_cache(cls, cache_dir: Path) -> HighWaterMarks:
        return cls(cache_dir / cls.FILE)

    def forget(self, project: str | None = None) -> int:
        """Drop every mark (``anya-ext cache clean``), or one project's marks on every source
        (``anya-ext cache forget NAME``); returns how many marks were dropped."""
        if project is None:
            dropped = len(self._read())
            self.path.unlink(missing_ok=True)
            return dropped
        with self._locked():
            marks = self._read()
            kept = {k: v for k, v in marks.items() if k.rpartition(" ")[2] != project}
            self._write(kept)
            return len(marks) - len(kept)

    def check(self, source: str, project: str, versions: list[Version], served_by: str) -> None:
        """Raise IndexRollback if ``versions`` stop short of the mark (never raises it)."""
        if not versions:
            return
        newest = max(versions)
        seen = _version(self._read().get(f"{source} {project}"))
        if seen is not None and newest < seen:
            raise IndexRollback(
                f"{served_by} offers {project} only up to {newest}, but {seen} was verified "
                "from this source before: a stale mirror, or old metadata replayed to hold "
                "you back",
                hint="try again later or another mirror; if the release was really "
                f"withdrawn, 'anya-ext cache forget {project}' forgets what was seen",
            )

    def record(self, source: str, project: str, version: str) -> None:
        """A release of ``project`` was downloaded from ``source`` and verified: raise the mark."""
        self.record_all(source, [(project, version)])

    def record_all(self, source: str, releases: Sequence[tuple[str, str]]) -> None:
        """:meth:`record` for each (project, version) of ``releases``, in one write."""
        verified = [(project, v) for project, text in releases if (v := _version(text))]
        if not verified:
            return
        with self._locked():
            marks = self._read()
            raised = False
            for project, version in verified:
                key = f"{source} {project}"
                seen = _version(marks.get(key))
                if seen is None or version > seen:
                    marks[key] = str(version)
                    raised = True
            if raised:
                self._write(marks)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """The marks' lock (its directory made first)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with exclusive(self.path.with_name(f"{self.path.name}.lock"), LOCK_TIMEOUT_SECONDS):
                yield
        except LockTimeout:
            raise SourceError(
                f"{self.path}: another process kept the rollback marks locked for "
                f"{LOCK_TIMEOUT_SECONDS:.0f} s",
                hint="try again once the other anya-ext is done",
            ) from None

    def _read(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text())
        except (FileNotFoundError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def _write(self, marks: dict[str, str]) -> None:
        temporary = self.path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(marks, sort_keys=True))
        temporary.replace(self.path)


def forget_seen(cache_dir: Path, project: str) -> int:
    """Forget the newest release seen of ``project`` on every source; returns how many marks
    were dropped."""
    from packaging.utils import canonicalize_name

    return HighWaterMarks.in_cache(cache_dir).forget(str(canonicalize_name(project)))


def _version(text: str | None) -> Version | None:
    if text is None:
        return None
    try:
        return Version(text)
    except InvalidVersion:
        return None
