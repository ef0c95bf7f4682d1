"""``/+metrics``: what the registry's plugin tells Prometheus."""

from __future__ import annotations

import base64
import time
import urllib.error

import pytest

from tests.monitoring.conftest import MIRROR, PROBE_SECRET, PROBE_USER, MonitoredRegistry
from tests.monitoring.support import PROJECT, file_url, get, sample, scrape

BUCKETS = ("0.1", "0.5", "1.0", "2.0", "5.0", "10.0", "+Inf")


def test_download_latency_is_a_histogram_with_the_agreed_buckets(
    monitored_registry: MonitoredRegistry,
) -> None:
    before = scrape(monitored_registry.url)
    url = file_url(monitored_registry.url, MIRROR, f"{PROJECT}-1.0.tar.gz")
    get(url)
    after = scrape(monitored_registry.url)

    count = "download_latency_seconds_count"
    assert sample(after, count, index=MIRROR) == sample(before, count, index=MIRROR) + 1
    buckets = {
        le: sample(after, "download_latency_seconds_bucket", index=MIRROR, le=le) for le in BUCKETS
    }
    assert buckets["+Inf"] == sample(after, count, index=MIRROR)
    assert list(buckets.values()) == sorted(buckets.values())


def test_a_slow_upstream_shows_in_the_download_latency(
    monitored_registry: MonitoredRegistry,
) -> None:
    """A mirrored file is timed until its last byte: the upstream's delay is in it."""
    name = f"{PROJECT}-1.1.tar.gz"
    url = file_url(monitored_registry.url, MIRROR, name)
    before = scrape(monitored_registry.url)
    monitored_registry.upstream.delays[name] = 1.2
    started = time.monotonic()
    get(url)
    elapsed = time.monotonic() - started
    after = scrape(monitored_registry.url)

    def observed(le: str) -> float:
        bucket = "download_latency_seconds_bucket"
        now, then = (sample(s, bucket, index=MIRROR, le=le) for s in (after, before))
        return now - then

    assert elapsed >= 1.2
    assert observed("1.0") == 0  # not under 1 s
    assert observed("+Inf") == 1
    latency_sum = "download_latency_seconds_sum"
    timed = sample(after, latency_sum, index=MIRROR) - sample(before, latency_sum, index=MIRROR)
    assert 1.2 <= timed <= elapsed


def test_requests_are_counted_by_index_and_status(monitored_registry: MonitoredRegistry) -> None:
    requests = "registry_requests_total"
    before = scrape(monitored_registry.url)
    get(f"{monitored_registry.url}/{MIRROR}/+simple/{PROJECT}/")
    with pytest.raises(urllib.error.HTTPError):
        get(f"{monitored_registry.url}/{MIRROR}/+simple/no-such-project-here/")
    after = scrape(monitored_registry.url)

    for status in ("200", "404"):
        assert (
            sample(after, requests, index=MIRROR, status=status)
            >= sample(before, requests, index=MIRROR, status=status) + 1
        )


def test_a_made_up_index_gets_no_label_of_its_own(monitored_registry: MonitoredRegistry) -> None:
    with pytest.raises(urllib.error.HTTPError):
        get(f"{monitored_registry.url}/nobody/nothing/+simple/")
    after = scrape(monitored_registry.url)

    assert not [key for key in after if ("index", "nobody/nothing") in key[1]]
    assert sample(after, "registry_requests_total", index="", status="404") >= 1


def test_availability_of_the_primary_its_mirror_and_probed_endpoints(
    monitored_registry: MonitoredRegistry,
) -> None:
    samples = scrape(monitored_registry.url)
    availability = {
        dict(labels)["target"]: value
        for (name, labels), value in samples.items()
        if name == "registry_availability"
    }

    assert availability == {"primary": 1, MIRROR: 1, "edge": 1, "gone": 0}
    urls = {dict(labels)["target"]: dict(labels)["url"] for (name, labels) in samples
            if name == "registry_availability"}  # fmt: skip
    assert urls[MIRROR] == monitored_registry.upstream.url
    assert urls["gone"] == monitored_registry.gone_url


def test_a_probe_sends_the_credentials_of_its_url_and_shows_the_url_without_them(
    monitored_registry: MonitoredRegistry,
) -> None:
    assert PROBE_SECRET in monitored_registry.edge_url
    text = get(f"{monitored_registry.url}/+metrics").decode()
    samples = scrape(monitored_registry.url)

    assert PROBE_SECRET not in text
    assert PROBE_USER not in text
    basic = base64.b64encode(f"{PROBE_USER}:{PROBE_SECRET}".encode()).decode()
    assert f"Basic {basic}" in monitored_registry.upstream.authorizations
    edge = sample(
        samples, "registry_availability", target="edge", url=monitored_registry.upstream.url
    )
    assert edge == 1
