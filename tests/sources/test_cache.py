"""The download cache: content-addressed files, fresh pages, a size limit, safe when shared."""

from __future__ import annotations

import json
import os
import threading
from datetime import timedelta
from pathlib import Path

from anya_plugins.sources.cache import (
    RESCAN_SECONDS,
    CacheInfo,
    DownloadCache,
    cache_info,
    clean,
)
from anya_plugins.sources.pages_ahead import HINTS_DIR, remember
from anya_plugins.sources.settings import CacheSettings
from anya_plugins.sources.tempfiles import STALE_AFTER_SECONDS
from tests.sources.conftest import FakeClock, sha256


def stored(cache: DownloadCache, tmp_path: Path, content: bytes) -> str:
    source = tmp_path / f"source-{sha256(content)[:8]}"
    source.write_bytes(content)
    cache.store(sha256(content), source)
    return sha256(content)


def test_a_stored_file_is_copied_out_by_its_hash(cache: DownloadCache, tmp_path: Path) -> None:
    digest = stored(cache, tmp_path, b"wheel bytes")
    target = tmp_path / "out" / "demo.whl"
    target.parent.mkdir()

    assert cache.copy_to(digest, target)

    assert target.read_bytes() == b"wheel bytes"
    assert not cache.copy_to(sha256(b"something else"), tmp_path / "out" / "other.whl")
    assert not (tmp_path / "out" / "other.whl").exists()


def test_a_damaged_entry_is_dropped_not_copied(cache: DownloadCache, tmp_path: Path) -> None:
    digest = stored(cache, tmp_path, b"wheel bytes")
    (entry,) = (cache.root / "files").rglob(digest)
    entry.write_bytes(b"flipped bits")
    target = tmp_path / "demo.whl"

    assert not cache.copy_to(digest, target)

    assert not target.exists()
    assert not entry.exists()


def test_the_least_recently_used_files_go_when_over_the_size_limit(
    tmp_path: Path, clock: FakeClock
) -> None:
    cache = DownloadCache(tmp_path / "cache", max_bytes=250, clock=clock)
    first = stored(cache, tmp_path, b"a" * 100)
    clock.advance(1)
    second = stored(cache, tmp_path, b"b" * 100)
    clock.advance(1)
    assert cache.copy_to(first, tmp_path / "first")  # now the second is the least recent
    clock.advance(1)

    third = stored(cache, tmp_path, b"c" * 100)

    assert cache.info().files == 2
    assert cache.read_bytes(second) is None
    assert cache.read_bytes(first) == b"a" * 100
    assert cache.read_bytes(third) == b"c" * 100


def test_pages_expire_after_their_ttl(cache: DownloadCache, clock: FakeClock) -> None:
    cache.store_page("k", url="http://x/simple/p/", content_type="text/html", body=b"<html>")
    clock.advance(59.9)

    page = cache.page("k")
    clock.advance(0.1)

    assert page is not None
    assert (page.url, page.content_type, page.body) == (
        "http://x/simple/p/",
        "text/html",
        b"<html>",
    )
    assert cache.page("k") is None
    assert cache.page("never stored") is None


def test_info_counts_files_pages_and_bytes(cache: DownloadCache, tmp_path: Path) -> None:
    stored(cache, tmp_path, b"x" * 10)
    stored(cache, tmp_path, b"y" * 20)
    cache.store_page("k", url="http://x/", content_type="text/html", body=b"")

    info = cache.info()

    assert (info.path, info.files, info.pages) == (cache.root, 2, 1)
    assert info.bytes > 30


def test_clean_removes_everything_and_says_how_much(cache: DownloadCache, tmp_path: Path) -> None:
    stored(cache, tmp_path, b"x" * 10)
    cache.store_page("k", url="http://x/", content_type="text/html", body=b"")
    before = cache.info().bytes

    freed = cache.clean()

    assert freed == before
    assert cache.info() == CacheInfo(cache.root, files=0, bytes=0, pages=0)


def test_clean_removes_the_names_of_pages_to_fetch_ahead_too(cache: DownloadCache) -> None:
    remember(cache.root, "http://x/simple/", ["app"], ["anya-ext-app", "anya-ext-lib"])
    (hint,) = (cache.root / HINTS_DIR).iterdir()
    size = hint.stat().st_size

    assert cache.clean(timedelta(days=1)) == 0 and hint.exists()  # only a whole clean
    assert cache.clean() == size
    assert not hint.exists()


def test_clean_older_than_keeps_what_was_used_since(
    cache: DownloadCache, tmp_path: Path, clock: FakeClock
) -> None:
    old = stored(cache, tmp_path, b"old")
    clock.advance(3 * 86400)
    recent = stored(cache, tmp_path, b"recent")

    freed = cache.clean(older_than=timedelta(days=1))

    assert freed == len(b"old")
    assert cache.read_bytes(old) is None
    assert cache.read_bytes(recent) == b"recent"


