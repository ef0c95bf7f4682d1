"""The simple repository API: project pages (PEP 691 JSON, else PEP 503 HTML) and the core
metadata files beside wheels (PEP 658, PEP 714).

Both page formats give the same :class:`ProjectPage`; file URLs are absolute, resolved
against the URL that actually served the page (a mirror's, after failover).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from anya_plugins.metadata.platforms import tags_from_wheel_filename
from anya_plugins.sources.cache import DownloadCache, is_sha256
from anya_plugins.sources.errors import (
    Attempt,
    HashMismatch,
    IndexResponseError,
    IndexUnreachable,
    ProjectNotFound,
    SourceError,
    unexpected_status,
)
from anya_plugins.sources.freshness import HighWaterMarks
from anya_plugins.sources.http import (
    READ_TIMED_OUT,
    HttpClient,
    HttpResponse,
    ReadLimit,
    media_type,
)
from anya_plugins.sources.index_access import page_limit, source_mirrors
from anya_plugins.sources.mirrors import MirrorSet
from anya_plugins.sources.project_markers import (
    ProjectMarkers,
    markers_from_json,
    markers_from_meta,
)
from anya_plugins.sources.settings import LimitSettings, SourcesSettings

log = logging.getLogger(__name__)

SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
SIMPLE_HTML = "application/vnd.pypi.simple.v1+html"
ACCEPT = f"{SIMPLE_JSON}, {SIMPLE_HTML};q=0.2, text/html;q=0.01"
"""JSON first; HTML from servers that speak only PEP 503."""
SUPPORTED_API_MAJOR = 1
_VERIFIABLE = hashlib.algorithms_guaranteed - {"shake_128", "shake_256"}

_Page = tuple[str, str, bytes]
"""A page as fetched: the URL that answered, its Content-Type and its body."""
CoreMetadata = bool | Mapping[str, str]
"""PEP 714: False (none served), True (served, no hash) or the hashes of the metadata file."""


PROVENANCE = "application/vnd.pypi.integrity.v1+json"
DEPRECATED_MARK = "_anya-deprecated"
"""An Anya registry's mark of a deprecated release's files: a PEP 691 key (PEP 691 leaves
keys with a leading underscore to the index) and, in HTML, :data:`DEPRECATED_ATTRIBUTE`."""
DEPRECATED_ATTRIBUTE = "data-anya-deprecated"


@dataclass(frozen=True)
class FileLink:
    """One file an index lists for a project."""

    filename: str
    url: str
    """Absolute, without a fragment."""
    hashes: Mapping[str, str] = field(default_factory=dict)
    """Hash algorithm -> lower-case hex digest, as the index lists them."""
    requires_python: str | None = None
    yanked: bool = False
    yanked_reason: str | None = None
    core_metadata: CoreMetadata = False
    provenance: str | None = None
    """PEP 740: the absolute URL of the file's provenance object, when the index has one."""
    deprecated: str | None = None
    """The deprecation message of the file's release, when an Anya registry marks it."""

    @property
    def sha256(self) -> str | None:
        return self.hashes.get("sha256")

    @property
    def is_wheel(self) -> bool:
        return self.filename.endswith(".whl")

    @property
    def version(self) -> Version | None:
        """The version in the file name; None if the name is not a valid wheel or sdist name
        (installers skip such files, as pip does)."""
        try:
            if self.is_wheel:
                return parse_wheel_filename(self.filename)[1]
            return parse_sdist_filename(self.filename)[1]
        except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
            return None

    @property
    def wheel_tags(self) -> tuple[str, ...]:
        """The wheel's tags as strings (for the extension contract); empty for other files."""
        if not self.is_wheel or self.version is None:
            return ()
        return tags_from_wheel_filename(self.filename)

    @property
    def metadata_url(self) -> str:
        """Where PEP 658 puts the file's core metadata."""
        return f"{self.url}.metadata"


@dataclass(frozen=True)
class ProjectPage:
    """The files an index lists for one project."""

    name: str
    """The canonical (PEP 503 normalized) project name."""
    files: tuple[FileLink, ...]
    used_url: str
    """The page URL that served it (a mirror's, after failover)."""
    from_cache: bool = False
    markers: ProjectMarkers = field(default_factory=ProjectMarkers)
    """PEP 708 and PEP 792: what the index says about the project as a whole."""

    @property
    def tracks(self) -> tuple[str, ...]:
        return self.markers.tracks

    @property
    def alternate_locations(self) -> tuple[str, ...]:
        return self.markers.alternate_locations

    @property
    def status(self) -> str:
        return self.markers.status


