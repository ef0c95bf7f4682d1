"""The download cache shared by every install of a user: files by sha256, index pages by TTL."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from anya_plugins.sources.cache import CacheInfo, DownloadCache
    from anya_plugins.sources.settings import CacheSettings


@dataclass(frozen=True)
class CachedFile:
    """Where :meth:`PackageCache.get_or_fetch` put the file, and whether it had to fetch it."""

    path: Path
    sha256: str
    fetched: bool


class PackageCache:
    """The cache a configuration names (``[sources.cache]``: directory, ``max_size_mb``,
    ``page_ttl_seconds``); build the settings with
    :meth:`~anya_plugins.api.Configuration.cache`. Entries are checked against their
    sha256 whenever they are read; the least recently used go first when it is full."""

    def __init__(self, settings: CacheSettings) -> None:
        self.settings = settings

    @property
    def max_bytes(self) -> int:
        return self.settings.max_bytes

    @property
    def page_ttl(self) -> timedelta:
        """How long an index page stays fresh."""
        return timedelta(seconds=self.settings.page_ttl_seconds)

    def get(self, sha256: str, target: Path) -> bool:
        """Copy the cached file with this sha256 to ``target``; False when not cached."""
        return self._cache().copy_to(sha256.lower(), target)

    def get_or_fetch(
        self, sha256: str, target: Path, fetch: Callable[[Path], object]
    ) -> CachedFile:
        """The file with this sha256 at ``target``: from the cache, else written by
        ``fetch(path)``, checked against ``sha256`` (a mismatch raises
        :class:`~anya_plugins.trust.errors.VerificationFailed` and nothing is kept), and
        stored for next time."""
        from anya_plugins.api.verification import Verifier

        wanted = sha256.lower()
        cache = self._cache()
        if cache.copy_to(wanted, target):
            return CachedFile(target, wanted, fetched=False)
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="anya-fetch-", dir=target.parent) as scratch:
            fetched = Path(scratch) / target.name
            fetch(fetched)
            Verifier.checksum(fetched, wanted)
            cache.store(wanted, fetched)
            fetched.replace(target)
        return CachedFile(target, wanted, fetched=True)

    def info(self) -> CacheInfo:
        """Where the cache is, how many files and pages it holds, and their size in bytes."""
        return self._cache().info()

    def size(self) -> int:
        """Bytes stored (files and pages)."""
        return self.info().bytes

    def clean(self, older_than: timedelta | None = None) -> int:
        """Remove every entry, or those unused for ``older_than``; returns the bytes freed.
        Emptying it also forgets the newest release seen of each project."""
        from anya_plugins.sources.cache import clean

        freed = clean(self.settings, older_than)
        if older_than is None:
            from anya_plugins.sources.freshness import HighWaterMarks

            HighWaterMarks.in_cache(self.settings.dir).forget()
        return freed

    def forget(self, project: str) -> int:
        """Forget the newest release seen of one project (the rollback protection's mark),
        e.g. after its publisher deleted a release; returns the marks dropped."""
        from anya_plugins.sources.freshness import forget_seen

        return forget_seen(self.settings.dir, project)

    def _cache(self) -> DownloadCache:
        from anya_plugins.sources.cache import DownloadCache

        return DownloadCache.from_settings(self.settings)
