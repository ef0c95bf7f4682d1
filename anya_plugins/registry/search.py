"""Extension search on an index: prepared records, matching and ranking, and what an index shows.

Pure data, no devpi: the server side (``plugin_search``) fills one :class:`StageCatalog` per
index from devpi's storage on the first query and then re-reads only the projects devpi's
events mark as changed, so a query is a scan of prepared records. Packaging and the contract
parser load when records are made or ranked. The query itself (:class:`SearchQuery`, which a
client checks before asking the index) lives in ``search_query``, which imports nothing else.

What a query sees is what the simple API of the queried index serves: each project's latest
version among the index and its bases, except that an ``anya`` index hides every base's
version of a name that a private index in its resolution order holds itself (the
dependency-confusion guard of ``devpi_plugin``).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from itertools import compress
from operator import attrgetter, methodcaller
from typing import TYPE_CHECKING, Any

from anya_plugins.metadata.taxonomy import (
    CATEGORY_PREFIX,
    DEFAULT_FEATURE_PREFIX,
    DIST_NAME_PREFIX,
    EXTENSION_KEYWORD,
    HOST_API_PREFIX,
    source_of,
)
from anya_plugins.registry.search_query import SORTS as SORTS
from anya_plugins.registry.search_query import SOURCES as SOURCES
from anya_plugins.registry.search_query import InvalidQuery as InvalidQuery
from anya_plugins.registry.search_query import SearchQuery as SearchQuery

if TYPE_CHECKING:
    from packaging.version import Version


class Rank(IntEnum):
    """How well a record matches; lower ranks first."""

    EXACT_NAME = 0
    """The query is the project's name, or its name without the ``anya-ext-`` prefix."""
    NAME = 1
    """Every term occurs in the name."""
    TEXT = 2
    """Every term occurs in the name, summary, keywords or category."""


@dataclass(frozen=True)
class ExtensionRecord:
    """The latest version of one project on one index, as search shows it.

    ``keywords`` are the free keywords only; the contract's own (category, host API range,
    default features) are given as fields.
    """

    name: str
    version: str
    summary: str
    keywords: tuple[str, ...]
    category: str | None
    host_api: str | None
    index: str
    key: str = field(repr=False)
    """The canonical project name (PEP 503), as devpi keys projects."""
    text: str = field(repr=False, compare=False)
    """Summary, keywords and category, lower-cased: what terms are looked for besides the name."""
    version_key: tuple[int, Version | str] = field(repr=False, compare=False)
    yanked: str | None = None
    """The yank reason (PEP 592; may be empty) when every version is yanked; None: not yanked."""
    deprecated: str | None = None
    """This release's deprecation message; None: not deprecated. (A deprecated project is
    its PEP 792 status, which the index, not the release, gives.)"""
    uploaded: float = field(default=0.0, compare=False)
    """When this version's latest file was uploaded (seconds since the epoch; 0: unknown)."""

    @functools.cached_property
    def haystack(self) -> str:
        """The name and :attr:`text` in one string (a term, having no white space, matches
        across neither): what a query's first term must occur in."""
        return f"{self.key}\n{self.text}"

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "version": self.version,
            "summary": self.summary,
            "keywords": list(self.keywords),
            "category": self.category,
            "host_api": self.host_api,
            "index": self.index,
            "yanked": self.yanked,
            "deprecated": self.deprecated,
            "uploaded": self.uploaded,
        }


def record_from_metadata(metadata: Mapping[str, Any], index: str) -> ExtensionRecord:
    """A record from devpi's metadata of one version: the core metadata fields (which the
    upload check made equal to the file's) and the plugin's yank and deprecation state."""
    from packaging.utils import canonicalize_name

    from anya_plugins.registry.releases import DEPRECATED_KEY, YANKED_KEY

    name = str(metadata.get("name", ""))
    version = str(metadata.get("version", ""))
    summary = str(metadata.get("summary") or "")
    keywords = split_keywords(metadata.get("keywords"))
    categories = [
        kw.removeprefix(CATEGORY_PREFIX) for kw in keywords if kw.startswith(CATEGORY_PREFIX)
    ]
    category = categories[0] if len(categories) == 1 else None
    free = tuple(kw for kw in keywords if not _is_contract_keyword(kw))
    text = "\n".join((summary, *free, category or "")).lower()
    return ExtensionRecord(
        name=name,
        version=version,
        summary=summary,
        keywords=free,
        category=category,
        host_api=_host_api(keywords),
        index=index,
        key=canonicalize_name(name),
        text=text,
        version_key=version_key(version),
        yanked=_optional_text(metadata.get(YANKED_KEY)),
        deprecated=_optional_text(metadata.get(DEPRECATED_KEY)),
        uploaded=upload_time(metadata.get("+elinks")),
    )


def upload_time(links: object) -> float:
    """The latest upload time devpi logged on a version's files (``_log`` ``when``, UTC).

    devpi hands out read-only views (neither lists nor mappings), so this reads by duck typing.
    """
    import calendar

    latest = 0.0
    try:
        for link in links or ():  # type: ignore[attr-defined]
            for entry in link.get("_log") or ():
                when = [int(part) for part in entry.get("when") or ()]
                if len(when) == 6:
                    latest = max(latest, float(calendar.timegm((*when, 0, 0, 0))))
    except (AttributeError, TypeError, ValueError):
        return latest
    return latest