class SimpleIndex:
    """A client for one source: its mirrors, and the shared cache for pages and metadata."""

    def __init__(
        self,
        mirrors: MirrorSet,
        *,
        cache: DownloadCache | None = None,
        marks: HighWaterMarks | None = None,
        limits: LimitSettings | None = None,
        vouch: Callable[[ProjectPage], ProjectPage] | None = None,
    ) -> None:
        self.mirrors = mirrors
        self.vouch = vouch
        """A check every freshly fetched page must pass (the source's TUF metadata); it
        returns the page as it vouches for it."""
        self.cache = cache
        self.marks = marks
        limits = limits if limits is not None else LimitSettings()
        self.page_limit = page_limit(limits)
        """How large an index page may be and how long reading one may take."""
        self.metadata_limit = ReadLimit(
            "metadata file",
            limits.max_metadata_bytes,
            limits.read_seconds,
            size_key="sources.max_metadata_mb",
            time_key="sources.read_seconds",
        )
        """The same for a core metadata (PEP 658) or provenance (PEP 740) file."""

    @classmethod
    def from_settings(
        cls,
        settings: SourcesSettings,
        source: str = "primary",
        *,
        http: HttpClient | None = None,
        cache: DownloadCache | None = None,
        ahead: bool = False,
    ) -> SimpleIndex:
        """The client for the source called ``source``; pass ``http`` and ``cache`` to share
        them between sources (a new HTTP pool and the configured cache otherwise). ``ahead``:
        a client made ahead of the transaction, whose TUF check the transaction's client
        takes over (:func:`~anya_plugins.sources.tuf_client.verifier_for`).

        The credentials in the source's URLs go to the HTTP client; everything else (pages,
        logs, errors, cache keys) sees the URLs without them."""
        client = http if http is not None else HttpClient.from_settings(settings)
        mirrors = source_mirrors(settings, source, client)
        if cache is None:
            cache = DownloadCache.from_settings(settings.cache)
        marks = HighWaterMarks.in_cache(settings.cache.dir)
        return cls(
            mirrors, cache=cache, marks=marks, limits=settings.limits,
            vouch=_tuf_check(settings, source, client, mirrors.primary, ahead=ahead),
        )  # fmt: skip

    def for_another_thread(self) -> SimpleIndex:
        """A copy for another thread: its own mirror set (which keeps its order and last URL);
        the HTTP pool, cache, marks and TUF check shared."""
        import copy

        client = copy.copy(self)
        client.mirrors = copy.copy(self.mirrors)
        return client

    def project_page(self, name: str, *, refresh: bool = False) -> ProjectPage:
        """The files of project ``name``; a cached page younger than the page TTL is used
        unless ``refresh``. Raises ProjectNotFound on a 404 (no failover: it is an answer)."""
        project = canonicalize_name(name)
        relative = f"{project}/"
        key = f"{self.mirrors.primary}{relative}"
        if self.cache is not None and not refresh:
            cached = self.cache.page(key)
            if cached is not None:
                log.info("%s: index page from the cache (fetched from %s)", project, cached.url)
                page = parse_project_page(project, cached.body, cached.content_type, cached.url)
                return dataclasses.replace(page, from_cache=True)

        def read(response: HttpResponse) -> tuple[str, str, bytes]:
            if response.status == 404:
                raise ProjectNotFound(project, response.url)
            if response.status != 200:
                raise unexpected_status(response.url, response.status, response.reason)
            return response.url, response.content_type, response.read(self.page_limit)

        page, content_type, body = self._fetch_vouched_page(project, relative, read)
        url = page.used_url
        if self.marks is not None:
            versions = [link.version for link in page.files if link.version is not None]
            self.marks.check(self.mirrors.primary, project, versions, url)
        if self.cache is not None:
            self.cache.store_page(key, url=url, content_type=content_type, body=body)
        return page

    def _fetch_vouched_page(
        self, project: str, relative: str, read: Callable[[HttpResponse], _Page]
    ) -> tuple[ProjectPage, str, bytes]:
        """The page as :attr:`vouch` vouches for it, with its Content-Type and body.

        A page the check refuses as one mirror served it (TUF: a page or metadata that mirror
        altered, mixed, froze or replayed) is asked of the next mirror, and that mirror is
        used last for the rest of the run: a lying mirror cannot deny service while an
        honest one answers. Refused only when no mirror serves a page that verifies."""
        from anya_plugins.sources.tuf_client import TufRefused, TufRefusedEverywhere

        refused: list[Attempt] = []
        while True:
            tried = {attempt.url for attempt in refused}
            try:
                url, content_type, body = self._fetch_page(project, relative, read, tried)
            except IndexUnreachable as failure:
                if not refused:
                    raise
                raise TufRefusedEverywhere(project, [*refused, *failure.attempts]) from None
            page = parse_project_page(project, body, content_type, url)
            if self.vouch is None:
                return page, content_type, body
            try:
                return self.vouch(page), content_type, body
            except TufRefused as error:
                base = self.mirrors.base_of(url)
                if not error.mirror_specific or base is None or len(self.mirrors.urls) == 1:
                    raise
                refused.append(Attempt(base, error.message))
                self.mirrors.distrust(base)
                log.warning(
                    "the page of %s from mirror %s is refused by TUF (%s); asking the next mirror",
                    project,
                    base,
                    error.message,
                )

    def _fetch_page(
        self,
        project: str,
        relative: str,
        read: Callable[[HttpResponse], _Page],
        exclude: Collection[str] = (),
    ) -> _Page:
        """The page, asked once more when no mirror sent anything within the client's
        timeout: a registry fetching a large page from its upstream for the first time (devpi
        mirroring PyPI) can take longer, and has it cached by the second request. The second
        request waits up to ``sources.read_seconds``, the time a page may take to read."""
        headers = {"Accept": ACCEPT}
        try:
            return self.mirrors.fetch(relative, read, headers=headers, exclude=exclude)
        except IndexUnreachable as failure:
            waited = self.mirrors.http.timeout
            if not any(a.reason == READ_TIMED_OUT for a in failure.attempts) or (
                self.page_limit.seconds <= waited
            ):
                raise
        log.warning(
            "the index page of %s: no answer within %g s (an index fetching a large page "
            "from its upstream can take longer); asking once more, waiting up to %g s "
            "(sources.read_seconds)",
            project,
            waited,
            self.page_limit.seconds,
        )
        return self.mirrors.fetch(
            relative, read, headers=headers, read_timeout=self.page_limit.seconds, exclude=exclude
        )

    def fetch_provenance(self, link: FileLink) -> bytes | None:
        """The PEP 740 provenance object of ``link`` (JSON bytes), or None if it has none."""
        if link.provenance is None:
            return None

        def read(response: HttpResponse) -> bytes | None:
            if response.status == 404:
                return None
            if response.status != 200:
                raise unexpected_status(
                    response.url, response.status, response.reason, what="for provenance"
                )
            return response.read(self.metadata_limit)

        return self.mirrors.fetch(link.provenance, read, headers={"Accept": PROVENANCE})

    def fetch_core_metadata(self, link: FileLink) -> str:
        """The METADATA text of ``link`` (PEP 658), checked against the hashes the page gave."""
        if not link.core_metadata:
            raise SourceError(
                f"{link.filename}: the index serves no core metadata file for it",
                hint="devpi-server serves them with --enable-core-metadata; "
                "otherwise download the wheel and read its METADATA",
            )
        data = self.cached_core_metadata(link)
        if data is None:

            def read(response: HttpResponse) -> bytes:
                if response.status != 200:
                    raise unexpected_status(
                        response.url,
                        response.status,
                        response.reason,
                        what="for a core metadata file",
                    )
                return response.read(self.metadata_limit)

            data = self.mirrors.fetch(link.metadata_url, read)
            url = self.mirrors.used_url or ""
            verify_hashes(f"{link.filename}.metadata", data, metadata_hashes(link), url)
            self.keep_core_metadata(link, data)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise IndexResponseError(
                link.metadata_url, f"core metadata is not UTF-8: {exc}"
            ) from None

    def cached_core_metadata(self, link: FileLink) -> bytes | None:
        """``link``'s core metadata as this machine has it, fetching nothing: cached under
        the hash the page gives, or, when the page gives none, read from the cached wheel."""
        expected = metadata_hashes(link)
        sha256 = expected.get("sha256", "")
        if self.cache is not None and is_sha256(sha256):
            return self.cache.read_bytes(sha256)
        return None if expected else self._metadata_of_cached_wheel(link)

    def keep_core_metadata(self, link: FileLink, data: bytes) -> None:
        """Cache ``link``'s core metadata (checked against the page) under the sha256 the page
        gives for it; without one, the cached wheel is where it is read from next time."""
        sha256 = metadata_hashes(link).get("sha256", "")
        if self.cache is not None and is_sha256(sha256):
            self.cache.store_bytes(sha256, data)

    def _metadata_of_cached_wheel(self, link: FileLink) -> bytes | None:
        """The METADATA inside ``link``'s wheel when the download cache holds that very file
        (by the sha256 the page gives): PEP 658 metadata is that file's, so an index that
        gives no hash for its metadata file is not asked for it again once the wheel is here.
        None when not cached, too large to read whole, or not a wheel with one METADATA."""
        if self.cache is None or not link.is_wheel or not is_sha256(link.sha256 or ""):
            return None
        wheel = self.cache.read_bytes(str(link.sha256), max_bytes=METADATA_FROM_WHEEL_MAX_BYTES)
        return None if wheel is None else wheel_metadata(wheel)


