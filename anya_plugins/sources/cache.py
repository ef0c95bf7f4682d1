"""The download cache, shared by every install of this user.

Under the cache directory::

    files/<2 hex>/<sha256>        file contents by their sha256: immutable once stored
    pages/<2 hex>/<sha256 of key> index pages: one JSON header line, then the body as served
    staged/<sha256>/<file name>   verified files handed to the installer, at a path that stays
                                  the same from run to run (see :meth:`DownloadCache.stage_all`)
    tmp/                          files being written (see :mod:`~anya_plugins.sources.tempfiles`)
    usage                         the bytes stored, as counted by every write since the last scan
    .lock                         held while anything is added or removed

Entries appear by ``os.replace`` from ``tmp/``, so a reader sees a whole entry or none, and
the lock keeps concurrent installs from evicting under each other's feet. A read touches
the entry's modification time; when the cache is over its size limit the least recently
used entries go first. A file entry is checked against its name whenever it is read, and a
page against the sha256 stored in its header, so damage on disk — or an entry cut short by
a crash, since entries are not synced to disk — is dropped instead of used.

A write adds its size to the ``usage`` count rather than scanning the cache: the cache is
scanned (and then evicted from) only when the count passes the limit, when the count is
missing or unreadable, or once it is a day old, which also corrects any drift (a writer
killed between its entry and the count, another tool deleting entries). A write that replaces
an entry of the same size (a page fetched again, unchanged but for its fetch time) changes no
count and takes no lock.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from anya_plugins.flock import LockTimeout, exclusive
from anya_plugins.sources.errors import CacheError
from anya_plugins.sources.settings import DEFAULT_PAGE_TTL_SECONDS, CacheSettings
from anya_plugins.sources.tempfiles import (
    copy_hashing,
    copy_verified,
    remove_stale,
    temporary_file,
)

log = logging.getLogger(__name__)

LOCK_TIMEOUT_SECONDS = 60.0
RESCAN_SECONDS = 86400.0
"""How old the ``usage`` count may get before a write scans the cache again."""
_SHA256_LENGTH = 64


@dataclass(frozen=True)
class CacheInfo:
    """What the cache holds."""

    path: Path
    files: int
    bytes: int
    """Everything stored: files, pages and staged files."""
    pages: int
    staged: int = 0
    """Verified files staged for the installer: copies, so the cache holds an installed
    file twice until one of them is evicted."""


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
    in_own_directory: bool = False
    """A staged file: its directory goes with it."""


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
        self._staged = root / "staged"
        self._tmp = root / "tmp"
        self._usage = root / "usage"
        # Threads of this process queue here: waiting on the file lock means polling it.
        self._thread_lock = threading.Lock()

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

    def copy_to(self, sha256: str, target: Path, *, durable: bool = True) -> bool:
        """Copy the file with this hash to ``target`` (atomically; synced to disk unless not
        ``durable``); False if not cached."""
        path = self._file_path(sha256)
        source = self._open(path)  # an open file survives another process's eviction
        if source is None:
            return False
        with source:
            copied = copy_verified(source, target, sha256, durable=durable)
        if not copied:
            self._drop_damaged(path)
            return False
        self._touch(path)
        return True

    def read_bytes(self, sha256: str, *, max_bytes: int | None = None) -> bytes | None:
        """The bytes of a small cached file (core metadata, a small wheel), or None if not
        cached or, with ``max_bytes``, larger than that."""
        path = self._file_path(sha256)
        source = self._open(path)
        if source is None:
            return None
        with source:
            if max_bytes is not None and os.fstat(source.fileno()).st_size > max_bytes:
                return None
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

    def stage_all(self, files: Sequence[tuple[str, str, Path]]) -> list[Path]:
        """Each ``(sha256, filename, source)`` — ``source`` a file whose bytes were verified
        to have this sha256 — at ``staged/<sha256>/<filename>``, a path that is the same in
        every run: uv keeps what it unpacked from a local wheel by its path and ctime, so it
        unpacks a staged wheel once.

        A staged file is written once and never touched again (a touch would change its
        ctime); a use is marked on its directory, which is what eviction reads as its last
        use. One already staged is used only if its bytes still have the hash; the others
        are copied (and hashed as they are) first, then put in place together, under one
        hold of the lock. ``source`` itself for a file the cache could not take."""
        for sha256, filename, _source in files:
            if not is_sha256(sha256) or filename in ("", ".", "..") or "/" in filename:
                raise ValueError(f"not a staged file: {sha256!r} {filename!r}")
        paths = [self._staged / sha256 / filename for sha256, filename, _source in files]
        missing = [
            (path, source, sha256)
            for (sha256, _filename, source), path in zip(files, paths, strict=True)
            if not _has_hash(path, sha256)
        ]
        unwritten = {path for path, _source, _sha256 in missing}
        if missing:
            copies = [(path, _verified_copy(source, sha256)) for path, source, sha256 in missing]
            unwritten -= self._write_all(copies, touch=False)
        staged = []
        for (_sha256, _filename, source), path in zip(files, paths, strict=True):
            if path in unwritten:
                staged.append(source)
                continue
            self._touch(path.parent)
            staged.append(path)
        return staged

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
            stored = fields.get("sha256")  # entries written before it was kept have none
            if stored is not None and stored != _sha256_hex(body):
                raise ValueError("the body is not the one stored")
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
        fields = json.dumps(
            {"url": page.url, "content_type": page.content_type, "sha256": _sha256_hex(body)}
        )
        # The time in one width: a page fetched again unchanged is an entry of the same size,
        # which replaces the old one without a count to change (see _write).
        header = f'{fields[:-1]}, "fetched_at": {page.fetched_at:.6f}}}'
        content = header.encode() + b"\n" + page.body
        self._write(self._page_path(key), lambda out: out.write(content))

    def info(self) -> CacheInfo:
        files = list(_entries(self._files))
        pages = list(_entries(self._pages))
        staged = list(_entries(self._staged, True))
        size = sum(entry.size for entry in (*files, *pages, *staged))
        return CacheInfo(self.root, len(files), size, len(pages), len(staged))

    def clean(self, older_than: timedelta | None = None) -> int:
        """Remove every entry (or those unused for ``older_than``) and dead temporary
        files; returns the bytes freed."""
        now = self._clock()
        with self._locked():
            freed = remove_stale(self._tmp, now=now)
            for entry in self._all_entries():
                if older_than is None or entry.used_at < now - older_than.total_seconds():
                    freed += _remove(entry)
            self._usage.unlink(missing_ok=True)
            if older_than is None:
                freed += _remove_hints(self.root)
        return freed

    def _all_entries(self) -> tuple[_Entry, ...]:
        """Files, pages and staged files (each staged file used when its directory was)."""
        return (
            *_entries(self._files),
            *_entries(self._pages),
            *_entries(self._staged, used_at_of_directory=True),
        )

    def _write(
        self, target: Path, fill: Callable[[BinaryIO], object], *, touch: bool = True
    ) -> None:
        """Write one entry (:meth:`_write_all`)."""
        self._write_all([(target, fill)], touch=touch)

    def _write_all(
        self, entries: Sequence[tuple[Path, Callable[[BinaryIO], object]]], *, touch: bool = True
    ) -> set[Path]:
        """Write each ``(target, fill)`` through a file in ``tmp/`` (not synced: a torn entry
        is dropped when read), then give them their names together, their sizes counted once
        under one hold of the lock, and evict if that takes the cache over its limit; the
        targets written. A ``fill`` that returns False refuses its entry (the bytes it copied
        are not the ones expected).

        A cache that cannot be written is reported and passed over: it only saves downloads.
        """
        written: set[Path] = set()
        try:
            with contextlib.ExitStack() as stack:
                counted = []
                for target, fill in entries:
                    # written outside the lock: not an entry yet
                    temp = stack.enter_context(temporary_file(self._tmp))
                    if fill(temp.handle) is False:
                        continue
                    temp.handle.close()
                    size = temp.path.stat().st_size
                    target.parent.mkdir(parents=True, exist_ok=True)
                    if _size_of(target) == size:
                        # The same size in place of the old: the count stays, so no lock. An
                        # eviction racing this removes one entry either way; it costs a fetch.
                        temp.commit(target)
                        written.add(target)
                        continue
                    counted.append((temp, target, size))
                if not counted:
                    return written
                with self._locked():
                    added = 0
                    for temp, target, size in counted:
                        with contextlib.suppress(FileNotFoundError):
                            size -= target.stat().st_size  # replaced, not added
                        temp.commit(target)
                        if touch:
                            self._touch(target)
                        written.add(target)
                        added += size
                    self._count(added)
        except (CacheError, OSError) as exc:
            log.warning("download cache %s not writable: %s", self.root, exc)
        return written

    def _count(self, added: int) -> None:
        """Add ``added`` bytes to the usage count; scan and evict when the count is over the
        limit, missing or a day old (lock held)."""
        now = self._clock()
        usage = self._read_usage()
        if usage is None or now - usage[1] >= RESCAN_SECONDS:
            total, scanned_at = self._evict(), now
        else:
            total, scanned_at = usage[0] + added, usage[1]
            if self.max_bytes is not None and total > self.max_bytes:
                total = self._evict()
        self._write_usage(total, scanned_at)

    def _write_usage(self, total: int, scanned_at: float) -> None:
        """Overwrite the count in place (lock held: every reader holds it too). Not through
        a renamed temporary file, as entries are: the count is rewritten with every entry
        added, and a count torn by a crash reads as none, which only costs a rescan."""
        data = json.dumps({"bytes": total, "scanned_at": scanned_at}).encode()
        descriptor = os.open(self._usage, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            os.pwrite(descriptor, data, 0)
            os.ftruncate(descriptor, len(data))
        finally:
            os.close(descriptor)

    def _read_usage(self) -> tuple[int, float] | None:
        """(bytes, when last scanned), or None when there is no readable count."""
        try:
            fields = json.loads(self._usage.read_bytes())
            return int(fields["bytes"]), float(fields["scanned_at"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _evict(self) -> int:
        """Remove least recently used entries until the cache fits its limit, and dead
        temporary files (lock held); the bytes left."""
        remove_stale(self._tmp, now=self._clock())
        entries = sorted(
            self._all_entries(),
            key=lambda entry: (entry.used_at, entry.path),
        )
        total = sum(entry.size for entry in entries)
        for entry in entries:
            if self.max_bytes is None or total <= self.max_bytes:
                break
            log.debug("cache over %d bytes: evicting %s", self.max_bytes, entry.path)
            total -= _remove(entry)
        return total

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """The cache's lock (:mod:`anya_plugins.flock`: taken for every entry written), the
        threads of this process queued for it."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with self._thread_lock, exclusive(self.root / ".lock", LOCK_TIMEOUT_SECONDS):
                yield
        except LockTimeout:
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


