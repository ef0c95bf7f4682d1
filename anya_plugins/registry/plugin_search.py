# mypy: disallow-untyped-calls=False
# (devpi-server's model functions are untyped; this module is the adapter to them.)
"""The search view of the devpi plugin: ``GET /{user}/{index}/+anya/search``.

Parameters: ``q`` (terms separated by spaces, all must match the name, summary, keywords or
category; empty: every project), ``category`` (a category, or a source such as ``core``),
``min_rating`` (mean of the visible hub reviews on the queried index, ``plugin_hub``),
``sort`` (``relevance``, ``rating``, ``downloads``, ``recent``) and ``limit``. Each result
also carries ``rating``, ``ratings`` (count), ``downloads`` and ``uploaded``; downloads
come from a counter registered under :data:`DOWNLOAD_TOTALS_KEY` (None without one). The
answer is JSON: ``{"index", "query", "category", "min_rating", "sort", "total", "stale",
"results"}``, each result ``{"name", "version", "summary", "keywords", "category",
"host_api", "index", "yanked", "deprecated", "status", "status_reason", "uploaded",
"rating", "ratings", "downloads"}``: ``deprecated`` is the shown release's
deprecation message, ``status`` the project's PEP 792 status on the queried index. A
quarantined project is not found.

The first query on an index reads each of its projects' latest version from devpi once
(about 0.1 ms a project); after that devpi's ``devpiserver_on_changed_versiondata`` events
mark changed projects, which the next query re-reads inside its own read transaction. A
query first waits (up to :data:`EVENT_WAIT_SECONDS`) for devpi's event thread to reach the
query's serial, so an upload is found by the next search; ``stale`` says the wait ran out.
A devpi started with ``--requests-only`` runs no event thread: there every query whose
serial is newer than the records reads the index again, which is correct but slow.
Mirror indexes in the resolution order are not searched.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from typing import Any
from weakref import WeakKeyDictionary

from packaging.utils import canonicalize_name
from pyramid.response import Response  # type: ignore[import-untyped]

from anya_plugins.registry.indexconfig import INDEX_TYPE, is_private_index
from anya_plugins.registry.plugin_project_status import QUARANTINED, project_statuses
from anya_plugins.registry.plugin_responses import json_response, message_response
from anya_plugins.registry.releases import YANKED_KEY
from anya_plugins.registry.search import (
    Catalog,
    ExtensionRecord,
    IndexInOrder,
    InvalidQuery,
    SearchQuery,
    SearchResult,
    Signals,
    StageCatalog,
    record_from_metadata,
    search,
    upload_time,
    version_key,
)

SEARCH_ROUTE = "anya-search"
SEARCH_PATTERN = "/{user:[^+/]+}/{index:[^+/]+}/+anya/search"
DOWNLOAD_TOTALS_KEY = "anya.download_totals"
"""Pyramid registry key of ``f(xom, index_names) -> {canonical project: downloads}``: the
registry's download counter (usage analytics), which ``sort=downloads`` orders by."""
EVENT_WAIT_SECONDS = 10.0
"""Long enough for a loaded two-core machine; the wait ends as soon as the events are in."""
_MIRROR = "mirror"

_catalogs: WeakKeyDictionary[Any, Catalog] = WeakKeyDictionary()
_catalogs_lock = threading.Lock()


def configure(pyramid_config: Any) -> None:
    """Add the search route and view (routes added before devpi's own are matched first)."""
    pyramid_config.add_route(SEARCH_ROUTE, SEARCH_PATTERN)
    pyramid_config.add_view(search_view, route_name=SEARCH_ROUTE, request_method="GET")


def catalog_of(xom: Any) -> Catalog:
    """The search catalog of one running devpi (one per process and server)."""
    with _catalogs_lock:
        catalog = _catalogs.get(xom)
        if catalog is None:
            catalog = _catalogs[xom] = Catalog()
        return catalog


def mark_changed(stage: Any, project: str) -> None:
    """``devpiserver_on_changed_versiondata``: a version of ``project`` changed on ``stage``."""
    if stage is None or stage.ixconfig.get("type") == _MIRROR:
        return
    # devpi calls the hook inside a read transaction at the changed serial.
    serial = stage.keyfs.tx.at_serial
    catalog_of(stage.xom).stage(stage.name).mark_changed(canonicalize_name(project), serial)


def forget_stage(stage: Any) -> None:
    """``devpiserver_stage_created``: an index of that name starts with no projects."""
    catalog_of(stage.xom).forget(stage.name)


def search_view(request: Any) -> Response:
    xom = request.registry["xom"]
    stage = xom.model.getstage(request.matchdict["user"], request.matchdict["index"])
    if stage is None:
        return message_response(
            404, f"no index {request.matchdict['user']}/{request.matchdict['index']}"
        )
    if not request.has_permission("pkg_read"):
        return message_response(403, f"no permission to read {stage.name}")
    try:
        query = SearchQuery(
            text=str(request.params.get("q", "")),
            category=request.params.get("category") or None,
            limit=_limit(request.params.get("limit")),
            min_rating=_rating(request.params.get("min_rating")),
            sort=str(request.params.get("sort") or "relevance"),
        )
    except InvalidQuery as exc:
        return message_response(400, exc.message if not exc.hint else f"{exc.message} ({exc.hint})")
    answer = run_search(request, stage, query)
    found, signals, statuses = answer.result, answer.signals, answer.statuses
    body = {
        "index": stage.name,
        "query": query.text,
        "category": query.category,
        "total": found.total,
        "stale": not answer.current,
        "min_rating": query.min_rating,
        "sort": query.sort,
        "results": [
            {**_with_status(record, statuses), **_signal_fields(signals.get(record.key))}
            for record in found.records
        ],
    }
    return json_response(body)


