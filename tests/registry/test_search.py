"""Search records, matching, ranking and what an index shows of its bases, without a server."""

from __future__ import annotations

import pytest

from anya_plugins.registry.search import (
    Catalog,
    ExtensionRecord,
    IndexInOrder,
    InvalidQuery,
    SearchQuery,
    StageCatalog,
    merge_latest,
    record_from_metadata,
    search,
)

CONTRACT = "anya-extension,anya-category:{category},anya-host-api:>=1.0,anya-host-api:<2"


def record(
    name: str,
    summary: str = "An Anya extension.",
    *,
    version: str = "1.0",
    keywords: str = "",
    category: str = "community/verified",
    index: str = "community/verified",
) -> ExtensionRecord:
    declared = ",".join(filter(None, (keywords, CONTRACT.format(category=category))))
    metadata = {"name": name, "version": version, "summary": summary, "keywords": declared}
    return record_from_metadata(metadata, index)


def names(records: tuple[ExtensionRecord, ...]) -> list[str]:
    return [found.name for found in records]


def test_record_gives_category_host_api_and_free_keywords_apart() -> None:
    found = record("anya-ext-wallet", keywords="wallet did", category="core/web5")

    assert found.as_json() == {
        "name": "anya-ext-wallet",
        "version": "1.0",
        "summary": "An Anya extension.",
        "keywords": ["wallet", "did"],
        "category": "core/web5",
        "host_api": "<2,>=1.0",
        "index": "community/verified",
        "yanked": None,
        "deprecated": None,
        "uploaded": 0.0,
    }


def test_record_of_a_plain_package_has_no_category_or_host_api() -> None:
    found = record_from_metadata({"name": "requests", "version": "2.0", "keywords": ""}, "a/b")

    assert (found.category, found.host_api, found.keywords) == (None, None, ())


def test_every_term_must_match_somewhere() -> None:
    records = [
        record("anya-ext-wallet", "Web5 wallet with DIDs"),
        record("anya-ext-node", "A Bitcoin node"),
    ]

    assert names(search(records, SearchQuery("web5 wallet")).records) == ["anya-ext-wallet"]
    assert names(search(records, SearchQuery("web5 node")).records) == []


def test_terms_are_case_insensitive_and_match_keywords_and_category() -> None:
    records = [record("anya-ext-vault", keywords="MultiSig", category="enterprise/custody")]

    assert search(records, SearchQuery("MULTISIG custody")).total == 1


def test_exact_name_ranks_before_name_match_before_text_match() -> None:
    records = [
        record("anya-ext-lightning-tools", "Tools"),
        record("anya-ext-router", "Routes lightning payments"),
        record("anya-ext-lightning", "Channels"),
    ]

    found = search(records, SearchQuery("lightning"))

    assert names(found.records) == [
        "anya-ext-lightning",
        "anya-ext-lightning-tools",
        "anya-ext-router",
    ]


def test_a_name_matches_whatever_its_separators() -> None:
    records = [record("anya_ext_Seed.Vault", "Keeps seeds")]

    assert names(search(records, SearchQuery("seed-vault")).records) == ["anya_ext_Seed.Vault"]


def test_category_filter_takes_a_category_or_a_source() -> None:
    records = [
        record("anya-ext-a", category="core/ml"),
        record("anya-ext-b", category="core/bitcoin"),
        record("anya-ext-c", category="community/experimental"),
    ]

    assert names(search(records, SearchQuery("", category="core/ml")).records) == ["anya-ext-a"]
    assert names(search(records, SearchQuery("", category="core")).records) == [
        "anya-ext-a",
        "anya-ext-b",
    ]


def test_unknown_category_is_refused_naming_the_choices() -> None:
    with pytest.raises(InvalidQuery, match=r"unknown category 'core/quantum'") as raised:
        SearchQuery("x", category="core/quantum")

    assert raised.value.hint is not None and "core/ml" in raised.value.hint


def test_limit_keeps_the_best_and_the_total_counts_all() -> None:
    records = [record(f"anya-ext-tool-{n}") for n in range(5)]

    found = search(records, SearchQuery("tool", limit=2))

    assert (found.total, names(found.records)) == (5, ["anya-ext-tool-0", "anya-ext-tool-1"])