def metadata_hashes(link: FileLink) -> Mapping[str, str]:
    """The hashes the page gives for ``link``'s core metadata file (none: an empty map)."""
    return link.core_metadata if isinstance(link.core_metadata, Mapping) else {}


METADATA_FROM_WHEEL_MAX_BYTES = 8 * 1024 * 1024
"""A cached wheel up to this size is read for its METADATA; a larger one costs more to read
than asking the index for its metadata file."""


def wheel_metadata(wheel: bytes) -> bytes | None:
    """The ``<name>-<version>.dist-info/METADATA`` of a wheel (the one at its top level), or
    None when it has not exactly one or is not a readable zip."""
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(wheel)) as archive:
            names = [
                name
                for name in archive.namelist()
                if name.count("/") == 1 and name.endswith(".dist-info/METADATA")
            ]
            return archive.read(names[0]) if len(names) == 1 else None
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        log.debug("no METADATA read from a cached wheel: %s", error)
        return None


def _tuf_check(
    settings: SourcesSettings, source: str, http: HttpClient, primary: str, *, ahead: bool
) -> Callable[[ProjectPage], ProjectPage] | None:
    """The TUF check of a source with ``tuf_root`` (None without), already warming up for
    the ``primary`` URL's pages."""
    configured = settings.source(source)
    if configured.tuf_root is None:
        return None
    from anya_plugins.sources.tuf_client import tuf_source, verifier_for

    where = tuf_source(configured.url, configured.tuf_root, settings.cache.dir)
    verifier = verifier_for(where, http, ahead=ahead)
    verifier.warm_up(primary)  # a client of a source is made to read its pages
    return verifier


