"""The Grafana dashboard shipped for operators (index-config/grafana-dashboard.json): it
charts every metric the registry exports, and a real Prometheus scraping a real registry
answers each of its queries."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.monitoring.support import Prometheus, wait_for
from tests.monitoring.test_prometheus import prometheus, values  # noqa: F401 (the fixture)
from tests.support import REPO

DASHBOARD = REPO / "index-config" / "grafana-dashboard.json"
EXPORTED = (
    "download_latency_seconds",
    "registry_requests_total",
    "registry_availability",
    "installation_success_rate",
)
VARIABLES = {"$index": ".*", "$extension": ".*"}


def queries() -> list[tuple[str, str]]:
    """``(panel title, PromQL)`` of every panel target, variables set to "All"."""
    document: dict[str, Any] = json.loads(DASHBOARD.read_text())
    found = []
    for panel in document["panels"]:
        for target in panel["targets"]:
            expr = str(target["expr"])
            for variable, value in VARIABLES.items():
                expr = expr.replace(variable, value)
            found.append((str(panel["title"]), expr))
    return found


def test_every_exported_metric_has_a_panel() -> None:
    text = " ".join(expr for _, expr in queries())
    assert [m for m in EXPORTED if not re.search(rf"\b{m}", text)] == []


def test_every_panel_reads_the_chosen_data_source() -> None:
    document = json.loads(DASHBOARD.read_text())
    sources = {p["datasource"]["uid"] for p in document["panels"]}
    assert sources == {"${datasource}"}
    assert document["templating"]["list"][0]["type"] == "datasource"


@pytest.mark.slow
@pytest.mark.parametrize(("title", "expr"), queries())
def test_prometheus_answers_each_dashboard_query(
    prometheus: Prometheus,  # noqa: F811 (the imported fixture)
    title: str,
    expr: str,
) -> None:
    """A query Prometheus cannot parse fails here (``api`` asserts ``success``); the panels
    of what every scrape carries show data once two scrapes are in (a rate needs two)."""
    prometheus.query(expr)
    if title.startswith(("Requests per second", "Availability")):
        wait_for(lambda: bool(prometheus.query(expr)), 15, f"{title}: {expr} answering")
