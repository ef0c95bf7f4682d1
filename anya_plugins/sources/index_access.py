"""What every client of a source's index shares: its mirrors (the URLs' credentials handed to
the HTTP client, the probe timeout, the region router) and the limit on an index page.

:class:`~anya_plugins.sources.simple.SimpleIndex` and the search path
(:func:`~anya_plugins.sources.search.search_index`) both build on it; it imports neither the
Simple API parser nor ``packaging``, so the search path stays light.
"""

from __future__ import annotations

from anya_plugins.sources.http import HttpClient, ReadLimit
from anya_plugins.sources.mirrors import DEFAULT_PROBE_TIMEOUT, MirrorSet

TYPE_CHECKING = False  # typing costs the start-up milliseconds
if TYPE_CHECKING:
    from anya_plugins.sources.settings import LimitSettings, SourcesSettings


def source_mirrors(settings: SourcesSettings, source: str, client: HttpClient) -> MirrorSet:
    """The mirrors of the source called ``source``: the credentials in its URLs go to
    ``client``, the mirrors see the URLs without them; routed by region only when the source
    groups its mirrors by region or a region is configured."""
    configured = settings.source(source)
    router = None
    if configured.regions or settings.region is not None:  # RegionRouter.for_source's test
        from anya_plugins.sources.regions import RegionRouter

        router = RegionRouter.for_source(settings, configured)
    return MirrorSet(
        [client.take_credentials(url) for url in configured.urls],
        http=client,
        probe_timeout=min(DEFAULT_PROBE_TIMEOUT, settings.timeout),
        router=router,
    )


def page_limit(limits: LimitSettings) -> ReadLimit:
    """How large an index page may be and how long reading one may take."""
    return ReadLimit(
        "index page",
        limits.max_page_bytes,
        limits.read_seconds,
        size_key="sources.max_page_mb",
        time_key="sources.read_seconds",
    )
