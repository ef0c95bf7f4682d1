"""How long ``+anya/search`` takes with 1,000 and 10,000 extensions on an index (printed).

A registry of its own: indexes created over HTTP, then, with the server stopped, filled
through devpi's model API (``tests.registry.populate``), then started again. Run with
``pytest -s tests/registry/test_search_benchmark.py`` to see the figures. Nothing here
asserts a duration; only that the answers are complete.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from anya_plugins.registry.devpi import DevpiClient
from tests.support import REPO

pytestmark = pytest.mark.slow

SIZES = {"bench/k1": 1_000, "bench/k10": 10_000}
PRIVATE, PRIVATE_SIZE = "bench/private", 100
"""A private index on bench/k10 whose names shadow the first hundred of it (the guard merge)."""
REPEATS = 20
QUERIES: dict[str, dict[str, str | None]] = {
    "one name": {"query": "anya-ext-oracle-00001"},
    "two terms": {"query": "lightning routes"},
    "category": {"query": "wallet", "category": "core/ml"},
    "every project, first 50": {"query": "anya"},
}


@pytest.fixture(scope="module")
def bench_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pytest.importorskip("devpi_server", reason="the registry tests need the 'registry' extra")
    from anya_plugins.registry import server

    state_dir = tmp_path_factory.mktemp("bench-registry")
    running = server.start(state_dir)
    try:
        root = DevpiClient(running.url)
        root.login(running.admin)
        root.create_user("bench", "bench-password")
        for index in SIZES:
            root.create_index(index, {"type": "anya", "bases": []})
        root.create_index(PRIVATE, {"type": "anya", "bases": ["bench/k10"], "anya_private": True})
    finally:
        server.stop(state_dir)
    counts = [f"{index}={count}" for index, count in {**SIZES, PRIVATE: PRIVATE_SIZE}.items()]
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "tests.registry.populate", str(state_dir / "server"), *counts],
        check=True,
        cwd=REPO,
    )
    print(f"\npopulated {counts} in {time.perf_counter() - started:.1f} s")
    running = server.start(state_dir)
    try:
        yield running.url
    finally:
        server.stop(state_dir)


def latencies(
    client: DevpiClient, index: str, spec: dict[str, str | None], limit: int | None
) -> list[float]:
    """Milliseconds per query, client side (HTTP round trip included), ``REPEATS`` times."""
    runs = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        client.search(index, spec["query"] or "", spec.get("category"), limit=limit)
        runs.append((time.perf_counter() - started) * 1000)
    return runs


def test_search_latency_at_one_and_ten_thousand_extensions(bench_url: str) -> None:
    client = DevpiClient(bench_url)
    report = []
    for index, size in {**SIZES, PRIVATE: SIZES["bench/k10"]}.items():
        first = latencies(client, index, {"query": "wallet"}, None)[0]
        assert len(client.search(index, "")) == size
        for label, spec in QUERIES.items():
            runs = latencies(client, index, spec, 50 if label.startswith("every") else None)
            report.append(
                f"{index:>14} ({size:>6} projects) {label:<24} "
                f"median {statistics.median(runs):6.1f} ms  max {max(runs):6.1f} ms"
            )
        report.append(f"{index:>14} first query (reads every project once): {first:.0f} ms")
    (everything,) = latencies(client, "bench/k10", {"query": ""}, None)[:1]
    report.append(f"{'bench/k10':>14} all 10,000 results, no limit: {everything:.0f} ms")
    print("\n" + "\n".join(report))


def test_guard_hides_the_shadowed_public_versions(bench_url: str) -> None:
    hits = DevpiClient(bench_url).search(PRIVATE, "anya-ext-wallet-00000")

    assert [(hit["name"], hit["index"]) for hit in hits] == [("anya-ext-wallet-00000", PRIVATE)]
