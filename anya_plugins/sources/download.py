"""Downloading one file: streamed to a temporary file, hashed on the way, kept only when the
hash is the one expected.

The file gets its final name only after the hash matched, by a rename; a process killed
mid-download leaves a ``.anya-*.part`` file that a later download in the same directory
removes once it is stale. A file whose hash is in the download cache is copied from there
without any request. The file is not synced to disk: it is downloaded to be checked and
installed now, and the installer checks its hash again.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from pathlib import Path

from anya_plugins.sources.cache import DownloadCache, is_sha256
from anya_plugins.sources.errors import HashMismatch, SourceError, unexpected_status
from anya_plugins.sources.http import HttpResponse
from anya_plugins.sources.mirrors import MirrorSet
from anya_plugins.sources.simple import FileLink
from anya_plugins.sources.tempfiles import remove_stale, temporary_file

log = logging.getLogger(__name__)

Progress = Callable[[int, int | None], None]
"""Called as ``progress(bytes_done, bytes_total)``; the total is None when the server did not
say. It starts again from 0 when a download fails over to another mirror."""

ResponseHeaders = Callable[[Mapping[str, str]], None]
"""Called with the headers of the response that served the file, once its hash matched (not
for a file copied from the download cache): e.g. to keep the registry's download receipt."""


def download(
    link: FileLink,
    dest_dir: Path,
    *,
    expected_sha256: str,
    mirrors: MirrorSet,
    cache: DownloadCache | None = None,
    progress: Progress | None = None,
    on_headers: ResponseHeaders | None = None,
) -> Path:
    """Fetch ``link`` into ``dest_dir`` under its file name and return the path.

    Raises HashMismatch (and keeps nothing) when the bytes served do not hash to
    ``expected_sha256``, IndexUnreachable when no mirror serves the file, and
    IndexResponseError when the index answers with anything but the file.
    """
    expected = _sha256(link, expected_sha256)
    target = dest_dir / _safe_filename(link)
    dest_dir.mkdir(parents=True, exist_ok=True)
    remove_stale(dest_dir)
    if cache is not None and cache.copy_to(expected, target, durable=False):
        log.info("%s: from the download cache", link.filename)
        if progress is not None:
            size = target.stat().st_size
            progress(size, size)
        return target
    served: list[Mapping[str, str]] = []
    with temporary_file(dest_dir) as temp:

        def read(response: HttpResponse) -> str:
            if response.status != 200:
                raise unexpected_status(
                    response.url, response.status, response.reason, what=f"for {link.filename}"
                )
            temp.handle.seek(0)
            temp.handle.truncate()  # a previous mirror may have sent part of the file
            digest, done, total = hashlib.sha256(), 0, response.content_length
            if progress is not None:
                progress(done, total)
            for chunk in response.iter_bytes(decode=False):
                temp.handle.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
            served[:] = [response.headers]
            return digest.hexdigest()

        actual = mirrors.fetch(link.url, read)
        if actual != expected:
            raise HashMismatch(link.filename, expected, actual, mirrors.used_url or link.url)
        temp.handle.close()  # closed, it is renamed without a sync
        if cache is not None:
            cache.store(expected, temp.path)
        temp.commit(target)
    if on_headers is not None and served:
        on_headers(served[0])
    return target


def _sha256(link: FileLink, value: str) -> str:
    digest = value.strip().lower()
    if not is_sha256(digest):
        raise SourceError(
            f"{link.filename}: {value!r} is not a sha256 hex digest",
            hint="pass the 64 hex digits of the file's sha256, as the index lists it",
        )
    return digest


def _safe_filename(link: FileLink) -> str:
    """The file name, refused if it could write outside the destination directory."""
    name = link.filename
    if not name or name in (".", "..") or any(c in name for c in "/\\\0"):
        raise SourceError(
            f"the index gave an unsafe file name {name!r} for {link.url}",
            hint="report it to the index's operators; nothing was downloaded",
        )
    return name
