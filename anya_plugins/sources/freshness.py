"""Rollback protection: a source must never serve older releases than it has served before.

For every source (named by its configured primary URL, so that all its mirrors count as
one) the newest version of each project ever seen is kept. A fresh page whose newest
release is older — a stale mirror, or an attacker replaying old metadata to hold a user
on a vulnerable version — is refused instead of silently used.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from packaging.version import InvalidVersion, Version

from anya_plugins.sources.errors import SourceError


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

    def forget(self) -> None:
        """Drop every mark (``anya-ext cache clean``)."""
        self.path.unlink(missing_ok=True)

    def check(self, source: str, project: str, versions: list[Version], served_by: str) -> None:
        """Raise IndexRollback if ``versions`` stop short of the mark; raise the mark."""
        if not versions:
            return
        newest = max(versions)
        from filelock import FileLock

        self.path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(f"{self.path}.lock"):
            marks = self._read()
            key = f"{source} {project}"
            seen = _version(marks.get(key))
            if seen is not None and newest < seen:
                raise IndexRollback(
                    f"{served_by} offers {project} only up to {newest}, but this source has "
                    f"served {seen} before: a stale mirror, or old metadata replayed to hold "
                    "you back",
                    hint="try again later or another mirror; if the release was really "
                    "withdrawn, 'anya-ext cache clean' forgets what was seen",
                )
            if seen is None or newest > seen:
                marks[key] = str(newest)
                self._write(marks)

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


def _version(text: str | None) -> Version | None:
    if text is None:
        return None
    try:
        return Version(text)
    except InvalidVersion:
        return None
