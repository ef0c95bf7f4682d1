"""The download cache, shared by every install of this user.

Under the cache directory::

    files/<2 hex>/<sha256>        file contents by their sha256: immutable once stored
    pages/<2 hex>/<sha256 of key> index pages: one JSON header line, then the body as served
    tmp/                          files being written (see :mod:`~anya_plugins.sources.tempfiles`)
    .lock                         held while anything is added or removed

Entries appear by ``os.replace`` from ``tmp/``, so a reader sees a whole entry or none, and
the lock keeps concurrent installs from evicting under each other's feet. A read touches
the entry's modification time; when the cache is over its size limit the least recently
used entries go first. A file entry is checked against its name whenever it is read, so
damage on disk is dropped instead of installed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from anya_plugins.sources.errors import CacheError

if TYPE_CHECKING:
    from filelock import BaseFileLock
from anya_plugins.sources.settings import DEFAULT_PAGE_TTL_SECONDS, CacheSettings
from anya_plugins.sources.tempfiles import copy_verified, remove_stale, temporary_file

log = logging.getLogger(__name__)

LOCK_TIMEOUT_SECONDS = 60.0
_SHA256_LENGTH = 64


@dataclass(frozen=True)
class CacheInfo:
    """What the cache holds."""

    path: Path
    files: int
    bytes: int
    """Everything stored: files and pages."""
    pages: int


@dataclass(frozen=True)
class CachedPage:
    """An index page as it was served, and when."""

    url: str
    content_type: str
    body: bytes
    fetched_at: float


@dataclass(frozen=True)
class _Entry:
    path: Path
    size: int
    used_at: float


class DownloadCache:
    """Downloaded files by sha256 and index pages by key, under one directory."""

    def __init__(
        self,
        root: Path,
        *,
        max_bytes: int | None = None,
        page_ttl_seconds: float = DEFAULT_PAGE_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.page_ttl_seconds = page_ttl_seconds
        self._clock = clock
        self._files = root / "files"
        self._pages = root / "pages"
        self._tmp = root / "tmp"
        self._lock: BaseFileLock | None = None  # made on first use: filelock is slow to import

    @classmethod
    def from_settings(
        cls, settings: CacheSettings, *, clock: Callable[[], float] = time.time
    ) -> DownloadCache:
        return cls(
            settings.dir,
            max_bytes=settings.max_bytes,
            page_ttl_seconds=settings.page_ttl_seconds,
            clock=clock,
        )

    def copy_to(self, sha256: str, target: Path) -> bool:
        """Copy the file with this hash to ``target`` (atomically); False if not cached."""
        path = self._file_path(sha256)
        source = self._open(path)  # an open file survives another process's eviction
        if source is None:
            return False
        with source:
            copied = copy_verified(source, target, sha256)
        if not copied:
            self._drop_damaged(path)
            return False
        self._touch(path)
        return True

    def read_bytes(self, sha256: str) -> bytes | None:
        """The bytes of a small cached file (core metadata), or None if not cached."""
        path = self._file_path(sha256)
        source = self._open(path)
        if source is None:
            return None
        with source:
            data = source.read()
        if hashlib.sha256(data).hexdigest() != sha256:
            self._drop_damaged(path)
            return None
        self._touch(path)
        return data

    def store(self, sha256: str, source: Path) -> None:
        """Copy a file whose hash was verified into the cache; evict if over the limit."""
        with source.open("rb") as reader:
            self._write(self._file_path(sha256), lambda out: shutil.copyfileobj(reader, out))

    def store_bytes(self, sha256: str, data: bytes) -> None:
        """Store verified bytes (core metadata) under their hash."""
        self._write(self._file_path(sha256), lambda out: out.write(data))

    def page(self, key: str) -> CachedPage | None:
        """The page stored under ``key`` while it is fresh (younger than the page TTL)."""
        path = self._page_path(key)
        source = self._open(path)
        if source is None:
            return None
        with source:
            header, _, body = source.read().partition(b"\n")
        try:
            fields = json.loads(header)
            page = CachedPage(
                url=str(fields["url"]),
                content_type=str(fields["content_type"]),
                body=body,
                fetched_at=float(fields["fetched_at"]),
            )
        except (ValueError, KeyError, TypeError):
            self._drop_damaged(path)
            return None
        if self._clock() - page.fetched_at >= self.page_ttl_seconds:
            return None
        self._touch(path)
        return page

    def store_page(self, key: str, *, url: str, content_type: str, body: bytes) -> None:
        """Store a page fetched just now from ``url``."""
        page = CachedPage(url=url, content_type=content_type, body=body, fetched_at=self._clock())
        header = {"url": page.url, "content_type": page.content_type, "fetched_at": page.fetched_at}
        content = json.dumps(header).encode() + b"\n" + page.body
        self._write(self._page_path(key), lambda out: out.write(content))

    def info(self) -> CacheInfo:
        files = list(_entries(self._files))
        pages = list(_entries(self._pages))
        size = sum(entry.size for entry in (*files, *pages))
        return CacheInfo(path=self.root, files=len(files), bytes=size, pages=len(pages))

    def clean(self, older_than: timedelta | None = None) -> int:
        """Remove every entry (or those unused for ``older_than``) and dead temporary
        files; returns the bytes freed."""
        now = self._clock()
        with self._locked():
            freed = remove_stale(self._tmp, now=now)
            for entry in (*_entries(self._files), *_entries(self._pages)):
                if older_than is None or entry.used_at < now - older_than.total_seconds():
                    freed += _remove(entry)
        return freed

    def _write(self, target: Path, fill: Callable[[BinaryIO], object]) -> None:
        """Write an entry through a file in ``tmp/``, then evict if over the limit.

        A cache that cannot be written is reported and passed over: it only saves downloads.
        """
        try:
            with self._locked(), temporary_file(self._tmp) as temp:
                fill(temp.handle)
                target.parent.mkdir(parents=True, exist_ok=True)
                temp.commit(target)
                self._touch(target)
                self._evict()
        except (CacheError, OSError) as exc:
            log.warning("download cache %s not writable: %s", self.root, exc)

    def _evict(self) -> None:
        """Remove least recently used entries until the cache fits its limit (lock held)."""
        remove_stale(self._tmp, now=self._clock())
        if self.max_bytes is None:
            return
        entries = sorted(
            (*_entries(self._files), *_entries(self._pages)),
            key=lambda entry: (entry.used_at, entry.path),
        )
        total = sum(entry.size for entry in entries)
        for entry in entries:
            if total <= self.max_bytes:
                break
            log.debug("cache over %d bytes: evicting %s", self.max_bytes, entry.path)
            total -= _remove(entry)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        from filelock import FileLock, Timeout

        if self._lock is None:
            self._lock = FileLock(self.root / ".lock", timeout=LOCK_TIMEOUT_SECONDS)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with self._lock:
                yield
        except Timeout:
            raise CacheError(
                f"the download cache {self.root} stayed locked for {LOCK_TIMEOUT_SECONDS:.0f} s",
                hint="another install is using it; wait for it, or remove a stale .lock file",
            ) from None
        except PermissionError as exc:
            raise CacheError(
                f"the download cache {self.root} is not writable: {exc.strerror}",
                hint="set [sources.cache] dir to a directory you can write to",
            ) from None

    def _open(self, path: Path) -> BinaryIO | None:
        """The entry opened for reading; None when it is not there or the cache is unusable."""
        try:
            return path.open("rb")
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("download cache %s not readable: %s", self.root, exc)
            return None

    def _touch(self, path: Path) -> None:
        now = self._clock()
        with contextlib.suppress(FileNotFoundError):  # evicted by another process meanwhile
            os.utime(path, (now, now))

    def _drop_damaged(self, path: Path) -> None:
        log.warning("dropping damaged cache entry %s", path)
        path.unlink(missing_ok=True)

    def _file_path(self, sha256: str) -> Path:
        if not is_sha256(sha256):
            raise ValueError(f"not a lower-case sha256 hex digest: {sha256!r}")
        return self._files / sha256[:2] / sha256

    def _page_path(self, key: str) -> Path:
        name = hashlib.sha256(key.encode()).hexdigest()
        return self._pages / name[:2] / name


def cache_info(settings: CacheSettings) -> CacheInfo:
    """What the configured cache holds (for ``anya-ext cache info``)."""
    return DownloadCache.from_settings(settings).info()


def clean(settings: CacheSettings, older_than: timedelta | None = None) -> int:
    """Empty the configured cache, or drop what was unused for ``older_than``; bytes freed."""
    return DownloadCache.from_settings(settings).clean(older_than)


def is_sha256(value: str) -> bool:
    """Whether ``value`` is a lower-case sha256 hex digest, as cache entries are named."""
    return len(value) == _SHA256_LENGTH and all(c in "0123456789abcdef" for c in value)


def _entries(directory: Path) -> Iterator[_Entry]:
    try:
        buckets = [Path(bucket.path) for bucket in os.scandir(directory) if bucket.is_dir()]
    except FileNotFoundError:
        return
    for bucket in buckets:
        try:
            children = list(os.scandir(bucket))
        except FileNotFoundError:
            continue
        for child in children:
            try:
                stat = child.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            yield _Entry(Path(child.path), stat.st_size, stat.st_mtime)


def _remove(entry: _Entry) -> int:
    try:
        entry.path.unlink()
    except FileNotFoundError:
        return 0
    return entry.size