@dataclass(frozen=True)
class SearchAnswer:
    """A query's result on one index, with the signals and statuses it was ranked with."""

    result: SearchResult
    signals: dict[str, Signals]
    statuses: dict[str, tuple[str, str | None]]
    current: bool
    """devpi's events had reached the query's serial (else the records may be stale)."""


def run_search(request: Any, stage: Any, query: SearchQuery) -> SearchAnswer:
    """``query`` on ``stage`` as its simple API shows it (the JSON view and the hub's pages)."""
    xom = request.registry["xom"]
    serial = xom.keyfs.tx.at_serial
    order = [base for base in stage.sro() if base.ixconfig.get("type") != _MIRROR]
    catalog = catalog_of(xom)
    current = _events_reached(xom, serial, catalog, order)
    in_order = [
        IndexInOrder(
            _prepared(catalog.stage(base.name), base, serial, xom), is_private_index(base.ixconfig)
        )
        for base in order
    ]
    records = catalog.visible(
        stage.name, in_order, guarded=stage.ixconfig.get("type") == INDEX_TYPE
    )
    statuses = project_statuses(stage)
    quarantined = {key for key, (status, _) in statuses.items() if status == QUARANTINED}
    shown = [r for r in records if r.key not in quarantined] if quarantined else records
    signals = _signals(request, stage, order)
    return SearchAnswer(search(shown, query, signals), signals, statuses, current)


def _with_status(
    record: ExtensionRecord, statuses: dict[str, tuple[str, str | None]]
) -> dict[str, object]:
    """A result: the record, and its project's PEP 792 status on the index."""
    status, reason = statuses.get(record.key, ("active", None))
    return {**record.as_json(), "status": status, "status_reason": reason}


def _signals(request: Any, stage: Any, order: list[Any]) -> dict[str, Signals]:
    """Ratings from the queried index's hub, downloads from the registered counter."""
    from anya_plugins.registry.hub_store import HubData

    ratings = HubData.from_custom_data(stage.ixconfig.get("custom_data")).mean_ratings()
    counter = request.registry.get(DOWNLOAD_TOTALS_KEY)
    downloads: dict[str, int] = (
        dict(counter(request.registry["xom"], [s.name for s in order])) if counter else {}
    )
    return {
        key: Signals(
            rating=ratings[key].mean if key in ratings else None,
            ratings=ratings[key].count if key in ratings else 0,
            downloads=downloads.get(key, 0) if counter else None,
        )
        for key in {*ratings, *downloads}
    }


def _signal_fields(signals: Signals | None) -> dict[str, object]:
    found = signals or Signals()
    return {"rating": found.rating, "ratings": found.ratings, "downloads": found.downloads}


def _rating(value: str | None) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except ValueError:
        raise InvalidQuery(f"min_rating must be a number, not {value!r}") from None


def _limit(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise InvalidQuery(f"limit must be a number, not {value!r}") from None


def _events_reached(xom: Any, serial: int, catalog: Catalog, order: list[Any]) -> bool:
    """Wait until devpi's event thread has marked every change up to ``serial``.

    Only records read earlier depend on the events; False if the wait ran out.
    """
    if xom.config.requests_only or not any(catalog.stage(s.name).built for s in order):
        return True
    notifier = xom.keyfs.notifier
    deadline = time.monotonic() + EVENT_WAIT_SECONDS
    with notifier.cv_new_event_serial:
        while notifier.read_event_serial() < serial:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            notifier.cv_new_event_serial.wait(remaining)
    return True


def _prepared(records: StageCatalog, stage: Any, serial: int, xom: Any) -> StageCatalog:
    """The index's records, read whole on first use, then the changed projects re-read."""
    if not records.built or (xom.config.requests_only and records.built_at < serial):
        with records.build_lock:
            if not records.built or (xom.config.requests_only and records.built_at < serial):
                projects = stage.list_projects_perstage()
                read = (_read_record(stage, project) for project in projects)
                records.fill((record for record in read if record is not None), serial)
                return records
    for key in records.changed_up_to(serial):
        records.put(key, _read_record(stage, key), serial)
    return records


def _read_record(stage: Any, project: str) -> ExtensionRecord | None:
    """The latest version of ``project`` on ``stage`` alone that is not yanked (the latest
    yanked one when all are; None: it has none)."""
    versions = sorted(stage.list_versions_perstage(project), key=version_key, reverse=True)
    found = [stage.get_versiondata_perstage(project, version) for version in versions]
    found = [metadata for metadata in found if metadata]
    if not found:
        return None
    shown = next((metadata for metadata in found if YANKED_KEY not in metadata), found[0])
    record = record_from_metadata(shown, stage.name)
    return replace(record, uploaded=_uploaded(stage, project, record.version))


def _uploaded(stage: Any, project: str, version: str) -> float:
    """When the version's last file was uploaded, from devpi's log on its links."""
    try:
        links = stage.get_linkstore_perstage(project, version).get_links(rel="releasefile")
    except stage.MissesRegistration:
        return 0.0
    return upload_time([{"_log": link.get_logs()} for link in links])
