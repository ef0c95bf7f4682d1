# mypy: disallow-untyped-calls=False
# (devpi-server's model functions are untyped; this module is the adapter to them.)
"""Usage analytics in the devpi plugin: what opted-in clients report, what the registry counts
itself, and the aggregates it shows (kept in :class:`~.analytics_store.AnalyticsStore`).

* ``POST /+analytics/events``: a batch (:func:`anya_plugins.analytics.events.parse_batch`);
  a key outside the allow-list, a malformed value or a body over :data:`MAX_BODY` is refused
  with 400 and nothing is kept. Anyone may post (clients do not sign in); the request's address
  and headers are not read. A replica relays the POST to its primary (devpi does this for
  every mutating view).
* Downloads are counted by the registry: every ``GET .../+f/...`` answered 200, per day,
  index and project (a tween; only the count is kept).
* ``GET /+analytics/report?last=30d&group_by=category&metrics=downloads,installations,
  active_users``: figures per group; a client-derived figure of a group that fewer than the
  minimum group size of installations stand behind is ``null`` (withheld).
* ``GET /+analytics/coinstalls``: how many opted-in installations hold each extension and
  each pair together (counts under the minimum group size left out), for recommendations.
* ``GET /+analytics``: an HTML page with SVG charts of downloads and installs per day, per
  extension and per category (``?last=30d``).
* ``GET /+analytics/charts/extension/{project}.svg`` (one extension's downloads and installs
  per day) and ``GET /+analytics/charts/categories.svg?measure=downloads|installations``: the
  charts alone, as images for other pages (the hub's) to show.
* ``installation_success_rate{extension,version,platform}`` on ``/+metrics``: the share of
  install and update attempts reported successful over the last 30 days.

Options: ``--anya-analytics-retention-days`` (default 90) and ``--anya-analytics-min-group``
(default 5), also ``DEVPISERVER_ANYA_ANALYTICS_RETENTION_DAYS`` / ``..._MIN_GROUP``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator
from html import escape
from pathlib import Path
from typing import Any, Final
from weakref import WeakKeyDictionary

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from pyramid.response import Response  # type: ignore[import-untyped]
from pyramid.tweens import EXCVIEW  # type: ignore[import-untyped]

from anya_plugins.analytics.events import InvalidEvents, parse_batch
from anya_plugins.registry import analytics_charts
from anya_plugins.registry.analytics_store import (
    FILENAME,
    GROUPINGS,
    METRICS,
    MIN_GROUP,
    RETENTION_DAYS,
    AnalyticsStore,
    days_between,
    first_day,
    today,
)
from anya_plugins.registry.plugin_metrics import METRICS as PROMETHEUS_REGISTRY
from anya_plugins.registry.plugin_responses import json_body, json_response, message_response
from anya_plugins.registry.search import record_from_metadata, version_key

EVENTS_PATH: Final = "/+analytics/events"
REPORT_PATH: Final = "/+analytics/report"
COINSTALLS_PATH: Final = "/+analytics/coinstalls"
PAGE_PATH: Final = "/+analytics"
EXTENSION_CHART_PATH: Final = "/+analytics/charts/extension/{project}.svg"
CATEGORIES_CHART_PATH: Final = "/+analytics/charts/categories.svg"
_SVG_HEADERS: Final = {"X-Content-Type-Options": "nosniff", "Cache-Control": "max-age=300"}
MAX_BODY: Final = 256 * 1024
SUCCESS_RATE_DAYS: Final = 30
RETENTION_OPTION: Final = "--anya-analytics-retention-days"
MIN_GROUP_OPTION: Final = "--anya-analytics-min-group"
_PERIOD = re.compile(r"([1-9][0-9]{0,3})d")
_FILE_SEGMENT = "+f"
_MIRROR = "mirror"

Handler = Callable[[Any], Any]

_stores: WeakKeyDictionary[Any, AnalyticsStore] = WeakKeyDictionary()
_stores_lock = threading.Lock()


def add_options(parser: Any) -> None:
    parser.addoption(
        RETENTION_OPTION, type=int, default=RETENTION_DAYS, metavar="DAYS",
        help="days usage events and download counts are kept (anya analytics)",
    )  # fmt: skip
    parser.addoption(
        MIN_GROUP_OPTION, type=int, default=MIN_GROUP, metavar="N",
        help="fewest distinct installations a reported analytics figure may stem from",
    )  # fmt: skip


def configure(pyramid_config: Any) -> None:
    routes = (
        ("anya-analytics-events", EVENTS_PATH, events_view, "POST"),
        ("anya-analytics-report", REPORT_PATH, report_view, "GET"),
        ("anya-analytics-coinstalls", COINSTALLS_PATH, coinstalls_view, "GET"),
        ("anya-analytics-page", PAGE_PATH, page_view, "GET"),
        ("anya-analytics-extension-chart", EXTENSION_CHART_PATH, extension_chart_view, "GET"),
        ("anya-analytics-categories-chart", CATEGORIES_CHART_PATH, categories_chart_view, "GET"),
    )
    for name, path, view, method in routes:
        pyramid_config.add_route(name, path)
        pyramid_config.add_view(view, route_name=name, request_method=method)
    pyramid_config.add_tween(
        f"{__name__}.download_count_tween",
        under="devpi_server.views.tween_keyfs_transaction",
        over=EXCVIEW,
    )


def store_of(xom: Any) -> AnalyticsStore:
    """The analytics store of one running devpi (a file in its server directory)."""
    with _stores_lock:
        store = _stores.get(xom)
        if store is None:
            args = xom.config.args
            store = _stores[xom] = AnalyticsStore(
                Path(str(xom.config.serverdir)) / FILENAME,
                retention_days=int(getattr(args, "anya_analytics_retention_days", RETENTION_DAYS)),
                min_group=int(getattr(args, "anya_analytics_min_group", MIN_GROUP)),
            )
        return store


def events_view(request: Any) -> Response:
    length = request.content_length
    if length is None or length > MAX_BODY:
        return message_response(
            413 if length else 411, f"send a JSON body of at most {MAX_BODY} bytes"
        )
    body = json_body(request)
    try:
        installation, events = parse_batch(body)
    except InvalidEvents as refusal:
        text = refusal.message if not refusal.hint else f"{refusal.message} ({refusal.hint})"
        return message_response(400, text)
    kept = store_of(request.registry["xom"]).add_events(installation, events)
    return json_response({"accepted": len(events), "kept": kept})


def report_view(request: Any) -> Response:
    xom = request.registry["xom"]
    store = store_of(xom)
    try:
        days = _period(request.params.get("last", "30d"), store.retention_days)
        group_by = _choice(request.params.get("group_by", "category"), GROUPINGS, "group_by")
        metrics = [_choice(m, METRICS, "metrics") for m in _split(request.params.get("metrics"))]
    except ValueError as exc:
        return message_response(400, str(exc))
    rows = store.report(last_days=days, group_by=group_by, categories=categories_of(xom))
    chosen = metrics or list(METRICS)
    return json_response({
        "last_days": days, "group_by": group_by, "metrics": chosen, "until": today(),
        "min_group": store.min_group, "retention_days": store.retention_days,
        "rows": [{"group": row.group, **{m: getattr(row, m) for m in chosen}} for row in rows],
    })  # fmt: skip


def coinstalls_view(request: Any) -> Response:
    found = store_of(request.registry["xom"]).co_installations()
    return json_response({
        "min_group": found.min_group,
        "installations": dict(sorted(found.installations.items())),
        "pairs": [[a, b, n] for (a, b), n in sorted(found.pairs.items())],
    })  # fmt: skip


def page_view(request: Any) -> Response:
    xom = request.registry["xom"]
    store = store_of(xom)
    try:
        days = _period(request.params.get("last", "30d"), store.retention_days)
    except ValueError as exc:
        return message_response(400, str(exc))
    categories = categories_of(xom)
    span = days_between(first_day(days), today())
    charts = []
    for group_by in ("extension", "category"):
        series = store.daily(last_days=days, group_by=group_by, categories=categories)
        for measure in ("downloads", "installations"):
            per_group = {group: counts[measure] for group, counts in series.items()}
            title = f"{measure.capitalize()} per day by {group_by}"
            charts.append(analytics_charts.line_chart(title, per_group, span))
    rows = store.report(last_days=days, group_by="category", categories=categories)
    return Response(
        body=_page(days, store.min_group, charts, rows), content_type="text/html", charset="utf-8"
    )


def extension_chart_view(request: Any) -> Response:
    store = store_of(request.registry["xom"])
    project = str(canonicalize_name(request.matchdict["project"]))
    try:
        days = _period(request.params.get("last", "30d"), store.retention_days)
    except ValueError as exc:
        return message_response(400, str(exc))
    series = store.daily(last_days=days, group_by="extension", categories={})
    counts = series.get(project, {"downloads": {}, "installations": {}})
    title = f"{project}: downloads and installs per day"
    return _svg(analytics_charts.line_chart(title, counts, days_between(first_day(days), today())))


def categories_chart_view(request: Any) -> Response:
    xom = request.registry["xom"]
    store = store_of(xom)
    try:
        days = _period(request.params.get("last", "30d"), store.retention_days)
        measure = _choice(request.params.get("measure", "installations"),
                          ("downloads", "installations"), "measure")  # fmt: skip
    except ValueError as exc:
        return message_response(400, str(exc))
    series = store.daily(last_days=days, group_by="category", categories=categories_of(xom))
    per_category = {category: counts[measure] for category, counts in series.items()}
    title = f"{measure.capitalize()} per day by category"
    span = days_between(first_day(days), today())
    return _svg(analytics_charts.line_chart(title, per_category, span))


def _svg(chart: str) -> Response:
    response = Response(body=chart, content_type="image/svg+xml", charset="utf-8")
    response.headers.update(_SVG_HEADERS)
    return response


def _page(days: int, min_group: int, charts: list[str], rows: Iterable[Any]) -> str:
    def cell(value: int | None) -> str:
        return "withheld" if value is None else str(value)

    table = "".join(
        f"<tr><td>{escape(r.group)}</td><td>{r.downloads}</td><td>{cell(r.installations)}</td>"
        f"<td>{cell(r.active_users)}</td></tr>"
        for r in rows
    )
    figures = "".join(f"<figure>{chart}</figure>" for chart in charts)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<title>Anya registry analytics</title><style>body{font-family:sans-serif;margin:1em}"
        "figure{display:inline-block;margin:0.5em}td,th{padding:2px 8px;text-align:left}"
        "</style></head><body>"
        f"<h1>Downloads and installs, last {days} days</h1>"
        f"<p>Downloads are counted by the registry. Installs come from clients that opted in; "
        f"a figure fewer than {min_group} installations stand behind is withheld.</p>"
        f"{figures}<h2>By category</h2><table><tr><th>category</th><th>downloads</th>"
        f"<th>installations</th><th>active users</th></tr>{table}</table></body></html>"
    )


def categories_of(xom: Any) -> dict[str, str]:
    """Each extension's category (canonical name -> ``source/topic``), from the latest version
    on the non-mirror indexes."""
    found: dict[str, str] = {}
    for user in xom.model.get_userlist():
        for stage in user.getstages():
            if stage.ixconfig.get("type") == _MIRROR:
                continue
            for project in stage.list_projects_perstage():
                versions = sorted(stage.list_versions_perstage(project), key=version_key)
                if not versions:
                    continue
                metadata = stage.get_versiondata_perstage(project, versions[-1]) or {}
                category = record_from_metadata(metadata, stage.name).category
                if category:
                    found.setdefault(canonicalize_name(project), category)
    return found


def download_count_tween(handler: Handler, registry: Any) -> Handler:
    xom = registry["xom"]

    def tween(request: Any) -> Any:
        response = handler(request)
        if request.method == "GET" and response.status_code == 200:
            counted = _download(request.path_info)
            if counted is not None:
                store_of(xom).count_download(*counted)
        return response

    return tween


def _download(path: str) -> tuple[str, str] | None:
    """``(user/index, project)`` of a release file's path, else None."""
    parts = path.strip("/").split("/")
    if len(parts) < 4 or parts[2] != _FILE_SEGMENT or parts[0].startswith("+"):
        return None
    filename = parts[-1]
    try:
        if filename.endswith(".whl"):
            name = parse_wheel_filename(filename)[0]
        else:
            name = parse_sdist_filename(filename)[0]
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return f"{parts[0]}/{parts[1]}", str(name)


class SuccessRateCollector(Collector):
    """``installation_success_rate`` from every store of this process (one per server)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "installation_success_rate",
            f"Share of install and update attempts opted-in clients reported successful "
            f"(last {SUCCESS_RATE_DAYS} days; groups of fewer installations than the minimum "
            "are left out).",
            labels=["extension", "version", "platform"],
        )
        with _stores_lock:
            stores = list(_stores.values())
        for store in stores:
            for rate in store.success_rates(last_days=SUCCESS_RATE_DAYS):
                gauge.add_metric([rate.extension, rate.version, rate.platform], rate.rate)
        yield gauge


PROMETHEUS_REGISTRY.register(SuccessRateCollector())


def _period(text: str, retention_days: int) -> int:
    match = _PERIOD.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"last must be a number of days such as 30d, not {text!r}")
    days = int(match.group(1))
    if days > retention_days:
        raise ValueError(f"last: only {retention_days} days are kept, not {days}")
    return days


def _choice(value: str, allowed: Iterable[str], what: str) -> str:
    if value not in allowed:
        raise ValueError(f"{what}: {value!r} is not one of {', '.join(allowed)}")
    return value


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]
