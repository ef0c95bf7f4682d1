"""Project pages (PEP 691 JSON, PEP 503 HTML) and core metadata files (PEP 658)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from unittest.mock import ANY

import pytest

from anya_plugins.metadata.contract import parse_metadata_text
from anya_plugins.sources.cache import CacheInfo
from anya_plugins.sources.download import download
from anya_plugins.sources.errors import (
    HashMismatch,
    IndexResponseError,
    ProjectNotFound,
    SourceError,
)
from anya_plugins.sources.settings import parse_sources
from anya_plugins.sources.simple import (
    SIMPLE_JSON,
    FileLink,
    SimpleIndex,
    parse_project_page,
)
from tests.sources.conftest import Catalog, FakeClock, ServerFactory, sha256

IndexOf = Callable[..., SimpleIndex]
PROJECT = "anya-ext-demo"


def test_the_json_page_is_asked_for_and_read(make_server: ServerFactory, index_of: IndexOf) -> None:
    server = make_server()

    page = index_of(server.simple_url).project_page(PROJECT)

    wheel = server.catalog.files[0]
    assert wheel.metadata is not None
    (request,) = server.gets("/simple/")
    assert request.accept.startswith(SIMPLE_JSON)
    first, second = page.files
    assert page.name == PROJECT
    assert page.used_url == f"{server.simple_url}{PROJECT}/"
    assert first == FileLink(
        filename="anya_ext_demo-1.0-py3-none-any.whl",
        url=f"{server.url}/files/anya_ext_demo-1.0-py3-none-any.whl",
        hashes={"sha256": wheel.sha256},
        requires_python=">=3.11",
        core_metadata={"sha256": sha256(wheel.metadata.encode())},
    )
    assert (second.yanked, second.yanked_reason) == (True, "broken <build>")
    assert str(first.version) == "1.0"
    assert first.wheel_tags == ("py3-none-any",)


def test_json_and_html_pages_give_the_same_files(
    make_server: ServerFactory, index_of: IndexOf
) -> None:
    json_server = make_server(page_format="json")
    html_server = make_server(page_format="html")

    from_json = index_of(json_server.simple_url, cached=False).project_page(PROJECT)
    from_html = index_of(html_server.simple_url, cached=False).project_page(PROJECT)

    def relative(link: FileLink, server_url: str) -> FileLink:
        return FileLink(**{**vars(link), "url": link.url.removeprefix(server_url)})

    assert len(from_json.files) == 2
    assert [relative(f, json_server.url) for f in from_json.files] == [
        relative(f, html_server.url) for f in from_html.files
    ]


def test_an_index_is_made_from_the_settings_of_a_source(
    make_server: ServerFactory, dead_url: str, tmp_path: Path
) -> None:
    mirror = make_server()
    settings = parse_sources(
        {
            "timeout": 1,
            "enterprise": {"acme": {"url": dead_url, "mirrors": [mirror.simple_url]}},
            "cache": {"dir": str(tmp_path / "cache")},
        }
    )

    index = SimpleIndex.from_settings(settings, "enterprise.acme")
    page = index.project_page(PROJECT)

    assert index.mirrors.urls == (dead_url, mirror.simple_url)
    assert page.used_url == f"{mirror.simple_url}{PROJECT}/"
    assert index.cache is not None
    assert index.cache.info() == CacheInfo(tmp_path / "cache", files=0, bytes=ANY, pages=1)


def test_the_project_name_is_normalized(make_server: ServerFactory, index_of: IndexOf) -> None:
    server = make_server()

    page = index_of(server.simple_url).project_page("Anya_Ext.Demo")

    assert page.name == PROJECT
    assert [request.path for request in server.gets()] == [f"/simple/{PROJECT}/"]


def test_file_urls_point_at_the_mirror_that_served_the_page(
    make_server: ServerFactory, index_of: IndexOf, dead_url: str
) -> None:
    mirror = make_server()

    page = index_of(dead_url, mirror.simple_url).project_page(PROJECT)

    assert page.used_url == f"{mirror.simple_url}{PROJECT}/"
    assert all(link.url.startswith(f"{mirror.url}/files/") for link in page.files)


def test_a_missing_project_is_not_found_and_not_failed_over(
    make_server: ServerFactory, index_of: IndexOf
) -> None:
    primary, mirror = make_server(), make_server()

    with pytest.raises(ProjectNotFound, match=r"^project 'nothing-here' is not on the index"):
        index_of(primary.simple_url, mirror.simple_url).project_page("nothing-here")

    assert mirror.requests == []


def test_a_page_is_served_from_the_cache_while_fresh(
    make_server: ServerFactory, index_of: IndexOf, clock: FakeClock
) -> None:
    server = make_server()
    index = index_of(server.simple_url)
    first = index.project_page(PROJECT)
    clock.advance(59)

    again = index.project_page(PROJECT)

    assert len(server.gets("/simple/")) == 1
    assert again.from_cache
    assert again.files == first.files
    assert again.used_url == first.used_url


def test_an_expired_page_is_fetched_again(
    make_server: ServerFactory, index_of: IndexOf, clock: FakeClock
) -> None:
    server = make_server()
    index = index_of(server.simple_url)
    index.project_page(PROJECT)
    server.catalog.add_wheel(PROJECT, "2.0")
    clock.advance(60)

    page = index.project_page(PROJECT)

    assert len(server.gets("/simple/")) == 2
    assert not page.from_cache
    assert [str(link.version) for link in page.files] == ["1.0", "1.1", "2.0"]


def test_refresh_skips_the_cached_page(make_server: ServerFactory, index_of: IndexOf) -> None:
    server = make_server()
    index = index_of(server.simple_url)
    index.project_page(PROJECT)

    index.project_page(PROJECT, refresh=True)

    assert len(server.gets("/simple/")) == 2


def test_core_metadata_is_fetched_verified_and_reads_as_the_contract(
    make_server: ServerFactory, index_of: IndexOf
) -> None:
    server = make_server()
    index = index_of(server.simple_url)
    link = index.project_page(PROJECT).files[0]

    text = index.fetch_core_metadata(link)

    assert server.gets()[-1].path == "/files/anya_ext_demo-1.0-py3-none-any.whl.metadata"
    contract = parse_metadata_text(PROJECT, text, link.wheel_tags)
    assert (contract.version, contract.category, contract.platforms) == (
        "1.0",
        "core/bitcoin",
        ("pure",),
    )


def test_core_metadata_is_read_once_then_from_the_cache(
    make_server: ServerFactory, index_of: IndexOf
) -> None:
    server = make_server()
    index = index_of(server.simple_url)
    link = index.project_page(PROJECT).files[0]

    assert index.fetch_core_metadata(link) == index.fetch_core_metadata(link)

    assert len(server.gets("/files/")) == 1


def test_core_metadata_without_a_hash_is_read_from_the_very_wheel_in_the_cache(
    make_server: ServerFactory, index_of: IndexOf, tmp_path: Path
) -> None:
    server = make_server()
    index = index_of(server.simple_url)
    link = dataclasses.replace(index.project_page(PROJECT).files[0], core_metadata=True)
    assert index.cache is not None and link.sha256 is not None
    download(link, tmp_path, expected_sha256=link.sha256, mirrors=index.mirrors, cache=index.cache)
    fetched = len(server.gets("/files/"))

    text = index.fetch_core_metadata(link)

    assert text == server.catalog.files[0].metadata
    assert len(server.gets("/files/")) == fetched


def test_core_metadata_without_a_hash_is_fetched_while_its_wheel_is_not_cached(
    make_server: ServerFactory, index_of: IndexOf
) -> None:
    server = make_server()
    index = index_of(server.simple_url)
    link = dataclasses.replace(index.project_page(PROJECT).files[0], core_metadata=True)

    assert index.fetch_core_metadata(link) == server.catalog.files[0].metadata
    assert server.gets()[-1].path == "/files/anya_ext_demo-1.0-py3-none-any.whl.metadata"


def test_core_metadata_that_does_not_match_its_hash_is_refused(
    make_server: ServerFactory, index_of: IndexOf, catalog: Catalog
) -> None:
    server = make_server()
    index = index_of(server.simple_url)
    link = index.project_page(PROJECT).files[0]
    catalog.files[0].metadata = "Name: someone-else\n"

    with pytest.raises(HashMismatch, match=r"\.whl\.metadata: sha256 hash mismatch: expected"):
        index.fetch_core_metadata(link)


def test_a_file_without_core_metadata_says_so(
    make_server: ServerFactory, index_of: IndexOf, catalog: Catalog
) -> None:
    catalog.add(PROJECT, "anya-ext-demo-1.0.tar.gz", b"sdist")
    server = make_server()
    index = index_of(server.simple_url)
    sdist = index.project_page(PROJECT).files[-1]

    with pytest.raises(SourceError, match=r"serves no core metadata file for it$"):
        index.fetch_core_metadata(sdist)
    assert (sdist.core_metadata, sdist.wheel_tags, str(sdist.version)) == (False, (), "1.0")


def test_a_file_name_that_is_not_a_distribution_has_no_version() -> None:
    link = FileLink("README.txt", "http://x/README.txt")

    assert (link.version, link.wheel_tags) == (None, ())


def test_a_newer_major_api_version_is_refused() -> None:
    body = b'{"meta": {"api-version": "2.0"}, "name": "x", "files": []}'

    with pytest.raises(IndexResponseError, match=r"speaks simple API version 2\.0"):
        parse_project_page("x", body, SIMPLE_JSON, "http://x/simple/x/")


def test_a_page_that_is_not_a_simple_page_is_refused() -> None:
    with pytest.raises(IndexResponseError, match=r"answered with application/pdf, not a simple"):
        parse_project_page("x", b"%PDF", "application/pdf", "http://x/simple/x/")


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"{", r"invalid JSON"),
        (b"[]", r"not an object"),
        (b'{"files": [{"filename": "a.whl"}]}', r"files\[0\] has no filename or url"),
        (b'{"files": [{"filename": "a.whl", "url": 3}]}', r"files\[0\]\.url has the wrong type"),
    ],
)
def test_a_broken_json_page_says_what_is_wrong(body: bytes, problem: str) -> None:
    with pytest.raises(IndexResponseError, match=problem):
        parse_project_page("x", body, SIMPLE_JSON, "http://x/simple/x/")


def test_html_attributes_are_read() -> None:
    body = (
        b'<html><head><base href="http://cdn.example/p/"></head><body>'
        b'<a href="a-1.0.tar.gz#SHA256=ABC" data-requires-python="&gt;=3.11" data-yanked '
        b'data-dist-info-metadata="true">a-1.0.tar.gz</a></body></html>'
    )

    (link,) = parse_project_page("a", body, "text/html", "http://x/simple/a/").files

    assert link == FileLink(
        filename="a-1.0.tar.gz",
        url="http://cdn.example/p/a-1.0.tar.gz",
        hashes={"sha256": "abc"},
        requires_python=">=3.11",
        yanked=True,
        core_metadata=True,
    )
