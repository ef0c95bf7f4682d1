"""A search query, checked: what a client asks ``+anya/search`` and what the search view
accepts (:mod:`.search` ranks the records; this module is all a client needs of it, and
imports no more than the taxonomy).
"""

from __future__ import annotations

from anya_plugins.metadata.frozen import Frozen
from anya_plugins.metadata.taxonomy import CATEGORIES, source_of
from anya_plugins.registry.errors import RegistryError

SOURCES = tuple(dict.fromkeys(source_of(category) for category in CATEGORIES))
"""The first segments of the categories (core, community, enterprise): a category filter
may name one of these to mean all of its categories."""


class InvalidQuery(RegistryError):
    """A search query that cannot be answered (unknown category, bad limit)."""

    exit_code = 2  # the asker's mistake, found before any request: a usage error


SORTS = ("relevance", "rating", "downloads", "recent")
"""Orders of search results: best match, mean rating, downloads, newest upload."""


class SearchQuery(Frozen):
    """Free text (terms separated by spaces, all of which must match) and an optional category.

    ``category`` is a category (``core/ml``) or a source (``core``: all of its categories).
    ``min_rating`` keeps rated projects whose mean rating is at least that; ``sort`` is one
    of :data:`SORTS`.
    """

    text: str
    category: str | None
    limit: int | None
    min_rating: float | None
    sort: str

    def __init__(
        self, text: str = "", category: str | None = None, limit: int | None = None,
        min_rating: float | None = None, sort: str = "relevance",
    ) -> None:  # fmt: skip
        self._init(text, category, limit, min_rating, sort)
        self._check()

    def _check(self) -> None:
        if self.min_rating is not None and not 0 <= self.min_rating <= 5:
            raise InvalidQuery(f"min_rating must be from 0 to 5, not {self.min_rating}")
        if self.sort not in SORTS:
            raise InvalidQuery(
                f"unknown sort {self.sort!r}", hint=f"use one of: {', '.join(SORTS)}"
            )
        if self.category is not None and self.category not in (*CATEGORIES, *SOURCES):
            raise InvalidQuery(
                f"unknown category {self.category!r}",
                hint=f"use one of: {', '.join((*SOURCES, *CATEGORIES))}",
            )
        if self.limit is not None and self.limit < 1:
            raise InvalidQuery(f"limit must be a positive number, not {self.limit}")

    @property
    def terms(self) -> tuple[str, ...]:
        return tuple(term.lower() for term in self.text.split())