def parse_project_page(name: str, body: bytes, content_type: str, url: str) -> ProjectPage:
    """A project page from the body the index served at ``url`` with this ``Content-Type``."""
    kind, charset = media_type(content_type)
    if kind == SIMPLE_JSON:
        files, markers = _json_files(body, url)
    elif kind in (SIMPLE_HTML, "text/html"):
        try:
            text = body.decode(charset or "utf-8")
        except (LookupError, UnicodeDecodeError) as exc:
            raise IndexResponseError(url, f"cannot decode the page: {exc}") from None
        files, markers = _html_files(text, url)
    else:
        raise IndexResponseError(
            url,
            f"answered with {kind or 'no content type'}, not a simple API page",
            hint="the source's url must be a PEP 503/691 simple index, e.g. .../+simple/",
        )
    return ProjectPage(name=canonicalize_name(name), files=files, used_url=url, markers=markers)


def _json_files(body: bytes, url: str) -> tuple[tuple[FileLink, ...], ProjectMarkers]:
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise IndexResponseError(url, f"invalid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise IndexResponseError(url, "the JSON page is not an object")
    meta = document.get("meta")
    _check_api_version(url, meta.get("api-version") if isinstance(meta, dict) else None)
    entries = document.get("files")
    if not isinstance(entries, list):
        raise IndexResponseError(url, "the JSON page has no 'files' list")
    files = tuple(_json_file(url, index, entry) for index, entry in enumerate(entries))
    return files, markers_from_json(document, url)


def _json_file(url: str, index: int, entry: Any) -> FileLink:
    def field_of(name: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
        value = entry.get(name, default)
        if value is not None and not isinstance(value, kind):
            raise IndexResponseError(url, f"files[{index}].{name} has the wrong type: {value!r}")
        return value

    if not isinstance(entry, dict):
        raise IndexResponseError(url, f"files[{index}] is not an object")
    filename = field_of("filename", str)
    href = field_of("url", str)
    if not filename or not href:
        raise IndexResponseError(url, f"files[{index}] has no filename or url")
    hashes = field_of("hashes", dict, {})
    yanked = field_of("yanked", (bool, str), False)
    core = field_of("core-metadata", (bool, dict), field_of("dist-info-metadata", (bool, dict)))
    return FileLink(
        filename=filename,
        url=urldefrag(urljoin(url, href)).url,
        hashes=_hashes(hashes),
        requires_python=field_of("requires-python", str) or None,
        yanked=yanked is not False,
        yanked_reason=yanked if isinstance(yanked, str) and yanked else None,
        core_metadata=_hashes(core) if isinstance(core, dict) else bool(core),
        provenance=_absolute(url, field_of("provenance", str)),
        deprecated=field_of(DEPRECATED_MARK, str),
    )


def _absolute(base: str, href: str | None) -> str | None:
    return urljoin(base, href) if href else None


class _Anchors(HTMLParser):
    """The ``<a>`` tags, ``<base href>`` and repository version of a PEP 503 page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.api_version: str | None = None
        self.anchors: list[dict[str, str | None]] = []
        self.meta: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "a" and attributes.get("href"):
            self.anchors.append(attributes)
        elif tag == "base" and self.base is None and attributes.get("href"):
            self.base = attributes["href"]
        elif tag == "meta" and attributes.get("name") == "pypi:repository-version":
            self.api_version = attributes.get("content")
        elif tag == "meta" and attributes.get("name"):
            self.meta.append((str(attributes["name"]), attributes.get("content") or ""))


def _html_files(text: str, url: str) -> tuple[tuple[FileLink, ...], ProjectMarkers]:
    parser = _Anchors()
    parser.feed(text)
    parser.close()
    _check_api_version(url, parser.api_version)
    base = urljoin(url, parser.base) if parser.base else url
    files = tuple(_html_file(base, anchor) for anchor in parser.anchors)
    return files, markers_from_meta(parser.meta, url)


def _html_file(base: str, anchor: Mapping[str, str | None]) -> FileLink:
    absolute, fragment = urldefrag(urljoin(base, anchor["href"] or ""))
    algorithm, equals, digest = fragment.partition("=")
    yanked = anchor.get("data-yanked", False)  # present without a value: None, still yanked
    core = anchor.get("data-core-metadata", anchor.get("data-dist-info-metadata"))
    return FileLink(
        filename=unquote(urlsplit(absolute).path.rsplit("/", 1)[-1]),
        url=absolute,
        hashes=_hashes({algorithm: digest}) if equals and digest else {},
        requires_python=anchor.get("data-requires-python") or None,
        yanked=yanked is not False,
        yanked_reason=yanked if isinstance(yanked, str) and yanked else None,
        core_metadata=_html_core_metadata(core),
        provenance=_absolute(base, anchor.get("data-provenance")),
        deprecated=anchor.get(DEPRECATED_ATTRIBUTE),
    )


def _html_core_metadata(value: str | None) -> CoreMetadata:
    if value is None or value.strip().lower() == "false":
        return False
    algorithm, equals, digest = value.partition("=")
    return _hashes({algorithm: digest}) if equals and digest else True


def _hashes(raw: Mapping[Any, Any]) -> dict[str, str]:
    return {str(name).lower(): str(digest).lower() for name, digest in raw.items() if digest}


def _check_api_version(url: str, version: Any) -> None:
    """PEP 629: a client must refuse a major version it does not know."""
    if version is None:
        return
    major = str(version).partition(".")[0]
    if not major.isdigit() or int(major) > SUPPORTED_API_MAJOR:
        raise IndexResponseError(
            url,
            f"speaks simple API version {version}, this client only {SUPPORTED_API_MAJOR}.x",
            hint="upgrade anya-plugins",
        )


def verify_hashes(filename: str, data: bytes, expected: Mapping[str, str], url: str) -> None:
    """Check ``data`` against every listed hash of a fixed-length algorithm hashlib guarantees."""
    for algorithm, digest in expected.items():
        if algorithm in _VERIFIABLE:
            actual = hashlib.new(algorithm, data).hexdigest()
            if actual != digest:
                raise HashMismatch(filename, digest, actual, url, algorithm=algorithm)
