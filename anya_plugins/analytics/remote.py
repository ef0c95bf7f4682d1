"""Reading the registry's analytics aggregates: the report and the co-installation counts."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from anya_plugins.errors import AnyaError

if TYPE_CHECKING:
    from anya_plugins.config.layers import LayeredConfig


class AnalyticsUnavailable(AnyaError):
    """The registry's analytics could not be read."""


@dataclass(frozen=True)
class ReportLine:
    group: str
    values: Mapping[str, int | None]
    """Each metric asked for; None: withheld (fewer installations than the minimum group)."""


@dataclass(frozen=True)
class AnalyticsReport:
    registry: str
    last_days: int
    group_by: str
    metrics: tuple[str, ...]
    until: str
    min_group: int
    retention_days: int
    rows: tuple[ReportLine, ...]


@dataclass(frozen=True)
class CoInstallData:
    """Aggregate co-installation counts (only counts of at least ``min_group``)."""

    installations: Mapping[str, int]
    pairs: Mapping[tuple[str, str], int]
    min_group: int


def fetch_report(
    config: LayeredConfig,
    *,
    registry: str | None = None,
    last: str = "30d",
    group_by: str = "category",
    metrics: Sequence[str] = (),
) -> AnalyticsReport:
    """The registry's report (``GET /+analytics/report``)."""
    root = _root(config, registry)
    query = {"last": last, "group_by": group_by}
    if metrics:
        query["metrics"] = ",".join(metrics)
    document = _get_json(config, f"{root}/+analytics/report?{urlencode(query)}")
    chosen = tuple(str(m) for m in document.get("metrics", ()))
    return AnalyticsReport(
        registry=root,
        last_days=int(document["last_days"]),
        group_by=str(document["group_by"]),
        metrics=chosen,
        until=str(document["until"]),
        min_group=int(document["min_group"]),
        retention_days=int(document["retention_days"]),
        rows=tuple(
            ReportLine(str(row["group"]), {m: _count(row.get(m)) for m in chosen})
            for row in document.get("rows", ())
        ),
    )


def fetch_co_installations(config: LayeredConfig, *, registry: str | None = None) -> CoInstallData:
    """``GET /+analytics/coinstalls``."""
    document = _get_json(config, f"{_root(config, registry)}/+analytics/coinstalls")
    return CoInstallData(
        installations={str(k): int(v) for k, v in dict(document["installations"]).items()},
        pairs={(str(a), str(b)): int(n) for a, b, n in document["pairs"]},
        min_group=int(document["min_group"]),
    )


def _root(config: LayeredConfig, registry: str | None) -> str:
    from anya_plugins.analytics.hook import analytics_url

    root = registry or analytics_url(config)
    if not root:
        raise AnalyticsUnavailable(
            "no registry to ask: the primary source is not an Anya registry's index",
            hint="set analytics.url to the registry's address, or pass --registry URL",
        )
    return root.rstrip("/")


def _get_json(config: LayeredConfig, url: str) -> dict[str, Any]:
    from anya_plugins.sources.errors import TransportError
    from anya_plugins.sources.http import HttpClient
    from anya_plugins.sources.settings import load_sources

    try:
        with (
            HttpClient.from_settings(load_sources(config)) as client,
            client.get(url, headers={"Accept": "application/json"}) as response,
        ):
            status, body = response.status, response.read()
    except TransportError as error:
        raise AnalyticsUnavailable(f"{url}: {error}") from error
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    if status != 200 or not isinstance(document, dict):
        message = document.get("message") if isinstance(document, dict) else None
        raise AnalyticsUnavailable(
            f"{url}: HTTP {status}" + (f": {message}" if message else ""),
            hint="does the registry run the anya-plugins devpi plugin with analytics?",
        )
    return document


def _count(value: object) -> int | None:
    return value if isinstance(value, int) else None
