"""The registry's analytics views on a real devpi: events in, aggregates out.

Every figure here is checked against the events the test generated; extensions are the
``anya-ext-an-*`` ones of this folder, so other modules' traffic does not show.
"""

from __future__ import annotations

import datetime
import json
import os
import random
import subprocess
import sys
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

from anya_plugins.analytics.events import UsageEvent, batch_document, utc_day
from anya_plugins.registry.analytics_store import MIN_GROUP
from tests.analytics.conftest import (
    Answer,
    dist,
    event,
    new_id,
    request,
    send,
)
from tests.registry_fixtures import Registry


def report(registry: Registry, **params: str) -> dict[str, dict[str, Any]]:
    answer = request(f"{registry.url}/+analytics/report?{urllib.parse.urlencode(params)}")
    assert answer.status == 200, answer.document
    return {row["group"]: row for row in answer.document["rows"]}


def test_a_batch_with_a_personal_field_is_refused_and_nothing_is_kept(
    analytics_registry: Registry,
) -> None:
    installation = new_id()
    document = batch_document(installation, [event("install", "vc")])
    with_ip = {**document, "ip": "203.0.113.7"}
    with_host = {**document, "events": [{**document["events"][0], "hostname": "alice-laptop"}]}
    before = report(analytics_registry, group_by="extension", last="1d")

    answers = [
        request(f"{analytics_registry.url}/+analytics/events", body)
        for body in (with_ip, with_host)
    ]

    assert [a.status for a in answers] == [400, 400]
    assert "ip" in answers[0].document["message"]
    assert "hostname" in answers[1].document["message"]
    assert report(analytics_registry, group_by="extension", last="1d") == before


def test_malformed_batches_are_refused(analytics_registry: Registry) -> None:
    url = f"{analytics_registry.url}/+analytics/events"
    good = batch_document(new_id(), [event("install", "vc")])
    bad = [
        {**good, "installation_id": "alice@example.org"},
        {**good, "events": [{**good["events"][0], "event": "launch"}]},
        {**good, "events": [{**good["events"][0], "success": "yes"}]},
        {**good, "events": [{**good["events"][0], "day": "2999-01-01"}]},
        {**good, "events": []},
    ]
    assert [request(url, body).status for body in bad] == [400] * len(bad)
    assert request(url, raw=b"not json").status == 400


def test_a_report_of_generated_events_matches_their_counts(analytics_registry: Registry) -> None:
    """Installs, updates, uninstalls and active installations per extension, as sent; an
    extension fewer than the minimum group of installations reported is withheld. (Names of
    its own: the session's other tests report this folder's extensions too.)"""
    chance = random.Random(14)
    sent: list[tuple[str, UsageEvent]] = []
    for _ in range(MIN_GROUP + 7):
        installation = new_id()
        batch = [event("install", "counted", success=chance.random() < 0.8)]
        if chance.random() < 0.5:
            batch.append(event("update", "counted", version="1.1.0"))
        if chance.random() < 0.3:
            batch.append(event("uninstall", "counted"))
        if chance.random() < 0.6:
            batch.append(event("install", "counted-too"))
        assert send(analytics_registry, installation, *batch).status == 200
        sent += [(installation, e) for e in batch]
    rare = new_id()
    assert send(analytics_registry, rare, event("install", "rare")).status == 200

    rows = report(analytics_registry, group_by="extension", last="7d",
                  metrics="installations,updates,uninstalls,active_users")  # fmt: skip

    for short in ("counted", "counted-too"):
        mine = [(i, e) for i, e in sent if e.extension == dist(short)]
        kinds = Counter(e.event for _, e in mine if e.success)
        assert rows[dist(short)] == {
            "group": dist(short),
            "installations": kinds["install"],
            "updates": kinds["update"],
            "uninstalls": kinds["uninstall"],
            "active_users": len({i for i, _ in mine}),
        }
    assert rows[dist("rare")]["installations"] is None
    assert rows[dist("rare")]["active_users"] is None


def test_a_report_by_category_adds_up_its_extensions(analytics_registry: Registry) -> None:
    for _ in range(MIN_GROUP):
        batch = [event("install", "tor"), event("install", "lightning"), event("install", "vc")]
        assert send(analytics_registry, new_id(), *batch).status == 200
    by_extension = report(analytics_registry, group_by="extension", last="7d")
    by_category = report(analytics_registry, group_by="category", last="7d")

    def installs(*shorts: str) -> int:
        """Installs of these extensions; one that no test has reported yet has no row."""
        rows = [by_extension.get(dist(short), {}) for short in shorts]
        return sum(int(row.get("installations") or 0) for row in rows)

    assert by_category["core/web5"]["installations"] >= installs("vc", "did") > 0
    assert by_category["core/bitcoin"]["installations"] >= installs("tor", "lightning") > 0


