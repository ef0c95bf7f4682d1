"""``anya-ext recommend`` in a real environment against the session registry: co-installations
reported by opted-in clients, the index's catalog, compatibility with this host."""

from __future__ import annotations

from typing import Any

import pytest

from anya_plugins.registry.analytics_store import MIN_GROUP
from tests.analytics.conftest import dist, event, new_id, send
from tests.registry_fixtures import Registry
from tests.support import Venv, VenvFactory, installing_unsigned_from

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def co_installed(analytics_registry: Registry) -> Registry:
    """Opted-in installations holding wallet with lightning, with future (a host API this
    host does not offer) and with winonly (built for Windows)."""
    for partner in ("lightning", "future", "winonly"):
        for _ in range(MIN_GROUP + 2):
            answer = send(analytics_registry, new_id(), event("install", "wallet"),
                          event("install", partner))  # fmt: skip
            assert answer.status == 200, answer.document
    return analytics_registry


def venv_for(registry: Registry, make_venv: VenvFactory, cache: Any) -> Venv:
    return installing_unsigned_from(make_venv(), registry, cache)


def names(found: dict[str, Any]) -> list[str]:
    return [r["name"] for r in found["recommendations"]]


def test_a_populated_profile_gets_what_is_installed_with_it(
    co_installed: Registry, make_venv: VenvFactory, tmp_path_factory: pytest.TempPathFactory
) -> None:
    venv = venv_for(co_installed, make_venv, tmp_path_factory.mktemp("cache"))
    done = venv.anya_ext("install", dist("wallet"))
    assert done.returncode == 0, done.stderr

    found = venv.anya_json("recommend", "--limit", "40")

    assert found["installed"] == [dist("wallet")]
    assert not found["cold_start"]
    by_name = {r["name"]: r for r in found["recommendations"]}
    assert by_name[dist("lightning")]["reasons"][0] == f"often installed with {dist('wallet')}"
    assert {dist("wallet"), dist("future"), dist("winonly")}.isdisjoint(by_name)


def test_a_cold_start_recommends_compatible_extensions_with_reasons(
    co_installed: Registry, make_venv: VenvFactory, tmp_path_factory: pytest.TempPathFactory
) -> None:
    venv = venv_for(co_installed, make_venv, tmp_path_factory.mktemp("cache"))

    found = venv.anya_json("recommend", "--category", "core/ml", "--limit", "5")

    assert found["installed"] == [] and found["cold_start"]
    assert dist("model") in names(found)
    assert dist("future") not in names(found) and dist("winonly") not in names(found)
    assert {r["category"] for r in found["recommendations"]} == {"core/ml"}
    assert all(r["reasons"] for r in found["recommendations"])