def test_clean_removes_temporary_files_left_by_a_killed_process(
    cache: DownloadCache, tmp_path: Path, clock: FakeClock
) -> None:
    stored(cache, tmp_path, b"x")
    dead = cache.root / "tmp" / ".anya-dead.part"
    live = cache.root / "tmp" / ".anya-live.part"
    dead.write_bytes(b"half a wheel")
    live.write_bytes(b"being written")
    stale = clock.now - STALE_AFTER_SECONDS - 1
    os.utime(dead, (stale, stale))
    os.utime(live, (clock.now, clock.now))

    cache.clean(older_than=timedelta(days=1))

    assert not dead.exists()
    assert live.exists()


def test_the_functions_for_the_cli_use_the_configured_directory(tmp_path: Path) -> None:
    settings = CacheSettings(dir=tmp_path / "configured")
    stored(DownloadCache.from_settings(settings), tmp_path, b"x" * 5)

    assert cache_info(settings).files == 1
    assert clean(settings) == 5
    assert cache_info(settings).files == 0


def test_a_cache_that_cannot_be_written_is_passed_over(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the cache should be")
    cache = DownloadCache(blocked)

    stored(cache, tmp_path, b"x")

    assert cache.read_bytes(sha256(b"x")) is None


def test_concurrent_writers_leave_whole_entries_within_the_limit(tmp_path: Path) -> None:
    root = tmp_path / "shared"
    contents = [bytes([n]) * 1000 for n in range(40)]
    errors: list[BaseException] = []

    def install(worker: int) -> None:
        cache = DownloadCache(root, max_bytes=10_000)  # one instance per "process"
        try:
            for content in contents[worker::4]:
                stored(cache, tmp_path, content)
                cache.store_page(f"page-{worker}", url="http://x/", content_type="a/b", body=b"")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=install, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    cache = DownloadCache(root)
    assert errors == []
    assert cache.info().bytes <= 10_000
    kept = [content for content in contents if cache.read_bytes(sha256(content)) is not None]
    assert kept
    assert list((root / "tmp").iterdir()) == []


def usage_bytes(cache: DownloadCache) -> int:
    return int(json.loads((cache.root / "usage").read_bytes())["bytes"])


def test_each_write_counts_its_size_and_a_lost_count_is_made_again_by_a_scan(
    cache: DownloadCache, tmp_path: Path
) -> None:
    stored(cache, tmp_path, b"x" * 10)
    cache.store_page("k", url="http://x/", content_type="text/html", body=b"<html>")
    stored(cache, tmp_path, b"x" * 10)  # the same file again: replaced, not added
    assert usage_bytes(cache) == cache.info().bytes

    (cache.root / "usage").write_text("not a count")
    stored(cache, tmp_path, b"y" * 20)

    assert usage_bytes(cache) == cache.info().bytes


def test_the_count_is_rewritten_in_place_whole_and_no_temporary_file_is_left(
    cache: DownloadCache, tmp_path: Path, clock: FakeClock
) -> None:
    stored(cache, tmp_path, b"x" * 10)
    longer = {"bytes": usage_bytes(cache), "scanned_at": clock(), "pad": "." * 200}
    (cache.root / "usage").write_text(json.dumps(longer))  # a longer count than the next

    stored(cache, tmp_path, b"y" * 20)

    assert json.loads((cache.root / "usage").read_bytes()) == {
        "bytes": 30,
        "scanned_at": clock(),
    }
    assert cache.info().bytes == 30
    assert list((cache.root / "tmp").iterdir()) == []


def test_a_page_stored_again_unchanged_keeps_the_count_and_is_fresh_from_then(
    cache: DownloadCache, clock: FakeClock
) -> None:
    cache.store_page("k", url="http://x/", content_type="text/html", body=b"<html>")
    count = usage_bytes(cache)
    clock.advance(cache.page_ttl_seconds - 1)

    cache.store_page("k", url="http://x/", content_type="text/html", body=b"<html>")
    clock.advance(2)

    page = cache.page("k")
    assert page is not None and page.fetched_at == clock() - 2
    assert usage_bytes(cache) == count == cache.info().bytes
    clock.advance(cache.page_ttl_seconds)
    assert cache.page("k") is None


def test_a_count_a_day_old_is_checked_by_a_scan(
    cache: DownloadCache, tmp_path: Path, clock: FakeClock
) -> None:
    stored(cache, tmp_path, b"x" * 10)
    (entry,) = (cache.root / "files").rglob(sha256(b"x" * 10))
    entry.unlink()  # gone behind the count's back
    clock.advance(RESCAN_SECONDS)

    stored(cache, tmp_path, b"y" * 20)

    assert usage_bytes(cache) == cache.info().bytes == 20


def test_a_page_cut_short_is_dropped(cache: DownloadCache) -> None:
    cache.store_page("k", url="http://x/", content_type="text/html", body=b"<a href=x>" * 50)
    (entry,) = [path for path in (cache.root / "pages").rglob("*") if path.is_file()]
    entry.write_bytes(entry.read_bytes()[:-20])  # a crash before the data reached the disk

    assert cache.page("k") is None
    assert not entry.exists()


def staged_source(tmp_path: Path, content: bytes) -> Path:
    source = tmp_path / "scratch" / "demo-1.0-py3-none-any.whl"
    source.parent.mkdir(exist_ok=True)
    source.write_bytes(content)
    return source


def test_a_staged_file_keeps_its_path_and_its_inode_from_run_to_run(
    cache: DownloadCache, tmp_path: Path
) -> None:
    source = staged_source(tmp_path, b"verified wheel")
    digest = sha256(b"verified wheel")

    first = cache.stage_all([(digest, source.name, source)])[0]
    before = first.stat()
    second = cache.stage_all([(digest, source.name, staged_source(tmp_path, b"verified wheel"))])[0]

    assert first == second == cache.root / "staged" / digest / source.name
    assert second.read_bytes() == b"verified wheel"
    after = second.stat()
    # uv keeps what it unpacked by path and ctime: a use must not touch the file
    assert (after.st_ino, after.st_ctime_ns) == (before.st_ino, before.st_ctime_ns)


def test_a_damaged_staged_file_is_replaced_by_the_verified_bytes(
    cache: DownloadCache, tmp_path: Path
) -> None:
    source = staged_source(tmp_path, b"verified wheel")
    digest = sha256(b"verified wheel")
    staged = cache.stage_all([(digest, source.name, source)])[0]
    staged.write_bytes(b"flipped wheel!")

    again = cache.stage_all([(digest, source.name, source)])[0]

    assert again == staged
    assert again.read_bytes() == b"verified wheel"


def test_files_staged_together_are_counted_and_a_source_off_its_hash_stays_out(
    cache: DownloadCache, tmp_path: Path
) -> None:
    sources = []
    for index, content in enumerate((b"first wheel", b"second wheel", b"third wheel")):
        source = tmp_path / f"demo{index}-1.0-py3-none-any.whl"
        source.write_bytes(content)
        sources.append((sha256(content), source.name, source))
    changed = sources[1][2]
    changed.write_bytes(b"second wheel, changed since it was verified")

    staged = cache.stage_all(sources)

    first, third = (cache.root / "staged" / d / name for d, name, _ in (sources[0], sources[2]))
    assert staged == [first, changed, third]
    assert (first.read_bytes(), third.read_bytes()) == (b"first wheel", b"third wheel")
    assert not (cache.root / "staged" / sources[1][0]).exists()
    assert usage_bytes(cache) == cache.info().bytes == len(b"first wheel") + len(b"third wheel")


def test_a_cache_that_cannot_be_written_stages_nothing(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_bytes(b"")
    cache = DownloadCache(blocker / "cache")
    source = staged_source(tmp_path, b"verified wheel")

    assert cache.stage_all([(sha256(b"verified wheel"), source.name, source)])[0] == source


def test_a_staged_file_name_cannot_leave_its_directory(
    cache: DownloadCache, tmp_path: Path
) -> None:
    source = staged_source(tmp_path, b"x")
    for name in ("../escape.whl", "..", ""):
        try:
            cache.stage_all([(sha256(b"x"), name, source)])
        except ValueError:
            continue
        raise AssertionError(f"{name!r} was staged")


def test_staged_files_are_counted_cleaned_and_evicted_by_their_last_use(
    tmp_path: Path, clock: FakeClock
) -> None:
    cache = DownloadCache(tmp_path / "cache", max_bytes=250, clock=clock)
    old = staged_source(tmp_path, b"o" * 100)
    old_digest = sha256(b"o" * 100)
    staged = cache.stage_all([(old_digest, old.name, old)])[0]
    os.utime(staged, (clock.now, clock.now))  # as if staged in an earlier run
    clock.advance(1)
    file = stored(cache, tmp_path, b"f" * 100)
    clock.advance(1)
    cache.stage_all([(old_digest, old.name, old)])  # used again: now the file is the oldest
    clock.advance(1)

    stored(cache, tmp_path, b"n" * 100)

    assert cache.read_bytes(file) is None
    assert (cache.root / "staged" / old_digest / old.name).exists()
    assert cache.info().bytes == 200 + sum(
        p.stat().st_size for p in (cache.root / "pages").rglob("*") if p.is_file()
    )
    cache.clean()
    assert not any((cache.root / "staged").iterdir())
