"""``anya-ext recommend``: recommendations for this environment, from the registry's aggregate
co-installations, the index's catalog and (when given) ratings.

The catalog is the index's search view: every extension, with category, host API range and
the hub's mean rating and number of ratings. Platforms (PEP 658 metadata) are read, one
request each, only for a shortlist, which is then scored again with them known, so nothing
built for another platform is suggested.
Without co-installation data (a registry without analytics, or too few opted-in clients)
the recommendations are a cold start: popularity, ratings and the categories in use.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Final

from anya_plugins.registry.recommend import (
    Candidate,
    CoInstallCounts,
    Profile,
    Rating,
    Recommendation,
    recommend,
)

if TYPE_CHECKING:
    from anya_plugins.config.layers import LayeredConfig
    from anya_plugins.sources.simple import SimpleIndex

log = logging.getLogger(__name__)
FINALISTS_PER_PLACE: Final = 3
"""Candidates whose platforms are read, per place asked for."""


@dataclass(frozen=True)
class RecommendResult:
    installed: tuple[str, ...]
    platform: str
    host_api: str
    cold_start: bool
    """True when no co-installation data spoke for any recommendation."""
    note: str
    recommendations: tuple[Recommendation, ...]
    rated: int = 0
    """Shortlisted extensions that had ratings (the hub's, or those given)."""


def recommend_here(
    config: LayeredConfig,
    *,
    python: Path | None = None,
    source: str = "primary",
    category: str | None = None,
    limit: int = 10,
    ratings: Mapping[str, Rating] | None = None,
) -> RecommendResult:
    from packaging.utils import canonicalize_name

    from anya_plugins.analytics.remote import AnalyticsUnavailable, fetch_co_installations
    from anya_plugins.install.environment import TargetEnvironment
    from anya_plugins.install.service import installed_extensions
    from anya_plugins.metadata.host_platform import Platform
    from anya_plugins.metadata.taxonomy import HOST_API_VERSION
    from anya_plugins.sources.search import search
    from anya_plugins.sources.settings import load_sources
    from anya_plugins.sources.simple import SimpleIndex

    index = SimpleIndex.from_settings(load_sources(config), source)
    hits = search(index, "")
    catalog = {str(canonicalize_name(hit.name)): hit for hit in hits}
    installed = frozenset(
        str(canonicalize_name(name)) for name in installed_extensions(TargetEnvironment.of(python))
    )
    profile = Profile(
        installed=installed,
        platform=Platform.detect().name,
        host_api=HOST_API_VERSION,
        categories=frozenset(catalog[n].category for n in installed if n in catalog),
    )
    if ratings is None:
        ratings = {name: Rating(hit.rating, hit.ratings) for name, hit in catalog.items()
                   if hit.rating is not None and hit.ratings}  # fmt: skip
    note = ""
    try:
        found = fetch_co_installations(config)
        counts = CoInstallCounts(found.installations, found.pairs)
    except AnalyticsUnavailable as error:
        note = f"no co-installation data ({error.message}): a cold start"
        counts = CoInstallCounts({}, {})
    candidates = [
        Candidate(name, hit.category, hit.host_api) for name, hit in sorted(catalog.items())
    ]
    shortlist = recommend(
        profile, candidates, counts, ratings, category=category,
        limit=limit * FINALISTS_PER_PLACE,
    )  # fmt: skip
    listed = {r.name for r in shortlist}
    finalists = [replace(c, platforms=_platforms(index, catalog[c.name].name, source))
                 for c in candidates if c.name in listed]  # fmt: skip
    chosen = recommend(profile, finalists, counts, ratings, category=category, limit=limit)
    cold = not any(reason.startswith("often") for r in chosen for reason in r.reasons)
    return RecommendResult(
        installed=tuple(sorted(installed)),
        platform=profile.platform,
        host_api=profile.host_api,
        cold_start=cold,
        note=note,
        recommendations=chosen,
        rated=sum(1 for name in listed if name in ratings),
    )


def _platforms(index: SimpleIndex, name: str, source: str) -> tuple[str, ...]:
    """The latest release's platforms; one whose metadata cannot be read gets a platform
    nothing runs on, so it is not suggested."""
    from anya_plugins.errors import AnyaError
    from anya_plugins.sources.search import describe_remote

    try:
        return describe_remote(index, name, source).platforms
    except AnyaError as error:
        log.info("%s left out: %s", name, error.message)
        return ("(unreadable)",)