def _optional_text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def split_keywords(value: object) -> tuple[str, ...]:
    """The Keywords field as devpi keeps it (one string, or a list of strings), split."""
    if not value:
        return ()
    if isinstance(value, str):
        lines = [value]
    elif isinstance(value, (list, tuple)):
        lines = [str(item) for item in value]
    else:
        lines = [str(value)]
    from anya_plugins.metadata.contract import split_keywords as contract_keywords

    return contract_keywords(lines)


def version_key(version: str) -> tuple[int, Version | str]:
    """Orders versions as PEP 440 does; a version that is not PEP 440 sorts below all that are."""
    from packaging.version import InvalidVersion, Version

    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)


def _is_contract_keyword(keyword: str) -> bool:
    return keyword == EXTENSION_KEYWORD or keyword.startswith(
        (CATEGORY_PREFIX, HOST_API_PREFIX, DEFAULT_FEATURE_PREFIX)
    )


def _host_api(keywords: Iterable[str]) -> str | None:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    from anya_plugins.metadata.contract import host_api_clauses

    clauses = host_api_clauses(keywords)
    if not clauses:
        return None
    try:
        return str(SpecifierSet(",".join(clauses)))
    except InvalidSpecifier:
        return None


@dataclass(frozen=True)
class Signals:
    """What the hub knows of a project beyond its metadata: ratings and downloads."""

    rating: float | None = None
    """Mean rating of its visible reviews on the queried index; None: not rated."""
    ratings: int = 0
    downloads: int | None = None
    """Downloads the registry counted; None: the registry counts none."""


@dataclass(frozen=True)
class SearchResult:
    """What a query found: ``total`` matches, of which ``records`` (best first, up to the limit)."""

    query: SearchQuery
    total: int
    records: tuple[ExtensionRecord, ...]


def search(
    records: Iterable[ExtensionRecord],
    query: SearchQuery,
    signals: Mapping[str, Signals] | None = None,
) -> SearchResult:
    """The records that match ``query``, best first, then by name (or in ``query.sort``'s
    order); ``signals`` (by canonical name) give ratings and downloads.

    Records given in name order (as :meth:`Catalog.visible` gives them) are ranked in
    linear time.
    """
    known = signals or {}
    if query.min_rating is not None:
        minimum = query.min_rating
        records = [r for r in records if _rated_at_least(known.get(r.key), minimum)]
    from packaging.utils import canonicalize_name

    terms = query.terms
    phrase = canonicalize_name("-".join(terms)) if terms else ""
    exact = (phrase, DIST_NAME_PREFIX + phrase)
    name_terms = tuple(canonicalize_name(term) for term in terms)
    if terms and name_terms[0] == terms[0]:
        # Every match has the first term in its name or text (an exact name too: the term is
        # canonical, so the phrase starts with it); keep only those, in C, before ranking.
        # (A term that canonicalizes otherwise may match the name in its canonical form.)
        records = list(records)
        records = compress(
            records, map(methodcaller("__contains__", terms[0]), map(_HAYSTACK, records))
        )
    by_rank: tuple[list[ExtensionRecord], ...] = tuple([] for _ in Rank)
    for record in records:
        if query.category is not None and not _in_category(record.category, query.category):
            continue
        rank = _rank(record, terms, name_terms, exact)
        if rank is not None:
            by_rank[rank].append(record)
    ranked: list[ExtensionRecord] = []
    for bucket in by_rank:
        bucket.sort(key=_by_key)
        ranked.extend(bucket)
    if query.sort != "relevance":
        ranked.sort(key=_sort_key(query.sort, known))
    chosen = ranked if query.limit is None else ranked[: query.limit]
    return SearchResult(query, len(ranked), tuple(chosen))


_HAYSTACK = attrgetter("haystack")


def _by_key(record: ExtensionRecord) -> str:
    return record.key


def _rated_at_least(signals: Signals | None, minimum: float) -> bool:
    return signals is not None and signals.rating is not None and signals.rating >= minimum


def _sort_key(
    sort: str, signals: Mapping[str, Signals]
) -> Callable[[ExtensionRecord], tuple[float, float]]:
    """Highest first (a stable sort keeps the relevance order among equals)."""

    def key(record: ExtensionRecord) -> tuple[float, float]:
        found = signals.get(record.key) or Signals()
        if sort == "rating":
            return (-(found.rating or 0.0), -found.ratings)
        if sort == "downloads":
            return (-(found.downloads or 0), 0.0)
        return (-record.uploaded, 0.0)

    return key


def _in_category(category: str | None, wanted: str) -> bool:
    if category is None:
        return False
    return category == wanted or ("/" not in wanted and source_of(category) == wanted)


