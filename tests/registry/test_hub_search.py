"""Search with the hub's filters on the running registry: category, minimum rating, sorting;
through the Python API (``Hub.search(...)``) and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from anya_plugins import Hub
from anya_plugins.registry.search import InvalidQuery
from tests.registry.hub_support import HUB_INDEX, MAINTAINER, USERS, HubIndex, set_up_hub
from tests.registry_fixtures import Registry, Upload, metadata_wheel

pytestmark = pytest.mark.slow

PROJECTS = {  # this module's own: other hub tests review and download the hub's wombats
    "anya-ext-numbat-alpha": ("core/bitcoin", "Numbat channel manager"),
    "anya-ext-numbat-beta": ("core/bitcoin", "Numbat fee bumper"),
    "anya-ext-numbat-gamma": ("core/ml", "Numbat fee model"),
}
RATINGS = {
    "anya-ext-numbat-alpha": {"alice": 5, "bob": 4},
    "anya-ext-numbat-beta": {"alice": 3},
    "anya-ext-numbat-gamma": {"bob": 5},
}


@pytest.fixture(scope="module")
def hub(registry: Registry, upload: Upload, tmp_path_factory: pytest.TempPathFactory) -> Hub:
    wheels = tmp_path_factory.mktemp("hub-wheels")
    index: HubIndex = set_up_hub(registry, upload, wheels)
    for name, (category, summary) in PROJECTS.items():
        if name == "anya-ext-numbat-gamma":
            time.sleep(1.1)  # the most recent upload (devpi logs whole seconds)
        wheel = metadata_wheel(wheels, name, version="1.0.0", summary=summary, category=category)
        done = upload(HUB_INDEX, wheel, user=MAINTAINER, password=USERS[MAINTAINER])
        assert done.returncode == 0, done.stdout + done.stderr
    for project, by_user in RATINGS.items():
        for user, rating in by_user.items():
            answer = index.call("POST", f"/reviews/{project}",
                                {"rating": rating, "title": "ok"}, user=user)  # fmt: skip
            assert answer.status == 200, answer.body
    return Hub(registry.url, HUB_INDEX)


def numbats(hits: object) -> list[str]:
    return [h.name for h in hits if "numbat" in h.name]  # type: ignore[attr-defined]


def test_min_rating_keeps_rated_extensions_at_or_above_it(hub: Hub) -> None:
    found = hub.search("numbat").min_rating(4.0)

    assert sorted(numbats(found)) == ["anya-ext-numbat-alpha", "anya-ext-numbat-gamma"]


def test_results_carry_the_mean_rating_and_count(hub: Hub) -> None:
    (alpha,) = hub.search("numbat alpha").results()

    assert (alpha.rating, alpha.ratings) == (4.5, 2)


def test_a_category_alone_is_a_query(hub: Hub) -> None:
    found = hub.search().category("core/bitcoin")

    assert sorted(numbats(found)) == ["anya-ext-numbat-alpha", "anya-ext-numbat-beta"]


def test_a_source_category_with_a_minimum_rating(hub: Hub) -> None:
    found = hub.search().category("core").min_rating(4.5)

    assert sorted(numbats(found)) == ["anya-ext-numbat-alpha", "anya-ext-numbat-gamma"]


def test_sort_by_rating_puts_the_best_rated_first(hub: Hub) -> None:
    found = hub.search("numbat").sort("rating")

    assert numbats(found) == [
        "anya-ext-numbat-gamma", "anya-ext-numbat-alpha", "anya-ext-numbat-beta",
    ]  # fmt: skip


def test_sort_by_recent_puts_the_last_upload_first(hub: Hub) -> None:
    found = hub.search("numbat").sort("recent")

    assert numbats(found)[0] == "anya-ext-numbat-gamma"


def test_sort_by_downloads_puts_the_most_downloaded_first(
    hub: Hub, registry: Registry, upload: Upload, tmp_path_factory: pytest.TempPathFactory
) -> None:
    index = set_up_hub(registry, upload, tmp_path_factory.mktemp("hub-wheels"))
    for project, times in (("anya-ext-numbat-beta", 3), ("anya-ext-numbat-gamma", 1)):
        for _ in range(times):
            assert index.call("GET", "", url=index.file_url(project, "1.0.0")).status == 200

    found = hub.search("numbat").sort("downloads").results()

    assert numbats(found)[:2] == ["anya-ext-numbat-beta", "anya-ext-numbat-gamma"]
    assert [h.downloads for h in found if h.name == "anya-ext-numbat-beta"] == [3]


def test_relevance_puts_the_exact_name_first(hub: Hub) -> None:
    found = hub.search("numbat-beta").results()

    assert found[0].name == "anya-ext-numbat-beta"


@pytest.mark.parametrize("bad", ["sort", "rating"])
def test_an_unknown_sort_or_a_rating_out_of_range_is_refused_before_asking(
    bad: str,
) -> None:
    nowhere = Hub("http://127.0.0.1:9", "no/index").search("x")
    search = nowhere.sort("stars") if bad == "sort" else nowhere.min_rating(7)

    with pytest.raises(InvalidQuery):
        search.results()


def test_the_cli_search_takes_the_same_filters(hub: Hub, tmp_path: Path) -> None:
    env = {
        "HOME": str(tmp_path), "PATH": "/usr/bin:/bin",
        "ANYA_CONFIG": str(tmp_path / "extensions.toml"),
        "ANYA_SOURCES__PRIMARY__URL": f"{hub.url}/{HUB_INDEX}/+simple/",
    }  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "anya_plugins.cli", "--json", "search", "--category", "core",
         "--min-rating", "4", "--sort", "rating"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    names = [hit["name"] for hit in json.loads(done.stdout) if "numbat" in hit["name"]]
    assert names == ["anya-ext-numbat-gamma", "anya-ext-numbat-alpha"]
    assert USERS


def test_the_cli_search_needs_a_query_or_a_category(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "anya_plugins.cli", "search"],
        capture_output=True, text=True, check=False,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip

    assert done.returncode == 2
    assert "QUERY or --category" in done.stderr