def _size_of(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return None


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def is_sha256(value: str) -> bool:
    """Whether ``value`` is a lower-case sha256 hex digest, as cache entries are named."""
    return len(value) == _SHA256_LENGTH and all(c in "0123456789abcdef" for c in value)


def _entries(directory: Path, used_at_of_directory: bool = False) -> Iterator[_Entry]:
    """The files one level below ``directory``'s subdirectories; last used when modified,
    or, ``used_at_of_directory``, when their subdirectory was."""
    try:
        buckets = [bucket for bucket in os.scandir(directory) if bucket.is_dir()]
    except FileNotFoundError:
        return
    for bucket in buckets:
        try:
            children = list(os.scandir(bucket.path))
            bucket_used_at = bucket.stat().st_mtime if used_at_of_directory else None
        except FileNotFoundError:
            continue
        for child in children:
            try:
                stat = child.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            used_at = stat.st_mtime if bucket_used_at is None else bucket_used_at
            yield _Entry(Path(child.path), stat.st_size, used_at, used_at_of_directory)


def _verified_copy(source: Path, sha256: str) -> Callable[[BinaryIO], bool]:
    """A fill for :meth:`DownloadCache._write_all`: ``source``'s bytes, refused unless they
    have this sha256."""

    def fill(out: BinaryIO) -> bool:
        with source.open("rb") as reader:
            return copy_hashing(reader, out) == sha256

    return fill


def _has_hash(path: Path, sha256: str) -> bool:
    """Whether ``path`` is there and its bytes have this sha256."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as reader:
            while chunk := reader.read(1 << 20):
                digest.update(chunk)
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError as exc:
        log.warning("download cache %s not readable: %s", path, exc)
        return False
    return digest.hexdigest() == sha256


def _remove_hints(root: Path) -> int:
    """Remove the names of pages to fetch ahead (:mod:`anya_plugins.sources.pages_ahead`)."""
    from anya_plugins.sources.pages_ahead import HINTS_DIR

    freed = 0
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(root / HINTS_DIR):
            with contextlib.suppress(FileNotFoundError):
                freed += entry.stat().st_size
                Path(entry.path).unlink()
    return freed


def _remove(entry: _Entry) -> int:
    try:
        entry.path.unlink()
    except FileNotFoundError:
        return 0
    if entry.in_own_directory:
        with contextlib.suppress(OSError):  # not empty: something else was staged there
            entry.path.parent.rmdir()
    return entry.size
