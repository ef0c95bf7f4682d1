"""Downloads: streamed, hashed, kept only when the hash matches, served from the cache after."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from anya_plugins.sources.cache import DownloadCache
from anya_plugins.sources.download import download
from anya_plugins.sources.errors import HashMismatch, IndexResponseError, SourceError
from anya_plugins.sources.mirrors import MirrorSet
from anya_plugins.sources.simple import FileLink
from anya_plugins.sources.tempfiles import STALE_AFTER_SECONDS
from tests.sources.conftest import Catalog, CatalogFile, IndexServer, ServerFactory, sha256
from tests.support import REPO

MirrorsOf = Callable[..., MirrorSet]


def link_to(server: IndexServer, entry: CatalogFile) -> FileLink:
    return FileLink(
        entry.filename, f"{server.url}/files/{entry.filename}", {"sha256": entry.sha256}
    )


def test_a_file_is_downloaded_under_its_name_and_cached(
    make_server: ServerFactory, mirrors_of: MirrorsOf, cache: DownloadCache, tmp_path: Path
) -> None:
    server = make_server()
    wheel = server.catalog.files[0]
    dest = tmp_path / "dest"

    path = download(
        link_to(server, wheel),
        dest,
        expected_sha256=wheel.sha256,
        mirrors=mirrors_of(server.simple_url),
        cache=cache,
    )

    assert path == dest / wheel.filename
    assert path.read_bytes() == wheel.content
    assert list(dest.iterdir()) == [path]
    assert cache.info().files == 1


def test_progress_counts_up_to_the_total(
    make_server: ServerFactory, mirrors_of: MirrorsOf, tmp_path: Path
) -> None:
    server = make_server()
    wheel = server.catalog.files[0]
    calls: list[tuple[int, int | None]] = []

    download(
        link_to(server, wheel),
        tmp_path,
        expected_sha256=wheel.sha256,
        mirrors=mirrors_of(server.simple_url),
        progress=lambda done, total: calls.append((done, total)),
    )

    size = len(wheel.content)
    assert calls[0] == (0, size)
    assert calls[-1] == (size, size)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_a_second_download_is_served_from_the_cache(
    make_server: ServerFactory, mirrors_of: MirrorsOf, cache: DownloadCache, tmp_path: Path
) -> None:
    server = make_server()
    wheel = server.catalog.files[0]
    mirrors = mirrors_of(server.simple_url)
    link = link_to(server, wheel)
    download(link, tmp_path / "one", expected_sha256=wheel.sha256, mirrors=mirrors, cache=cache)
    calls: list[tuple[int, int | None]] = []

    again = download(
        link,
        tmp_path / "two",
        expected_sha256=wheel.sha256,
        mirrors=mirrors,
        cache=cache,
        progress=lambda done, total: calls.append((done, total)),
    )

    assert again.read_bytes() == wheel.content
    assert len(server.gets("/files/")) == 1
    assert calls == [(len(wheel.content), len(wheel.content))]


def test_a_corrupted_file_raises_hash_mismatch_and_leaves_nothing(
    make_server: ServerFactory, mirrors_of: MirrorsOf, cache: DownloadCache, tmp_path: Path
) -> None:
    server = make_server()
    wheel = server.catalog.files[0]
    wheel.served = wheel.content[:-1] + b"!"
    dest = tmp_path / "dest"
    link = link_to(server, wheel)

    with pytest.raises(HashMismatch) as caught:
        download(
            link,
            dest,
            expected_sha256=wheel.sha256,
            mirrors=mirrors_of(server.simple_url),
            cache=cache,
        )

    mismatch = caught.value
    assert (mismatch.filename, mismatch.expected, mismatch.actual, mismatch.url) == (
        wheel.filename,
        wheel.sha256,
        sha256(wheel.served),
        link.url,
    )
    assert str(mismatch).startswith(f"{wheel.filename}: sha256 hash mismatch: expected ")
    assert list(dest.iterdir()) == []
    assert cache.info().files == 0


def test_a_download_that_breaks_off_starts_again_on_a_mirror(
    make_server: ServerFactory, mirrors_of: MirrorsOf, tmp_path: Path
) -> None:
    primary, mirror = make_server("break-body"), make_server()
    wheel = primary.catalog.files[0]
    mirrors = mirrors_of(primary.simple_url, mirror.simple_url)
    dest = tmp_path / "dest"
    calls: list[int] = []

    path = download(
        link_to(primary, wheel),
        dest,
        expected_sha256=wheel.sha256,
        mirrors=mirrors,
        progress=lambda done, _total: calls.append(done),
    )

    assert path.read_bytes() == wheel.content
    assert mirrors.used_url == f"{mirror.url}/files/{wheel.filename}"
    assert calls.count(0) == 2  # the count started again for the second mirror
    assert list(dest.iterdir()) == [path]


def test_a_missing_file_is_an_error_and_leaves_nothing(
    make_server: ServerFactory, mirrors_of: MirrorsOf, tmp_path: Path
) -> None:
    server = make_server()
    link = FileLink("gone-1.0-py3-none-any.whl", f"{server.url}/files/gone-1.0-py3-none-any.whl")
    dest = tmp_path / "dest"

    with pytest.raises(IndexResponseError, match=r"HTTP 404 Not Found for gone-1\.0"):
        download(link, dest, expected_sha256="0" * 64, mirrors=mirrors_of(server.simple_url))

    assert list(dest.iterdir()) == []


@pytest.mark.parametrize("name", ["../evil.whl", "a/b.whl", "..", ""])
def test_a_file_name_that_leaves_the_directory_is_refused(
    name: str, mirrors_of: MirrorsOf, dead_url: str, tmp_path: Path
) -> None:
    with pytest.raises(SourceError, match=r"unsafe file name"):
        download(
            FileLink(name, "http://x/f"),
            tmp_path,
            expected_sha256="0" * 64,
            mirrors=mirrors_of(dead_url),
        )


def test_an_expected_hash_that_is_not_sha256_is_refused(
    mirrors_of: MirrorsOf, dead_url: str, tmp_path: Path
) -> None:
    with pytest.raises(SourceError, match=r"^a\.whl: 'abc' is not a sha256 hex digest$"):
        download(
            FileLink("a.whl", "http://x/a.whl"),
            tmp_path,
            expected_sha256="abc",
            mirrors=mirrors_of(dead_url),
        )


KILLED_DOWNLOAD = """
import json, sys
from pathlib import Path
from anya_plugins.sources.cache import DownloadCache
from anya_plugins.sources.download import download
from anya_plugins.sources.http import HttpClient
from anya_plugins.sources.mirrors import MirrorSet
from anya_plugins.sources.simple import FileLink

