"""``installation_success_rate`` on ``/+metrics``, fed by opted-in clients' reports, and a real
Prometheus answering a PromQL query for it."""

from __future__ import annotations

import json
import urllib.request
import uuid

import pytest

from anya_plugins.analytics.events import UsageEvent, batch_document, utc_day
from anya_plugins.registry.analytics_store import MIN_GROUP
from tests.monitoring.conftest import MonitoredRegistry
from tests.monitoring.support import Prometheus, scrape, wait_for
from tests.monitoring.test_prometheus import prometheus, values  # noqa: F401 (the fixture)

EXTENSION = "anya-ext-rated"
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def report(registry_url: str, version: str, platform: str, successes: list[bool]) -> None:
    """Each outcome from an installation of its own."""
    for success in successes:
        install = UsageEvent(utc_day(), "install", EXTENSION, version, "primary", platform, success)
        body = json.dumps(batch_document(uuid.uuid4().hex, [install])).encode()
        sent = urllib.request.Request(
            f"{registry_url}/+analytics/events", data=body, method="POST",
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        with _NO_PROXY.open(sent, timeout=30) as response:
            assert response.status == 200


def rate(registry_url: str, version: str, platform: str) -> float | None:
    labels = {"extension": EXTENSION, "version": version, "platform": platform}
    samples = scrape(registry_url)
    key = ("installation_success_rate", frozenset(labels.items()))
    return samples.get(key)


def test_the_success_rate_is_the_share_of_successful_reports(
    monitored_registry: MonitoredRegistry,
) -> None:
    outcomes = [True] * (MIN_GROUP + 1) + [False] * 2
    report(monitored_registry.url, "1.0.0", "linux-x86_64", outcomes)
    assert rate(monitored_registry.url, "1.0.0", "linux-x86_64") == pytest.approx(
        (MIN_GROUP + 1) / len(outcomes)
    )


def test_a_group_smaller_than_the_minimum_is_not_exported(
    monitored_registry: MonitoredRegistry,
) -> None:
    report(monitored_registry.url, "1.0.0", "windows-x86_64", [False] * (MIN_GROUP - 1))
    assert rate(monitored_registry.url, "1.0.0", "windows-x86_64") is None


@pytest.mark.slow
def test_prometheus_answers_a_query_for_installation_success_rate(
    prometheus: Prometheus,  # noqa: F811 (the imported fixture)
    monitored_registry: MonitoredRegistry,
) -> None:
    report(monitored_registry.url, "2.0.0", "macos-arm64", [True] * MIN_GROUP + [False] * 5)
    query = f'installation_success_rate{{extension="{EXTENSION}",platform="macos-arm64"}}'
    wait_for(lambda: bool(values(prometheus, query)), 15, "the success rate scraped")
    assert values(prometheus, query, "version") == {"2.0.0": pytest.approx(0.5)}
