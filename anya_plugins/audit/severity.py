"""How bad a vulnerability is: a level from CVSS vectors (scored by the ``cvss`` library) or from
the qualitative rating a database gives, and the order the gate compares levels in."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

log = logging.getLogger(__name__)

SeverityLevel = Literal["none", "low", "medium", "high", "critical"]
LEVELS: Final[tuple[SeverityLevel, ...]] = get_args(SeverityLevel)
"""Lowest first; the order the gate compares in."""

CVSS_TYPES: Final = ("CVSS_V4", "CVSS_V3", "CVSS_V2")
"""The OSV ``severity[].type`` values scored here, newest method first."""

_DATABASE_LEVELS: Final[Mapping[str, SeverityLevel]] = {
    "none": "none",
    "low": "low",
    "moderate": "medium",
    "medium": "medium",
    "high": "high",
    "important": "high",
    "critical": "critical",
}
"""Qualitative ratings databases write in ``database_specific.severity`` (GitHub: LOW,
MODERATE, HIGH, CRITICAL)."""


@dataclass(frozen=True)
class Severity:
    """One rating of a vulnerability."""

    level: SeverityLevel
    score: float | None
    """The CVSS base score, when the rating came from a vector."""
    vector: str | None
    """The CVSS vector as the advisory gave it."""
    method: str
    """``CVSS_V4``, ``CVSS_V3``, ``CVSS_V2`` or ``database`` (a database's own rating)."""

    @property
    def rank(self) -> int:
        return LEVELS.index(self.level)


def level_rank(level: SeverityLevel) -> int:
    """The position of ``level`` in :data:`LEVELS` (``none`` is 0)."""
    return LEVELS.index(level)


def from_cvss(method: str, vector: str) -> Severity | None:
    """The rating a CVSS vector scores to; None (and a warning) for a vector that is not one."""
    import cvss  # type: ignore[import-untyped]

    scorers = {"CVSS_V4": cvss.CVSS4, "CVSS_V3": cvss.CVSS3, "CVSS_V2": cvss.CVSS2}
    scorer = scorers.get(method)
    if scorer is None:
        return None
    try:
        parsed = scorer(vector)
        score = float(parsed.scores()[0])
        level = str(parsed.severities()[0]).lower()
    except cvss.CVSSError as error:
        log.warning("ignoring the %s rating %r: %s", method, vector, error)
        return None
    if level not in LEVELS:
        log.warning("ignoring the %s rating %r: unknown level %r", method, vector, level)
        return None
    return Severity(level=as_level(level), score=score, vector=vector, method=method)


def from_database(value: object) -> Severity | None:
    """The rating a database wrote as a word (``database_specific.severity``); None if unknown."""
    if not isinstance(value, str):
        return None
    level = _DATABASE_LEVELS.get(value.strip().lower())
    if level is None:
        return None
    return Severity(level=level, score=None, vector=None, method="database")


def from_osv(severities: Iterable[Mapping[str, Any]]) -> list[Severity]:
    """Every rating an OSV ``severity`` list holds that can be scored."""
    found = []
    for item in severities:
        method, vector = item.get("type"), item.get("score")
        if isinstance(method, str) and isinstance(vector, str):
            rating = from_cvss(method, vector)
            if rating is not None:
                found.append(rating)
    return found


def highest(ratings: Iterable[Severity | None]) -> Severity | None:
    """The worst rating; between equal levels the one scored with the newest CVSS method."""
    best: Severity | None = None
    for rating in ratings:
        if rating is None:
            continue
        if best is None or _preference(rating) > _preference(best):
            best = rating
    return best


def _preference(rating: Severity) -> tuple[int, int, float]:
    newest = len(CVSS_TYPES) - CVSS_TYPES.index(rating.method) if rating.method in CVSS_TYPES else 0
    return rating.rank, newest, rating.score or 0.0


def as_level(value: str) -> SeverityLevel:
    """``value`` as a :data:`SeverityLevel`; ValueError for any other text."""
    for level in LEVELS:
        if level == value:
            return level
    raise ValueError(f"not a severity level: {value!r}")
