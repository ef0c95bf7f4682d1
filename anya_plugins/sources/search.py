"""Finding extensions on an index without downloading them: search, and the index's view of
one extension (versions, category, features, platforms) read from PEP 658 metadata."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from anya_plugins.metadata.frozen import Frozen
from anya_plugins.sources.errors import IndexResponseError, credentials_hint

TYPE_CHECKING = False  # typing costs the start-up milliseconds
if TYPE_CHECKING:
    from typing import Any

    # search reads no project page: the page parser (packaging, html.parser), the cache and
    # the TUF check stay out of its start-up (see search_index)
    from anya_plugins.sources.http import HttpResponse, ReadLimit
    from anya_plugins.sources.mirrors import MirrorSet
    from anya_plugins.sources.settings import SourcesSettings
    from anya_plugins.sources.simple import SimpleIndex


class SearchHit(Frozen):
    """One project a search found, in its latest release."""

    name: str
    version: str
    summary: str
    category: str
    host_api: str
    index: str
    deprecated: str | None
    """This release's deprecation message (``anya-ext deprecate NAME==VERSION``), if any."""
    status: str
    """The project's PEP 792 status on the index (``deprecated`` by ``anya-ext deprecate
    NAME``, ``archived``)."""
    status_reason: str | None
    rating: float | None
    """Mean rating of the visible reviews on the index's hub; None: not rated."""
    ratings: int
    downloads: int | None
    """Downloads the registry counted; None: it counts none."""

    def __init__(
        self, name: str, version: str, summary: str, category: str, host_api: str, index: str,
        deprecated: str | None = None, status: str = "active", status_reason: str | None = None,
        rating: float | None = None, ratings: int = 0, downloads: int | None = None,
    ) -> None:  # fmt: skip
        self._init(
            name, version, summary, category, host_api, index, deprecated, status,
            status_reason, rating, ratings, downloads,
        )  # fmt: skip


def search_parameters(
    query: str, *, category: str | None = None, limit: int | None = None,
    min_rating: float | None = None, sort: str = "relevance",
) -> dict[str, Any]:  # fmt: skip
    """The query string of ``+anya/search`` (empty filters left out)."""
    parameters: dict[str, Any] = {"q": query}
    if category:
        parameters["category"] = category
    if limit:
        parameters["limit"] = limit
    if min_rating is not None:
        parameters["min_rating"] = min_rating
    if sort != "relevance":
        parameters["sort"] = sort
    return parameters


class SearchIndex:
    """What a search asks of a source: its mirrors and how large a page may be. Built from the
    settings as :meth:`SimpleIndex.from_settings` builds those two, without the rest."""

    def __init__(self, mirrors: MirrorSet, page_limit: ReadLimit) -> None:
        self.mirrors = mirrors
        self.page_limit = page_limit


def search_index(settings: SourcesSettings, source: str = "primary") -> SearchIndex | SimpleIndex:
    """The client :func:`search` needs for the source called ``source``: a
    :class:`SearchIndex`, or the whole :class:`SimpleIndex` for a source with ``tuf_root``
    (whose TUF settings are checked when its client is made)."""
    from anya_plugins.sources.http import HttpClient
    from anya_plugins.sources.index_access import page_limit, source_mirrors

    client = HttpClient.from_settings(settings)
    if settings.source(source).tuf_root is not None:
        from anya_plugins.sources.simple import SimpleIndex

        return SimpleIndex.from_settings(settings, source, http=client)
    return SearchIndex(source_mirrors(settings, source, client), page_limit(settings.limits))


def search(
    index: SearchIndex | SimpleIndex, query: str, *, category: str | None = None,
    limit: int | None = None, min_rating: float | None = None, sort: str = "relevance",
) -> list[SearchHit]:  # fmt: skip
    """Ask the index's search view (``<index>/+anya/search``), failing over between mirrors."""
    parameters = search_parameters(
        query, category=category, limit=limit, min_rating=min_rating, sort=sort
    )

    def read(response: HttpResponse) -> dict[str, Any]:
        if response.status == 404:
            raise IndexResponseError(
                response.url,
                "this index has no search view",
                hint="search needs an Anya registry (devpi with the anya-plugins plugin)",
            )
        if response.status != 200:
            raise IndexResponseError(
                response.url,
                f"HTTP {response.status}: {_explained(response.read(index.page_limit))}",
                hint=credentials_hint(response.url, response.status),
            )
        body = response.read(index.page_limit)
        try:
            document = json.loads(body)
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise IndexResponseError(
                response.url,
                f"the search view answered something that is not a JSON object: {_explained(body)}",
                hint="is this source's URL an Anya registry's index (…/+simple/)?",
            )
        return document

    document = index.mirrors.fetch(
        f"../+anya/search?{urlencode(parameters)}", read, headers={"Accept": "application/json"}
    )
    return hits_from_document(document)


