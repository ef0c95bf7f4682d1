# mypy: disallow-untyped-calls=False
# (devpi-server's model functions are untyped; this module is the adapter to them.)
"""PEP 740 provenance of upstream files, carried through devpi's mirror.

devpi-server's ``type=mirror`` index keeps, of each file its upstream lists, only the URL,
the hash, ``requires-python`` and ``yanked`` (6.20: ``mirror.Link``); a ``provenance`` URL
(PEP 740, as PyPI serves for Trusted Publishing uploads) is dropped, so behind the registry
no client could see it. This module carries it:

* :func:`link_upstream_provenance`, a simple-page concern: on a page of an ``anya`` index,
  each file served from a mirror base whose upstream page gives it a provenance URL, for the
  same sha256, gets this registry's ``provenance`` URL (``+provenance/{filename}``);
* :func:`upstream_provenance`: the provenance object behind that URL, fetched from the
  upstream when asked for (``plugin_provenance.provenance_view``) and passed on unchanged:
  it is checked by the client against the file's sha256 and its trust policy, not here.

The upstream page is read with devpi's own HTTP client for the mirror (its proxies, TLS and
mirror credentials), parsed by the client's parser (``sources.simple``), and kept for the
mirror's ``mirror_cache_expiry`` (devpi's default: 30 minutes), a failure for a minute. It
is read in the background: a simple page waits for it :data:`PAGE_WAIT` seconds at most (devpi
has just fetched the same page for itself), so the first page of a large upstream project
may come without the links, the next ones with them. A server in ``--offline-mode`` and a
replica (whose mirror reads the primary's mirror page, where devpi has already dropped the
URLs) carry nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from functools import partial
from typing import Any, Final

from anya_plugins.registry.indexconfig import INDEX_TYPE
from anya_plugins.registry.plugin_provenance import PROVENANCE_ROUTE
from anya_plugins.registry.plugin_simple_pages import SimplePage
from anya_plugins.sources.errors import SourceError
from anya_plugins.sources.simple import ACCEPT, PROVENANCE, parse_project_page

log = logging.getLogger(__name__)

MIRROR_TYPE: Final = "mirror"
DEFAULT_EXPIRY: Final = 1800.0
"""devpi's default ``mirror_cache_expiry`` (seconds)."""
FAILURE_EXPIRY: Final = 60.0
PAGE_WAIT: Final = 2.0
"""How long a simple page waits for the upstream page (read in the background)."""
VIEW_WAIT: Final = 30.0
"""How long a request for the provenance itself waits for it."""
MAX_PROVENANCE_BYTES: Final = 5 * 1024 * 1024
"""As the client's default ``sources.max_metadata_mb``: larger is refused, not passed on."""


@dataclass(frozen=True)
class UpstreamFile:
    """What a mirror's upstream page says about one file: its sha256 and provenance URL."""

    sha256: str
    provenance: str


_pages: dict[tuple[str, str], tuple[float, dict[str, UpstreamFile]]] = {}
_fetching: dict[tuple[str, str], Future[tuple[dict[str, UpstreamFile], float]]] = {}
_lock = threading.Lock()
_fetcher = ThreadPoolExecutor(max_workers=4, thread_name_prefix="anya-upstream-provenance")


def link_upstream_provenance(page: SimplePage) -> None:
    """The simple-page concern: a ``provenance`` URL for mirrored files that have one upstream."""
    if page.stage.ixconfig.get("type") != INDEX_TYPE:
        return
    user, index = page.stage.name.split("/")
    mirrors: dict[str, Any] = {}
    for link in page.links:
        place = _index_of(link)
        if place not in mirrors:
            mirrors[place] = _mirror(page.xom, place)
        if mirrors[place] is None:
            continue
        known = upstream_files(mirrors[place], page.project, wait=PAGE_WAIT).get(link.basename)
        if known is not None and known.sha256 == _sha256(link):
            url = page.request.route_url(
                PROVENANCE_ROUTE, user=user, index=index, filename=link.basename
            )
            page.mark_file(link.basename, "provenance", url)


