"""A real Prometheus (Debian's package) scraping a real registry at ``/+metrics``: a PromQL
query answers for each metric, and slow downloads fire ``high_download_latency``, which
resolves once they stop.

Prometheus scrapes and evaluates every second. The shipped rules are loaded with their
windows shortened (``[5m]`` to ``[5s]``, every ``for:`` to ``0s``), the only change, so the
alert fires and resolves within seconds.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.monitoring.conftest import MIRROR, MonitoredRegistry
from tests.monitoring.support import (
    PROJECT,
    PROMETHEUS_PACKAGE,
    Prometheus,
    file_url,
    get,
    run_prometheus,
    wait_for,
)
from tests.support import REPO

pytestmark = pytest.mark.slow

RULES = REPO / "index-config" / "alerts.yml"
ALERT = "high_download_latency"
SLOW_SECONDS = 6.0


def quick_rules(directory: Path) -> Path:
    text = RULES.read_text()
    assert (text.count("[5m]"), text.count("for: 5m"), text.count("for: 15m")) == (1, 1, 1)
    quick = directory / "alerts.yml"
    quick.write_text(
        text.replace("[5m]", "[5s]").replace("for: 5m", "for: 0s").replace("for: 15m", "for: 0s")
    )
    return quick


@pytest.fixture(scope="module")
def prometheus(
    monitored_registry: MonitoredRegistry, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Prometheus]:
    if shutil.which("prometheus") is None:
        pytest.skip(
            f"prometheus is missing: install Debian's {PROMETHEUS_PACKAGE} package "
            f"(apt-get install {PROMETHEUS_PACKAGE}; the tests session does it as root)"
        )
    workdir = tmp_path_factory.mktemp("prometheus")
    with run_prometheus(workdir, monitored_registry.host_port, quick_rules(workdir)) as server:
        wait_for(lambda: values(server, 'up{job="anya-registry"}') == {"": 1.0}, 30, "a scrape")
        yield server


def values(prometheus: Prometheus, promql: str, label: str = "") -> dict[str, float]:
    """An instant query's samples as ``{value of label: value}``."""
    return {
        item["metric"].get(label, ""): float(item["value"][1]) for item in prometheus.query(promql)
    }


def firing(prometheus: Prometheus) -> list[dict[str, object]]:
    return [
        alert
        for alert in prometheus.alerts()
        if alert["labels"]["alertname"] == ALERT and alert["state"] == "firing"
    ]


def test_prometheus_answers_a_query_for_each_metric(
    prometheus: Prometheus, monitored_registry: MonitoredRegistry
) -> None:
    get(file_url(monitored_registry.url, MIRROR, f"{PROJECT}-2.0.tar.gz"))

    downloads = f'sum(download_latency_seconds_count{{index="{MIRROR}"}})'
    wait_for(lambda: values(prometheus, downloads).get("", 0) >= 1, 15, "the download scraped")
    under_100ms = f'sum(download_latency_seconds_bucket{{index="{MIRROR}",le="0.1"}})'
    assert values(prometheus, under_100ms)[""] >= 1
    requests = f'sum by (status) (registry_requests_total{{index="{MIRROR}"}})'
    assert values(prometheus, requests, "status")["200"] >= 2  # its page and its file
    availability = values(prometheus, "registry_availability", "target")
    assert availability == {"primary": 1, MIRROR: 1, "edge": 1, "gone": 0}


def test_slow_downloads_fire_high_download_latency_which_then_resolves(
    prometheus: Prometheus, monitored_registry: MonitoredRegistry
) -> None:
    name = f"{PROJECT}-2.1.tar.gz"
    url = file_url(monitored_registry.url, MIRROR, name)
    monitored_registry.upstream.delays[name] = SLOW_SECONDS
    assert not firing(prometheus)

    started = time.monotonic()
    get(url)
    assert time.monotonic() - started >= SLOW_SECONDS

    wait_for(lambda: bool(firing(prometheus)), 20, f"{ALERT} firing")
    (alert,) = firing(prometheus)
    assert alert["labels"] == {"alertname": ALERT, "severity": "warning"}
    assert float(str(alert["value"])) > 5
    # Nothing slow since: the p95 leaves the 5 s window and the alert is no longer listed.
    wait_for(lambda: not firing(prometheus), 30, f"{ALERT} resolved")
    assert not [a for a in prometheus.alerts() if a["labels"]["alertname"] == ALERT]