args = json.loads(sys.argv[1])
download(
    FileLink(args["filename"], args["url"]),
    Path(args["dest"]),
    expected_sha256=args["sha256"],
    mirrors=MirrorSet([args["index"]], http=HttpClient(timeout=30)),
    cache=DownloadCache(Path(args["cache"])),
)
"""


def test_a_process_killed_mid_download_leaves_no_file_under_the_final_name(
    catalog: Catalog,
    make_server: ServerFactory,
    mirrors_of: MirrorsOf,
    cache: DownloadCache,
    tmp_path: Path,
) -> None:
    archive = catalog.add("big", "big-1.0.tar.gz", os.urandom(1024 * 1024))
    server = make_server("stall-body")
    dest = tmp_path / "dest"
    arguments = {
        "filename": archive.filename,
        "url": f"{server.url}/files/{archive.filename}",
        "dest": str(dest),
        "sha256": archive.sha256,
        "index": server.simple_url,
        "cache": str(cache.root),
    }
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_DOWNLOAD, json.dumps(arguments)], cwd=REPO
    )
    try:
        deadline = time.monotonic() + 15
        while not any(p.stat().st_size for p in dest.glob(".anya-*.part")):
            assert child.poll() is None, "the download process ended before it was killed"
            assert time.monotonic() < deadline, "the download never started writing"
            time.sleep(0.02)
    finally:
        child.kill()
        child.wait()

    (partial,) = dest.iterdir()
    assert partial.name.startswith(".anya-")
    assert cache.info().files == 0

    server.behaviour = "serve"
    mirrors = mirrors_of(server.simple_url)
    link = link_to(server, archive)
    path = download(link, dest, expected_sha256=archive.sha256, mirrors=mirrors, cache=cache)
    assert path.read_bytes() == archive.content
    assert partial.exists()  # too young to be known dead: ignored, not touched


def test_the_next_download_removes_a_stale_temporary_file(
    make_server: ServerFactory, mirrors_of: MirrorsOf, tmp_path: Path
) -> None:
    server = make_server()
    wheel = server.catalog.files[0]
    dest = tmp_path / "dest"
    dest.mkdir()
    stale_file, young_file = dest / ".anya-killed.part", dest / ".anya-writing.part"
    stale_file.write_bytes(b"half a wheel")
    young_file.write_bytes(b"a download in progress")
    stale = time.time() - STALE_AFTER_SECONDS - 1
    os.utime(stale_file, (stale, stale))

    path = download(
        link_to(server, wheel),
        dest,
        expected_sha256=wheel.sha256,
        mirrors=mirrors_of(server.simple_url),
    )

    assert sorted(dest.iterdir()) == sorted([path, young_file])