def upstream_provenance(xom: Any, link: Any, project: str) -> bytes | None:
    """The upstream's provenance object of a mirrored file (None: not a mirrored file, or the
    upstream gives none for this sha256)."""
    mirror = _mirror(xom, _index_of(link))
    if mirror is None:
        return None
    known = upstream_files(mirror, project, wait=VIEW_WAIT).get(link.basename)
    if known is None or known.sha256 != _sha256(link):
        return None
    response = mirror.http.get(
        known.provenance, allow_redirects=True, extra_headers={"Accept": PROVENANCE}
    )
    content = getattr(response, "content", b"")
    if response.status_code != 200 or len(content) > MAX_PROVENANCE_BYTES:
        log.warning("provenance of %s upstream: HTTP %s", link.basename, response.status_code)
        return None
    return bytes(content)


def upstream_files(mirror: Any, project: str, *, wait: float) -> dict[str, UpstreamFile]:
    """The files of ``project`` with a provenance URL on the mirror's upstream page.

    The page is read in the background, so that a slow upstream delays a simple page by
    ``wait`` seconds at most; until it is read, no file has one.
    """
    key = (mirror.name, project)
    with _lock:
        cached = _pages.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        fetching = _fetching.get(key)
        if fetching is None:
            fetching = _fetching[key] = _fetcher.submit(_read_upstream, mirror, project)
            fetching.add_done_callback(partial(_keep, key))
    try:
        return fetching.result(timeout=wait)[0]
    except FutureTimeout:
        return {}


def _keep(key: tuple[str, str], done: Future[tuple[dict[str, UpstreamFile], float]]) -> None:
    try:
        files, fresh_for = done.result()
    except Exception:  # a failed read is a page without provenance, logged once
        log.exception("reading the upstream page of %s on %s", key[1], key[0])
        files, fresh_for = {}, FAILURE_EXPIRY
    with _lock:
        _pages[key] = (time.monotonic() + fresh_for, files)
        _fetching.pop(key, None)


def _read_upstream(mirror: Any, project: str) -> tuple[dict[str, UpstreamFile], float]:
    if mirror.xom.config.offline_mode or mirror.xom.is_replica():
        return {}, DEFAULT_EXPIRY
    expiry = float(mirror.ixconfig.get("mirror_cache_expiry") or DEFAULT_EXPIRY)
    url = str(mirror.mirror_url_without_auth.joinpath(project).asdir())
    response = mirror.http.get(url, allow_redirects=True, extra_headers={"Accept": ACCEPT})
    if response.status_code != 200:
        return {}, FAILURE_EXPIRY if response.status_code != 404 else expiry
    content_type = response.headers.get("content-type", "")
    try:
        page = parse_project_page(project, response.content, content_type, str(response.url))
    except SourceError as error:
        log.warning("upstream page of %s: %s", project, error.message)
        return {}, FAILURE_EXPIRY
    files = {
        link.filename: UpstreamFile(link.sha256, link.provenance)
        for link in page.files
        if link.provenance is not None and link.sha256 is not None
    }
    return files, expiry


def _index_of(link: Any) -> str:
    """The ``user/index`` a simple link's file lives on."""
    return str(link.path.lstrip("/").split("/+f/")[0])


def _mirror(xom: Any, name: str) -> Any:
    """The mirror index called ``name``; None: another kind of index."""
    user, _, index = name.partition("/")
    stage = xom.model.getstage(user, index)
    return stage if stage is not None and stage.ixconfig.get("type") == MIRROR_TYPE else None


def _sha256(link: Any) -> str | None:
    algorithm, _, digest = str(link.hash_spec or "").partition("=")
    return digest.lower() if algorithm == "sha256" and digest else None