def _rank(
    record: ExtensionRecord,
    terms: Sequence[str],
    name_terms: Sequence[str],
    exact: tuple[str, str],
) -> Rank | None:
    if not terms:
        return Rank.TEXT
    name = record.key
    if name in exact:
        return Rank.EXACT_NAME
    rank = Rank.NAME
    for term, name_term in zip(terms, name_terms, strict=True):
        if name_term in name:
            continue
        if term not in record.text and term not in name:
            return None
        rank = Rank.TEXT
    return rank


class StageCatalog:
    """The records of one index (each project's latest version there), and what changed since.

    devpi's events only mark a project as changed at a serial (:meth:`mark_changed`, called
    from devpi's notification thread); the records are read from devpi by the request that
    queries next, inside its own read transaction, so what it reads is consistent.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.build_lock = threading.Lock()
        """Held while the first query reads every project, so one request does it."""
        self._lock = threading.Lock()
        self._records: dict[str, ExtensionRecord] = {}
        self._read_at: dict[str, int] = {}
        self._changed: dict[str, int] = {}
        self._built_at: int | None = None
        self._generation = 0

    @property
    def built(self) -> bool:
        return self._built_at is not None

    @property
    def built_at(self) -> int:
        """The serial the records were first read at (-1: not yet)."""
        return -1 if self._built_at is None else self._built_at

    @property
    def generation(self) -> int:
        """Grows whenever a record changes (merged views cached on it are then stale)."""
        return self._generation

    def fill(self, records: Iterable[ExtensionRecord], serial: int) -> None:
        """Every project as read at ``serial``; changes marked up to that serial are settled."""
        with self._lock:
            self._records = {record.key: record for record in records}
            self._read_at = dict.fromkeys(self._records, serial)
            self._changed = {key: at for key, at in self._changed.items() if at > serial}
            self._built_at = serial
            self._generation += 1

    def mark_changed(self, key: str, serial: int) -> None:
        """devpi changed project ``key`` on this index in transaction ``serial``."""
        with self._lock:
            if serial > self._changed.get(key, -1):
                self._changed[key] = serial

    def changed_up_to(self, serial: int) -> list[str]:
        """The projects marked as changed at or before ``serial`` and not re-read since."""
        with self._lock:
            return [key for key, at in self._changed.items() if at <= serial]

    def put(self, key: str, record: ExtensionRecord | None, serial: int) -> None:
        """Project ``key`` as read at ``serial`` (None: it has no version there any more)."""
        with self._lock:
            if serial < self._read_at.get(key, -1):
                return
            if self._changed.get(key, serial + 1) <= serial:
                del self._changed[key]
            self._read_at[key] = serial
            if self._records.get(key) == record:
                return
            if record is None:
                del self._records[key]
            else:
                self._records[key] = record
            self._generation += 1

    def records(self) -> dict[str, ExtensionRecord]:
        """A copy of the records, by canonical project name."""
        with self._lock:
            return dict(self._records)


@dataclass(frozen=True)
class IndexInOrder:
    """One index of a resolution order, as the merge needs it."""

    catalog: StageCatalog
    private: bool
    """A private ``anya`` index: a name it holds hides the other indexes' versions of it."""


class Catalog:
    """Every index's :class:`StageCatalog` on one server, and the merged views of queries."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stages: dict[str, StageCatalog] = {}
        self._views: dict[str, tuple[object, tuple[ExtensionRecord, ...]]] = {}

    def stage(self, name: str) -> StageCatalog:
        with self._lock:
            found = self._stages.get(name)
            if found is None:
                found = self._stages[name] = StageCatalog(name)
            return found

    def forget(self, name: str) -> None:
        """Drop an index's records (it was created anew, so what was kept is not its)."""
        with self._lock:
            self._stages.pop(name, None)
            self._views.clear()

    def visible(
        self, index: str, order: Sequence[IndexInOrder], *, guarded: bool
    ) -> tuple[ExtensionRecord, ...]:
        """The latest version of each project that index ``index`` shows, in name order.

        ``order`` is its resolution order (itself first); with ``guarded`` (an ``anya``
        index) a name held by a private index in the order is served by those only. The
        merge is cached until one of the catalogs changes.
        """
        key = (
            guarded,
            tuple((item.catalog.name, item.private, item.catalog.generation) for item in order),
        )
        with self._lock:
            cached = self._views.get(index)
        if cached is not None and cached[0] == key:
            return cached[1]
        merged = tuple(
            sorted(
                merge_latest([(item, item.catalog.records()) for item in order], guarded),
                key=_by_key,
            )
        )
        with self._lock:
            self._views[index] = (key, merged)
        return merged


def merge_latest(
    order: Sequence[tuple[IndexInOrder, Mapping[str, ExtensionRecord]]], guarded: bool
) -> Iterable[ExtensionRecord]:
    """Each project's latest record over the indexes in ``order`` (see :meth:`Catalog.visible`)."""
    guarded_names: set[str] = set()
    if guarded:
        for item, records in order:
            if item.private:
                guarded_names.update(records)
    latest: dict[str, ExtensionRecord] = {}
    for item, records in order:
        hidden = guarded_names if guarded and not item.private else set()
        for key, record in records.items():
            if key in hidden:
                continue
            current = latest.get(key)
            if current is None or record.version_key > current.version_key:
                latest[key] = record
    return latest.values()
