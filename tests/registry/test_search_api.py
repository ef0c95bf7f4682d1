"""``+anya/search`` on the running registry: what an index shows, found by name, text, category.

Every project here has "zephyr" in its name, which no other test module uses, so the
session registry's other uploads do not show up in the answers.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from anya_plugins.registry.errors import DevpiError
from tests.registry_fixtures import Registry, Upload, metadata_wheel
from tests.support import ExtensionBuilder, ExtensionSpec

pytestmark = pytest.mark.slow

EXPERIMENTAL, VERIFIED, PRIMARY, PRIVATE = (
    "community/experimental",
    "community/verified",
    "anya/primary",
    "acme/private",
)


@pytest.fixture(scope="module")
def published(
    registry: Registry,
    upload: Upload,
    build_extension: ExtensionBuilder,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Extensions on each tier; ``anya-ext-zephyr-ledger`` both private (0.1.0) and public (9.0)."""
    wheels = tmp_path_factory.mktemp("search-wheels")
    uploads = [
        (VERIFIED, build_extension(ExtensionSpec("zephyr-wallet", category=VERIFIED)), "community"),
        (PRIMARY, build_extension(ExtensionSpec("zephyr-signer", category="core/bitcoin")), "anya"),
        (
            EXPERIMENTAL,
            metadata_wheel(
                wheels,
                "anya-ext-zephyr-oracle",
                summary="Price feeds for Zephyr wallets",
                keywords=("oracle", "feeds"),
            ),
            "acme",
        ),
        (
            VERIFIED,
            metadata_wheel(
                wheels,
                "anya-ext-zephyr-ledger",
                version="9.0",
                summary="A lookalike ledger",
                category=VERIFIED,
            ),
            "community",
        ),
        (
            PRIVATE,
            metadata_wheel(
                wheels,
                "anya-ext-zephyr-ledger",
                summary="ACME's internal ledger",
                category="enterprise/custody",
            ),
            "acme",
        ),
    ]
    for index, wheel, user in uploads:
        done = upload(index, wheel, user=user)
        assert done.returncode == 0, done.stdout + done.stderr


def found(registry: Registry, index: str, query: str, category: str | None = None) -> list[str]:
    return [hit["name"] for hit in registry.client().search(index, query, category)]


@pytest.mark.usefixtures("published")
def test_an_index_finds_its_own_and_its_bases_projects(registry: Registry) -> None:
    assert found(registry, EXPERIMENTAL, "zephyr") == [
        "anya-ext-zephyr-ledger",
        "anya-ext-zephyr-oracle",
        "anya-ext-zephyr-signer",
        "anya-ext-zephyr-wallet",
    ]


@pytest.mark.usefixtures("published")
def test_a_base_does_not_see_the_indexes_built_on_it(registry: Registry) -> None:
    assert found(registry, PRIMARY, "zephyr") == ["anya-ext-zephyr-signer"]


@pytest.mark.usefixtures("published")
def test_exact_name_comes_first_then_text_matches(registry: Registry) -> None:
    assert found(registry, EXPERIMENTAL, "zephyr wallet") == [
        "anya-ext-zephyr-wallet",
        "anya-ext-zephyr-oracle",
    ]


@pytest.mark.usefixtures("published")
def test_summary_and_keywords_are_searched(registry: Registry) -> None:
    assert found(registry, EXPERIMENTAL, "PRICE feeds") == ["anya-ext-zephyr-oracle"]
    assert found(registry, EXPERIMENTAL, "zephyr oracle") == ["anya-ext-zephyr-oracle"]


@pytest.mark.usefixtures("published")
def test_a_hit_carries_what_the_listing_shows(registry: Registry) -> None:
    (hit,) = registry.client().search(EXPERIMENTAL, "anya-ext-zephyr-oracle")

    assert hit.pop("uploaded") > 0  # seconds since the epoch, from devpi's upload log
    assert hit == {
        "name": "anya-ext-zephyr-oracle",
        "version": "0.1.0",
        "summary": "Price feeds for Zephyr wallets",
        "keywords": ["oracle", "feeds"],
        "category": "community/experimental",
        "host_api": "<2,>=1.0",
        "index": EXPERIMENTAL,
        "yanked": None,
        "deprecated": None,
        "status": "active",
        "status_reason": None,
        "rating": None,
        "ratings": 0,
        "downloads": None,
    }


@pytest.mark.usefixtures("published")
def test_category_filter_takes_a_category_or_a_source(registry: Registry) -> None:
    assert found(registry, EXPERIMENTAL, "zephyr", "core/bitcoin") == ["anya-ext-zephyr-signer"]
    assert found(registry, EXPERIMENTAL, "zephyr", "core") == ["anya-ext-zephyr-signer"]
    assert found(registry, EXPERIMENTAL, "zephyr", "core/ml") == []


@pytest.mark.usefixtures("published")
def test_private_index_finds_only_its_own_release_of_a_name_it_holds(registry: Registry) -> None:
    private = registry.client("acme").search(PRIVATE, "zephyr ledger")
    public = registry.client().search(VERIFIED, "zephyr ledger")

    assert [(hit["version"], hit["index"], hit["summary"]) for hit in private] == [
        ("0.1.0", PRIVATE, "ACME's internal ledger")
    ]
    assert [(hit["version"], hit["index"]) for hit in public] == [("9.0", VERIFIED)]


@pytest.mark.usefixtures("published")
def test_an_upload_is_found_by_the_next_search(
    registry: Registry, upload: Upload, tmp_path: Path
) -> None:
    assert found(registry, EXPERIMENTAL, "zephyr fresh") == []
    wheel = metadata_wheel(tmp_path, "anya-ext-zephyr-fresh", summary="Just uploaded")

    done = upload(EXPERIMENTAL, wheel, user="acme")

    assert done.returncode == 0, done.stdout + done.stderr
    assert found(registry, EXPERIMENTAL, "zephyr fresh") == ["anya-ext-zephyr-fresh"]


@pytest.mark.usefixtures("published")
def test_a_new_version_replaces_the_old_in_the_answer(
    registry: Registry, upload: Upload, tmp_path: Path
) -> None:
    wheel = metadata_wheel(
        tmp_path, "anya-ext-zephyr-oracle", version="0.2.0", summary="Price feeds, now signed"
    )

    done = upload(EXPERIMENTAL, wheel, user="acme")

    assert done.returncode == 0, done.stdout + done.stderr
    hits = registry.client().search(EXPERIMENTAL, "zephyr oracle")
    assert [(hit["version"], hit["summary"]) for hit in hits] == [
        ("0.2.0", "Price feeds, now signed")
    ]


def test_unknown_category_is_answered_with_400(registry: Registry) -> None:
    with pytest.raises(DevpiError) as raised:
        registry.client().search(EXPERIMENTAL, "x", "core/quantum")

    assert raised.value.status == 400
    assert "unknown category 'core/quantum'" in raised.value.problem


def test_search_on_a_missing_index_is_answered_with_404(registry: Registry) -> None:
    with pytest.raises(DevpiError) as raised:
        registry.client().search("acme/nowhere", "x")

    assert raised.value.status == 404
