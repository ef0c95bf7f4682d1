"""Recommending extensions: a pure scorer over aggregate co-installations, ratings and the
candidates' compatibility.

Inputs are plain data, so the same function serves ``anya-ext recommend``, the offline
measurement (``bench.recommend``) and tests:

* the profile: installed extensions, this platform, the host API version offered;
* candidates: every extension the index offers, with category, host API range and platforms;
* co-installation counts from opted-in clients (:class:`CoInstallCounts`; the registry
  leaves out counts under its minimum group size);
* ratings (``name -> (mean 1..5, count)``), from the hub when it has them; empty is fine.

A candidate that is installed, outside the host API range, not built for this platform (nor
pure), or outside the asked category is never suggested. The score adds, for each installed
extension ``X``, the share of ``X``'s installations that also hold the candidate (the
confidence of ``X -> candidate``); a shrunk rating (a few five-star votes do not beat many
four-star ones); popularity (installations relative to the most installed); and a nudge for a
category the profile already uses. With nothing installed or no co-installation data (cold
start) only popularity, rating and category speak. Each recommendation says why.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from anya_plugins.metadata.hostapi import check_host_api

PURE: Final = "pure"
CO_INSTALL_WEIGHT: Final = 1.0
RATING_WEIGHT: Final = 0.3
POPULARITY_WEIGHT: Final = 0.3
CATEGORY_WEIGHT: Final = 0.1
RATING_PRIOR: Final = 3.0
"""The mean a rating is shrunk towards, with the weight of :data:`RATING_PRIOR_VOTES` votes."""
RATING_PRIOR_VOTES: Final = 5
OFTEN_WITH: Final = 0.2
"""The smallest confidence ``X -> candidate`` that is worth "often installed with X"."""
TOP_RATED_VOTES: Final = 3


@dataclass(frozen=True)
class Candidate:
    name: str
    category: str
    host_api: str = ""
    """The extension's host API range (a specifier set; empty: any)."""
    platforms: tuple[str, ...] | None = None
    """Platform names it is built for (``pure`` for any); None: not known, not filtered."""


@dataclass(frozen=True)
class Profile:
    installed: frozenset[str]
    platform: str
    host_api: str
    categories: frozenset[str] = frozenset()
    """Categories of the installed extensions."""


@dataclass(frozen=True)
class CoInstallCounts:
    installations: Mapping[str, int]
    """Opted-in installations holding each extension."""
    pairs: Mapping[tuple[str, str], int]
    """Installations holding both (the pair in sorted order)."""


@dataclass(frozen=True)
class Rating:
    mean: float
    count: int


@dataclass(frozen=True)
class Recommendation:
    name: str
    category: str
    score: float
    reasons: tuple[str, ...]


def recommend(
    profile: Profile,
    candidates: Iterable[Candidate],
    counts: CoInstallCounts,
    ratings: Mapping[str, Rating] | None = None,
    *,
    category: str | None = None,
    limit: int = 10,
) -> tuple[Recommendation, ...]:
    """The ``limit`` best-scored compatible candidates, best first (ties by name)."""
    ratings = ratings or {}
    allowed = [c for c in candidates if compatible(c, profile) and in_category(c, category)]
    most = max((counts.installations.get(c.name, 0) for c in allowed), default=0)
    best_rated = _best_rated(allowed, ratings)
    scored = []
    for candidate in allowed:
        score, reasons = _score(candidate, profile, counts, ratings, most)
        if best_rated.get(candidate.category) == candidate.name:
            reasons.insert(1 if reasons and reasons[0].startswith("often") else 0,
                           f"top rated in {candidate.category}")  # fmt: skip
        if not reasons:
            reasons.append(f"in {candidate.category}" if candidate.category else "available")
        scored.append(Recommendation(candidate.name, candidate.category, score, tuple(reasons)))
    scored.sort(key=lambda r: (-r.score, r.name))
    return tuple(scored[:limit])


def compatible(candidate: Candidate, profile: Profile) -> bool:
    """Not installed, within the host API range, built for this platform (or pure)."""
    if candidate.name in profile.installed:
        return False
    if not check_host_api(candidate.host_api, profile.host_api).ok:
        return False
    platforms = candidate.platforms
    return platforms is None or PURE in platforms or profile.platform in platforms


def in_category(candidate: Candidate, category: str | None) -> bool:
    """``core/bitcoin`` matches itself; ``core`` matches every ``core/...``."""
    if not category:
        return True
    return candidate.category == category or candidate.category.startswith(category + "/")


def _score(
    candidate: Candidate,
    profile: Profile,
    counts: CoInstallCounts,
    ratings: Mapping[str, Rating],
    most: int,
) -> tuple[float, list[str]]:
    reasons: list[str] = []
    confidence = {
        other: _pair(counts, other, candidate.name) / counts.installations[other]
        for other in profile.installed
        if counts.installations.get(other)
    }
    co_installed = sum(confidence.values())
    strongest = max(confidence.items(), key=lambda item: (item[1], item[0]), default=None)
    if strongest is not None and strongest[1] >= OFTEN_WITH:
        reasons.append(f"often installed with {strongest[0]}")
    installations = counts.installations.get(candidate.name, 0)
    popularity = installations / most if most else 0.0
    if installations and not reasons:
        reasons.append(f"installed by {installations} opted-in installations")
    rating = ratings.get(candidate.name)
    rated = 0.0
    if rating is not None and rating.count:
        shrunk = (rating.mean * rating.count + RATING_PRIOR * RATING_PRIOR_VOTES) / (
            rating.count + RATING_PRIOR_VOTES
        )
        rated = (shrunk - 1) / 4
    familiar = candidate.category in profile.categories
    if familiar and not reasons:
        reasons.append(f"in {candidate.category}, like what is installed")
    score = (
        CO_INSTALL_WEIGHT * co_installed
        + RATING_WEIGHT * rated
        + POPULARITY_WEIGHT * popularity
        + CATEGORY_WEIGHT * familiar
    )
    return round(score, 6), reasons


def _pair(counts: CoInstallCounts, a: str, b: str) -> int:
    return counts.pairs.get((a, b) if a < b else (b, a), 0)


def _best_rated(candidates: Collection[Candidate], ratings: Mapping[str, Rating]) -> dict[str, str]:
    """Per category, the candidate with the best mean among those with enough votes."""
    best: dict[str, tuple[float, int, str]] = {}
    for candidate in candidates:
        rating = ratings.get(candidate.name)
        if rating is None or rating.count < TOP_RATED_VOTES:
            continue
        key = (rating.mean, rating.count, candidate.name)
        if candidate.category not in best or key > best[candidate.category]:
            best[candidate.category] = key
    return {category: name for category, (_m, _c, name) in best.items()}
