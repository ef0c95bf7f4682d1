"""Project-level markers of a simple API page: PEP 708 (``tracks``, ``alternate-locations``)
and PEP 792 (project status).

JSON pages carry them as top-level keys (``"tracks": [url, ...]``,
``"alternate-locations": [url, ...]``, ``"project-status": {"status": ..., "reason": ...}``);
HTML pages as ``<meta name="pypi:tracks">``, ``<meta name="pypi:alternate-locations">``
(each repeatable), ``<meta name="pypi:project-status">`` and
``<meta name="pypi:project-status-reason">``. A page without them is an ``active`` project
that declares nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urljoin

from anya_plugins.sources.errors import IndexResponseError, SourceError

STATUSES: Final = ("active", "archived", "quarantined", "deprecated")
"""PEP 792's statuses; an index may use any subset."""

TRACKS_META: Final = "pypi:tracks"
ALTERNATE_META: Final = "pypi:alternate-locations"
STATUS_META: Final = "pypi:project-status"
STATUS_REASON_META: Final = "pypi:project-status-reason"


@dataclass(frozen=True)
class ProjectMarkers:
    """What an index says about a project as a whole."""

    tracks: tuple[str, ...] = ()
    """PEP 708: the projects (on other indexes) this one is a copy of; absolute URLs."""
    alternate_locations: tuple[str, ...] = ()
    """PEP 708: the other places the same project (same owner) is served; absolute URLs."""
    status: str = "active"
    """PEP 792: ``active``, ``archived``, ``quarantined``, ``deprecated`` (or a status a later
    standard adds, kept as served, lower-cased)."""
    status_reason: str | None = None


class ProjectQuarantined(SourceError):
    """The index marks the project quarantined (PEP 792): considered unsafe, e.g. malware."""

    def __init__(self, name: str, url: str, reason: str | None) -> None:
        because = f": {reason}" if reason else ""
        super().__init__(
            f"{name} is quarantined by its index ({url}){because}",
            hint="a quarantined project is never installed; ask the index's administrators",
        )
        self.name = name


def refuse_quarantined(name: str, markers: ProjectMarkers, url: str) -> None:
    """Raise ProjectQuarantined when ``markers`` say so, whatever files the page still lists."""
    if markers.status == "quarantined":
        raise ProjectQuarantined(name, url, markers.status_reason)


def markers_from_json(document: Mapping[str, Any], url: str) -> ProjectMarkers:
    """The markers of a PEP 691 project page (already parsed)."""
    status = document.get("project-status", {})
    if not isinstance(status, dict):
        raise IndexResponseError(url, f"project-status is not an object: {status!r}")
    return _markers(
        url,
        tracks=_url_list(document.get("tracks", []), "tracks", url),
        alternates=_url_list(document.get("alternate-locations", []), "alternate-locations", url),
        status=status.get("status"),
        reason=status.get("reason"),
    )


def markers_from_meta(meta: Sequence[tuple[str, str]], url: str) -> ProjectMarkers:
    """The markers of a PEP 503 page from its ``(name, content)`` meta tags, in order."""
    first: dict[str, str] = {}
    for name, content in meta:
        first.setdefault(name, content)
    return _markers(
        url,
        tracks=tuple(urljoin(url, c) for n, c in meta if n == TRACKS_META and c),
        alternates=tuple(urljoin(url, c) for n, c in meta if n == ALTERNATE_META and c),
        status=first.get(STATUS_META),
        reason=first.get(STATUS_REASON_META),
    )


def _markers(
    url: str, *, tracks: tuple[str, ...], alternates: tuple[str, ...], status: Any, reason: Any
) -> ProjectMarkers:
    status = "active" if status is None else status
    if not isinstance(status, str):
        raise IndexResponseError(url, f"project-status is not text: {status!r}")
    if reason is not None and not isinstance(reason, str):
        raise IndexResponseError(url, f"project-status reason is not text: {reason!r}")
    return ProjectMarkers(tracks, alternates, status.strip().lower() or "active", reason or None)


def _url_list(value: Any, key: str, url: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise IndexResponseError(url, f"{key} is not a list of URLs: {value!r}")
    return tuple(urljoin(url, item) for item in value if item)