def test_downloads_are_counted_by_the_registry(analytics_registry: Registry) -> None:
    page = request(f"{analytics_registry.url}/anya/primary/anya-ext-an-tor")
    assert page.status == 200, page.document
    (link,) = [
        link["href"] for link in page.document["result"]["0.1.0"]["+links"]
        if link["rel"] == "releasefile"
    ]  # fmt: skip
    before = report(analytics_registry, group_by="extension", last="1d", metrics="downloads")
    for _ in range(3):
        assert request(link).status == 200
    after = report(analytics_registry, group_by="extension", last="1d", metrics="downloads")

    downloads = after[dist("tor")]["downloads"]
    assert downloads == int(before.get(dist("tor"), {"downloads": 0})["downloads"]) + 3


def test_co_installations_are_aggregated_with_a_minimum_group(
    analytics_registry: Registry,
) -> None:
    """Names of its own, as above."""
    for _ in range(MIN_GROUP):
        batch = [event("install", "pair-a"), event("install", "pair-b")]
        assert send(analytics_registry, new_id(), *batch).status == 200
    lonely = new_id()
    assert send(analytics_registry, lonely, event("install", "pair-b")).status == 200
    found = request(f"{analytics_registry.url}/+analytics/coinstalls").document

    pairs = {(a, b): n for a, b, n in found["pairs"]}
    assert pairs[(dist("pair-a"), dist("pair-b"))] == MIN_GROUP
    assert found["installations"][dist("pair-b")] == MIN_GROUP + 1
    assert all(n >= MIN_GROUP for n in pairs.values())
    assert found["min_group"] == MIN_GROUP


def test_the_analytics_page_charts_downloads_and_installs(analytics_registry: Registry) -> None:
    for _ in range(MIN_GROUP):
        assert send(analytics_registry, new_id(), event("install", "tor")).status == 200
    answer = request(f"{analytics_registry.url}/+analytics?last=7d")
    page = answer.document
    assert answer.status == 200 and isinstance(page, str)
    assert page.count("<svg") == 4
    for title in ("Downloads per day by extension", "Installations per day by category"):
        assert title in page
    assert dist("tor") in page and "core/bitcoin" in page


def test_a_period_longer_than_the_retention_is_refused(analytics_registry: Registry) -> None:
    answer: Answer = request(f"{analytics_registry.url}/+analytics/report?last=400d")
    assert answer.status == 400
    assert "90 days" in answer.document["message"]


def test_events_older_than_the_retention_are_not_kept(analytics_registry: Registry) -> None:
    old = (datetime.date.fromisoformat(utc_day()) - datetime.timedelta(days=91)).isoformat()
    answer = send(analytics_registry, new_id(), event("install", "vc", day=old))
    assert answer.status == 200
    assert (answer.document["accepted"], answer.document["kept"]) == (1, 0)


def test_the_cli_report_is_the_registrys(analytics_registry: Registry, tmp_path: Path) -> None:
    for _ in range(MIN_GROUP):
        assert send(analytics_registry, new_id(), event("update", "model")).status == 200
    command = [sys.executable, "-m", "anya_plugins.cli", "--json", "analytics", "report",
               "--registry", analytics_registry.url, "--group-by", "extension", "--last", "7d",
               "--metrics", "updates,active_users"]  # fmt: skip
    environment = {**os.environ, "ANYA_CONFIG": str(tmp_path / "none.toml")}
    done = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)
    assert done.returncode == 0, done.stderr
    shown = {row["group"]: row["values"] for row in json.loads(done.stdout)["rows"]}
    served = report(analytics_registry, group_by="extension", last="7d",
                    metrics="updates,active_users")  # fmt: skip
    model = served[dist("model")]
    assert shown[dist("model")] == {k: model[k] for k in ("updates", "active_users")}
    html = subprocess.run([*command[:3], *command[4:], "--html"], capture_output=True, text=True,
                          env=environment, check=False)  # fmt: skip
    assert html.returncode == 0, html.stderr
    assert html.stdout.startswith("<!DOCTYPE html>") and html.stdout.count("<svg") == 2


def test_an_extensions_chart_is_an_svg_image_of_its_downloads_and_installs(
    analytics_registry: Registry,
) -> None:
    for _ in range(MIN_GROUP):
        assert send(analytics_registry, new_id(), event("install", "charted")).status == 200
    url = f"{analytics_registry.url}/+analytics/charts/extension/{dist('charted')}.svg"
    with urllib.request.urlopen(url, timeout=30) as response:
        kind, svg = response.headers["Content-Type"], response.read().decode()
        sniffing = response.headers["X-Content-Type-Options"]

    assert kind.startswith("image/svg+xml") and sniffing == "nosniff"
    assert svg.startswith("<svg") and ">installations</text>" in svg
    assert f"<title>installations: {MIN_GROUP}</title>" in svg


def test_the_categories_chart_takes_a_measure(analytics_registry: Registry) -> None:
    base = f"{analytics_registry.url}/+analytics/charts/categories.svg"
    assert request(f"{base}?measure=downloads").status == 200
    refused = request(f"{base}?measure=ratings")
    assert refused.status == 400 and "measure" in refused.document["message"]
