"""The client against the real embedded registry (devpi-server with core metadata on)."""

from __future__ import annotations

from pathlib import Path

import pytest

from anya_plugins.metadata.contract import parse_metadata_text, read_wheel
from anya_plugins.sources.download import download
from anya_plugins.sources.http import HttpClient
from anya_plugins.sources.settings import parse_sources
from anya_plugins.sources.simple import FileLink, SimpleIndex, parse_project_page
from tests.registry_fixtures import Registry, Upload
from tests.support import ExtensionBuilder, ExtensionSpec

pytestmark = pytest.mark.slow

INDEX = "anya/primary"
PROJECT = "anya-ext-sources-demo"


@pytest.fixture(scope="module")
def published(registry: Registry, upload: Upload, build_extension: ExtensionBuilder) -> Path:
    wheel = build_extension(ExtensionSpec("sources-demo", category="core/bitcoin"))
    done = upload(INDEX, wheel, user="anya")
    assert done.returncode == 0, done.stdout + done.stderr
    return wheel


@pytest.fixture
def index(registry: Registry, dead_url: str, tmp_path: Path) -> SimpleIndex:
    """A client whose primary is dead and whose mirror is the registry."""
    settings = parse_sources(
        {
            "timeout": 5,
            "primary": {"url": dead_url, "mirrors": [f"{registry.url}/{INDEX}/+simple/"]},
            "cache": {"dir": str(tmp_path / "cache")},
        }
    )
    return SimpleIndex.from_settings(settings)


def test_devpi_json_and_html_pages_list_the_same_files(
    published: Path, index: SimpleIndex, registry: Registry
) -> None:
    page = index.project_page(PROJECT)
    with (
        HttpClient(timeout=5) as http,
        http.get(page.used_url, headers={"Accept": "text/html"}) as response,
    ):
        html_page = parse_project_page(
            PROJECT, response.read(), response.content_type, page.used_url
        )

    assert [link.filename for link in page.files] == [published.name]
    assert html_page.files == page.files
    assert page.used_url.startswith(registry.url)


def test_core_metadata_from_devpi_reads_as_the_contract(
    published: Path, index: SimpleIndex
) -> None:
    (link,) = index.project_page(PROJECT).files

    contract = parse_metadata_text(PROJECT, index.fetch_core_metadata(link), link.wheel_tags)

    assert contract == read_wheel(published)


def test_a_wheel_downloads_from_devpi_with_its_listed_hash(
    published: Path, index: SimpleIndex, tmp_path: Path
) -> None:
    link: FileLink = index.project_page(PROJECT).files[0]
    assert link.sha256 is not None

    path = download(
        link,
        tmp_path / "dest",
        expected_sha256=link.sha256,
        mirrors=index.mirrors,
        cache=index.cache,
    )

    assert path.read_bytes() == published.read_bytes()
    assert index.mirrors.used_url == link.url