def hits_from_document(document: dict[str, Any]) -> list[SearchHit]:
    """The results of a ``+anya/search`` answer."""
    return [
        SearchHit(
            name=str(hit["name"]),
            version=str(hit["version"]),
            summary=str(hit.get("summary") or ""),
            category=str(hit.get("category") or ""),
            host_api=str(hit.get("host_api") or ""),
            index=str(hit.get("index") or ""),
            deprecated=_text(hit.get("deprecated")),
            status=_text(hit.get("status")) or "active",
            status_reason=_text(hit.get("status_reason")),
            rating=_number(hit.get("rating")),
            ratings=int(hit.get("ratings") or 0),
            downloads=None if hit.get("downloads") is None else int(hit["downloads"]),
        )
        for hit in document.get("results", ())
    ]


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _explained(body: bytes) -> str:
    """An error body as a person reads it: devpi's JSON ``message``, else the text's first
    line; never bytes, no control characters, at most 300 characters."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if isinstance(document, dict) and isinstance(document.get("message"), str):
        text = document["message"]
    line = text.splitlines()[0].strip() if text else "(no explanation in the answer)"
    # control characters (a terminal escape sequence from a hostile index) are shown, not sent
    line = "".join(c if c.isprintable() else repr(c)[1:-1] for c in line)
    return line if len(line) <= 300 else f"{line[:297]}..."


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


class RemoteExtension(Frozen):
    """What the index says about an extension, before anything is installed."""

    name: str
    versions: tuple[str, ...]
    latest: str
    summary: str
    category: str
    host_api: str
    features: tuple[str, ...]
    default_features: tuple[str, ...]
    platforms: tuple[str, ...]
    source: str
    index_url: str
    yanked: tuple[str, ...]
    """Versions whose every wheel is yanked (PEP 592): installed only when pinned exactly."""
    deprecated: dict[str, str]
    """Deprecated versions and the publisher's message (still installable)."""
    status: str
    """The project's PEP 792 status on the index: ``deprecated``, ``archived`` (a
    ``quarantined`` project is refused before anything is described)."""
    status_reason: str | None

    def __init__(
        self, name: str, versions: tuple[str, ...], latest: str, summary: str, category: str,
        host_api: str, features: tuple[str, ...], default_features: tuple[str, ...],
        platforms: tuple[str, ...], source: str, index_url: str, yanked: tuple[str, ...] = (),
        deprecated: dict[str, str] | None = None, status: str = "active",
        status_reason: str | None = None,
    ) -> None:  # fmt: skip
        self._init(
            name, versions, latest, summary, category, host_api, features, default_features,
            platforms, source, index_url, yanked, {} if deprecated is None else deprecated,
            status, status_reason,
        )  # fmt: skip


def describe_remote(index: SimpleIndex, name: str, source: str) -> RemoteExtension:
    """Versions from the simple page; the contract of the latest release from its METADATA."""
    from anya_plugins.metadata.contract import parse_metadata_text
    from anya_plugins.metadata.platforms import platform_names
    from anya_plugins.sources.project_markers import refuse_quarantined

    page = index.project_page(name, refresh=True)
    refuse_quarantined(page.name, page.markers, page.used_url)
    wheels = [link for link in page.files if link.is_wheel and link.version is not None]
    if not wheels:
        raise IndexResponseError(page.used_url, f"{page.name} has no wheels on this index")
    versions = sorted({link.version for link in wheels if link.version is not None})
    yanked = [v for v in versions if all(link.yanked for link in wheels if link.version == v)]
    candidates = [v for v in versions if v not in yanked] or versions
    finals = [v for v in candidates if not v.is_prerelease] or candidates
    latest = finals[-1]
    latest_wheels = [link for link in wheels if link.version == latest]
    contract = parse_metadata_text(
        page.name, index.fetch_core_metadata(latest_wheels[0]), latest_wheels[0].wheel_tags
    )
    tags = [tag for link in latest_wheels for tag in link.wheel_tags]
    return RemoteExtension(
        name=page.name,
        versions=tuple(str(v) for v in versions),
        latest=str(latest),
        summary=contract.summary,
        category=contract.category,
        host_api=contract.host_api,
        features=tuple(feature.name for feature in contract.features),
        default_features=contract.default_features,
        platforms=platform_names(tags),
        source=source,
        index_url=page.used_url,
        yanked=tuple(str(v) for v in yanked),
        deprecated={
            str(link.version): link.deprecated
            for link in wheels
            if link.deprecated is not None and link.version is not None
        },
        status=page.status,
        status_reason=page.markers.status_reason,
    )
