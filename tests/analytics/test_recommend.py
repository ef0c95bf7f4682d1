"""The recommendation scorer on hand-made aggregates: a cold start, a populated profile, and
what is never suggested."""

from __future__ import annotations

from anya_plugins.metadata.taxonomy import HOST_API_VERSION
from anya_plugins.registry.recommend import (
    Candidate,
    CoInstallCounts,
    Profile,
    Rating,
    recommend,
)

CATALOG = [
    Candidate("wallet", "core/bitcoin", ">=1.0,<2", ("pure",)),
    Candidate("lightning", "core/bitcoin", ">=1.0,<2", ("pure",)),
    Candidate("tor", "core/bitcoin", ">=1.0,<2", ("linux-x86_64", "macos-arm64")),
    Candidate("did", "core/web5", ">=1.0,<2", ("pure",)),
    Candidate("vc", "core/web5", ">=1.0,<2", ("pure",)),
    Candidate("model", "core/ml", ">=1.0,<2", ("pure",)),
    Candidate("future", "core/ml", ">=99", ("pure",)),
    Candidate("winonly", "core/bitcoin", "", ("windows-x86_64",)),
]
COUNTS = CoInstallCounts(
    installations={"wallet": 90, "lightning": 40, "tor": 30, "did": 20, "vc": 15, "model": 60,
                   "future": 80, "winonly": 70},
    pairs={("lightning", "wallet"): 35, ("tor", "wallet"): 10, ("did", "vc"): 12,
           ("model", "wallet"): 8, ("future", "wallet"): 70, ("wallet", "winonly"): 60},
)  # fmt: skip
RATINGS = {"vc": Rating(4.9, 40), "did": Rating(3.1, 10), "model": Rating(4.0, 2)}


def profile(*installed: str) -> Profile:
    categories = {c.category for c in CATALOG if c.name in installed}
    return Profile(frozenset(installed), "linux-x86_64", HOST_API_VERSION, frozenset(categories))


def test_a_cold_start_ranks_by_popularity_and_rating_and_says_so() -> None:
    found = recommend(profile(), CATALOG, CoInstallCounts({}, {}), RATINGS, limit=3)

    assert found[0].name == "vc"  # the only rating signal without co-installations
    assert "top rated in core/web5" in found[0].reasons
    assert all(r.reasons for r in found)


def test_a_cold_start_with_installation_counts_prefers_the_popular() -> None:
    found = recommend(profile(), CATALOG, COUNTS, limit=2)

    assert [r.name for r in found] == ["wallet", "model"]
    assert found[0].reasons == ("installed by 90 opted-in installations",)


def test_a_populated_profile_gets_what_is_installed_with_its_extensions() -> None:
    found = recommend(profile("wallet"), CATALOG, COUNTS, RATINGS, limit=3)

    assert found[0].name == "lightning"
    assert found[0].reasons[0] == "often installed with wallet"
    assert "wallet" not in {r.name for r in found}


def test_what_is_incompatible_or_installed_is_never_suggested() -> None:
    """``future`` (host API) and ``winonly`` (platform) are co-installed with wallet most."""
    found = recommend(profile("wallet"), CATALOG, COUNTS, RATINGS, limit=len(CATALOG))

    names = {r.name for r in found}
    assert names == {"lightning", "tor", "did", "vc", "model"}


def test_a_platform_filter_follows_the_profile() -> None:
    mac = Profile(frozenset(), "macos-arm64", HOST_API_VERSION)
    windows = Profile(frozenset(), "windows-x86_64", HOST_API_VERSION)

    assert "tor" in {r.name for r in recommend(mac, CATALOG, COUNTS, limit=10)}
    on_windows = {r.name for r in recommend(windows, CATALOG, COUNTS, limit=10)}
    assert "tor" not in on_windows and "winonly" in on_windows


def test_a_category_limits_the_recommendations() -> None:
    found = recommend(profile("wallet"), CATALOG, COUNTS, RATINGS, category="core/web5")
    assert [r.name for r in found] == ["vc", "did"]
    assert {r.category for r in recommend(profile(), CATALOG, COUNTS, category="core")} == {
        "core/bitcoin", "core/web5", "core/ml",
    }  # fmt: skip


def test_few_votes_do_not_beat_many() -> None:
    """model's 4.0 from 2 votes is shrunk towards 3; vc's 4.9 from 40 is not much."""
    ratings = {"vc": Rating(4.5, 40), "model": Rating(5.0, 1)}
    empty = CoInstallCounts({}, {})
    found = recommend(profile(), CATALOG, empty, ratings, limit=2)
    assert [r.name for r in found] == ["vc", "model"]
