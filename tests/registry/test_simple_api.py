"""What an installer gets: PEP 691 JSON pages and PEP 658 metadata that carries the contract."""

from __future__ import annotations

import urllib.request
from pathlib import Path
from urllib.parse import urljoin

import pytest

from anya_plugins.metadata.contract import parse_metadata_text
from tests.registry_fixtures import Registry, Upload
from tests.support import ExtensionBuilder, ExtensionSpec

pytestmark = pytest.mark.slow

INDEX, PROJECT = "community/experimental", "anya-ext-metadata-probe"


@pytest.fixture(scope="module")
def entry(registry: Registry, upload: Upload, build_extension: ExtensionBuilder) -> dict[str, str]:
    """The wheel's entry on the PEP 691 page, its URL made absolute."""
    wheel: Path = build_extension(
        ExtensionSpec("metadata-probe", category="community/experimental")
    )
    done = upload(INDEX, wheel, user="acme")
    assert done.returncode == 0, done.stdout + done.stderr
    page = registry.client().simple_project(INDEX, PROJECT)
    (found,) = page["files"]
    return {**found, "url": urljoin(f"{registry.url}/{INDEX}/+simple/{PROJECT}/", found["url"])}


def test_simple_json_gives_the_sha256_of_each_file(entry: dict[str, object]) -> None:
    hashes = entry["hashes"]

    assert isinstance(hashes, dict) and len(hashes["sha256"]) == 64


def test_simple_json_announces_core_metadata_without_a_hash(entry: dict[str, object]) -> None:
    # PEP 714 allows true or a hash dict; devpi 6 gives true, so the installer cannot
    # check the .metadata file against a hash before it has the wheel.
    assert entry["core-metadata"] is True


def test_core_metadata_file_carries_the_extension_contract(entry: dict[str, str]) -> None:
    with urllib.request.urlopen(entry["url"] + ".metadata", timeout=10) as response:
        text = response.read().decode("utf-8")

    metadata = parse_metadata_text(entry["filename"], text)

    assert (metadata.dist_name, metadata.category) == (PROJECT, "community/experimental")