def test_latest_version_over_the_resolution_order_wins() -> None:
    own, base = StageCatalog("acme/dev"), StageCatalog("community/verified")
    own_records = {"anya-ext-x": record("anya-ext-x", version="1.0", index="acme/dev")}
    base_records = {"anya-ext-x": record("anya-ext-x", version="2.0")}

    merged = merge_latest(
        [(IndexInOrder(own, False), own_records), (IndexInOrder(base, False), base_records)],
        guarded=True,
    )

    assert [(r.version, r.index) for r in merged] == [("2.0", "community/verified")]


def test_a_private_index_hides_the_bases_versions_of_its_names() -> None:
    private, public = StageCatalog("acme/private"), StageCatalog("community/verified")
    private_records = {"anya-ext-x": record("anya-ext-x", version="0.1", index="acme/private")}
    public_records = {
        "anya-ext-x": record("anya-ext-x", version="9.0"),
        "anya-ext-y": record("anya-ext-y", version="1.0"),
    }
    order = [
        (IndexInOrder(private, True), private_records),
        (IndexInOrder(public, False), public_records),
    ]

    guarded = sorted((r.name, r.version) for r in merge_latest(order, guarded=True))
    unguarded = sorted((r.name, r.version) for r in merge_latest(order, guarded=False))

    assert guarded == [("anya-ext-x", "0.1"), ("anya-ext-y", "1.0")]
    assert unguarded == [("anya-ext-x", "9.0"), ("anya-ext-y", "1.0")]


def test_changes_marked_after_the_records_were_read_are_re_read_later() -> None:
    catalog = StageCatalog("a/b")
    catalog.mark_changed("anya-ext-x", 4)
    catalog.fill([record("anya-ext-x")], serial=5)
    catalog.mark_changed("anya-ext-x", 7)

    assert catalog.changed_up_to(6) == []
    assert catalog.changed_up_to(7) == ["anya-ext-x"]
    catalog.put("anya-ext-x", None, serial=7)
    assert (catalog.changed_up_to(9), catalog.records()) == ([], {})


def test_an_older_read_does_not_overwrite_a_newer_one() -> None:
    catalog = StageCatalog("a/b")
    catalog.fill([], serial=1)
    catalog.put("anya-ext-x", record("anya-ext-x", version="2.0"), serial=9)
    catalog.put("anya-ext-x", record("anya-ext-x", version="1.0"), serial=8)

    assert catalog.records()["anya-ext-x"].version == "2.0"


def test_merged_view_is_cached_until_a_catalog_changes() -> None:
    catalog = Catalog()
    stage = catalog.stage("a/b")
    stage.fill([record("anya-ext-x")], serial=1)
    order = [IndexInOrder(stage, False)]

    first = catalog.visible("a/b", order, guarded=False)
    assert catalog.visible("a/b", order, guarded=False) is first
    stage.put("anya-ext-y", record("anya-ext-y"), serial=2)
    assert sorted(names(catalog.visible("a/b", order, guarded=False))) == [
        "anya-ext-x",
        "anya-ext-y",
    ]


def test_the_first_terms_prefilter_keeps_every_kind_of_match() -> None:
    records = [
        record("anya-ext-seed-vault", "Keeps seeds."),
        record("anya-ext-keeper", "A vault for seeds."),
        record("anya-ext-other", "Nothing here.", keywords="vault"),
        record("anya-ext-unrelated", "Holds keys."),
    ]

    found = search(iter(records), SearchQuery("vault"))  # any iterable, read once
    assert names(found.records) == ["anya-ext-seed-vault", "anya-ext-keeper", "anya-ext-other"]
    assert names(search(records, SearchQuery("seed vault")).records) == [
        "anya-ext-seed-vault",  # exact, by the name without its prefix
        "anya-ext-keeper",
    ]
    assert names(search(records, SearchQuery("seed_vault")).records) == ["anya-ext-seed-vault"]
    assert names(search(records, SearchQuery("vault seeds")).records) == [
        "anya-ext-keeper",
        "anya-ext-seed-vault",
    ]
