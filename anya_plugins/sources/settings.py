"""The ``[sources]`` configuration section as typed, frozen settings.

```toml
[sources]
timeout = 15                  # seconds, for connecting and for each read
max_page_mb = 20              # an index page larger than this is refused
max_metadata_mb = 5           # so is a core metadata (PEP 658) or provenance (PEP 740) file
read_seconds = 60             # and one that takes longer than this to read
ca_bundle = "/etc/ssl/corp-ca.pem"   # CA certificates trusted beside the system store

region = "eu"                 # mirrors of this region are tried first (see regions.py)
mirror_memory_seconds = 3600  # how long measured mirror latencies and failures are kept

[sources.primary]             # core extensions
url = "http://127.0.0.1:3141/anya/primary/+simple/"
mirrors = ["http://replica.example:3141/anya/primary/+simple/"]

[sources.community]           # community extensions
url = "http://127.0.0.1:3141/community/verified/+simple/"

[sources.community.mirrors.eu]  # or mirrors grouped by region, one table each
urls = ["https://eu1.example/community/verified/+simple/"]

[sources.enterprise.acme]     # one table per organisation; url is required
url = "https://pkgs.acme.example/acme/private/+simple/"

[sources.cache]
dir = "~/.cache/anya/downloads"
max_size_mb = 1024
page_ttl_seconds = 600
```

Every key is optional except an enterprise source's ``url``; the defaults point at the
embedded local registry, wherever its state directory says it runs (``registry up --port``;
see ``local_registry.py``), else at port 3141. Parsing checks every value and names the
key that is wrong.
A source URL may carry ``user:password@`` for a private index (see ``credentials.py``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from anya_plugins.config.reader import Origins, SectionReader
from anya_plugins.metadata.frozen import Frozen
from anya_plugins.sources.errors import SourcesConfigError
from anya_plugins.sources.local_registry import DEFAULT_REGISTRY_URL, registry_url

TYPE_CHECKING = False  # typing costs the start-up milliseconds
if TYPE_CHECKING:
    from typing import Any

    from anya_plugins.config.layers import LayeredConfig

LOCAL_REGISTRY = DEFAULT_REGISTRY_URL
"""The embedded registry (devpi-server) on this machine, at its default port."""

DEFAULT_INDEXES = {"primary": "anya/primary", "community": "community/verified"}
"""The embedded registry's index behind each default source."""


def default_urls(registry: str = LOCAL_REGISTRY) -> dict[str, str]:
    """The default sources' simple URLs on the embedded registry at ``registry``."""
    return {name: f"{registry}/{index}/+simple/" for name, index in DEFAULT_INDEXES.items()}


DEFAULT_URLS = default_urls()
"""The default sources when the embedded registry runs at its default port."""
DEFAULT_TIMEOUT = 15.0
DEFAULT_MAX_SIZE_MB = 1024
DEFAULT_PAGE_TTL_SECONDS = 600.0
DEFAULT_MAX_PAGE_MB = 20
DEFAULT_MAX_METADATA_MB = 5
DEFAULT_READ_SECONDS = 60.0
DEFAULT_MIRROR_MEMORY_SECONDS = 3600.0
CACHE_DIR_ENV = "ANYA_CACHE_DIR"
_MIB = 1024 * 1024

_TOP_KEYS = (
    "timeout",
    "max_page_mb",
    "max_metadata_mb",
    "read_seconds",
    "ca_bundle",
    "region",
    "mirror_memory_seconds",
    "primary",
    "community",
    "enterprise",
    "cache",
)
_SOURCE_KEYS = ("url", "mirrors", "tuf_root")
_CACHE_KEYS = ("dir", "max_size_mb", "page_ttl_seconds")

"""Where a dotted key's value came from (``LayeredConfig.origin``), for error messages."""


class SourceSettings(Frozen):
    """One index: its simple API URL and the mirrors that serve the same content."""

    name: str
    """``primary``, ``community`` or ``enterprise.<org>``."""
    url: str
    mirrors: tuple[str, ...]
    regions: tuple[tuple[str, tuple[str, ...]], ...]
    """``(region, mirror URLs)`` for mirrors configured as ``mirrors.<region>.urls``."""
    tuf_root: Path | None
    """The registry's trusted TUF root: every page is checked against its TUF metadata."""

    def __init__(
        self,
        name: str,
        url: str,
        mirrors: tuple[str, ...] = (),
        regions: tuple[tuple[str, tuple[str, ...]], ...] = (),
        tuf_root: Path | None = None,
    ) -> None:
        self._init(name, url, mirrors, regions, tuf_root)

    @property
    def urls(self) -> tuple[str, ...]:
        """The URL first, then the mirrors, in the order they were configured."""
        return (self.url, *self.mirrors)


class CacheSettings(Frozen):
    """Where downloads and index pages are cached, how large the cache may grow, how long
    an index page stays fresh."""

    dir: Path
    max_size_mb: int
    page_ttl_seconds: float

    def __init__(
        self,
        dir: Path,
        max_size_mb: int = DEFAULT_MAX_SIZE_MB,
        page_ttl_seconds: float = DEFAULT_PAGE_TTL_SECONDS,
    ) -> None:
        self._init(dir, max_size_mb, page_ttl_seconds)

    @property
    def max_bytes(self) -> int:
        return self.max_size_mb * 1024 * 1024


class LimitSettings(Frozen):
    """How large an index page or a metadata file may be, and how long reading one may take
    (a 69 MB page once cost 706 MB of memory and 23 s). Downloads of distribution files are
    not capped: their sha256 is known before the first byte."""

    max_page_mb: float
    max_metadata_mb: float
    read_seconds: float

    def __init__(
        self,
        max_page_mb: float = DEFAULT_MAX_PAGE_MB,
        max_metadata_mb: float = DEFAULT_MAX_METADATA_MB,
        read_seconds: float = DEFAULT_READ_SECONDS,
    ) -> None:
        self._init(max_page_mb, max_metadata_mb, read_seconds)

    @property
    def max_page_bytes(self) -> int:
        return int(self.max_page_mb * _MIB)

    @property
    def max_metadata_bytes(self) -> int:
        return int(self.max_metadata_mb * _MIB)


class SourcesSettings(Frozen):
    """The whole ``[sources]`` section."""

    primary: SourceSettings
    community: SourceSettings
    enterprise: tuple[SourceSettings, ...]
    timeout: float
    cache: CacheSettings
    limits: LimitSettings
    ca_bundle: Path | None
    """CA certificates (a PEM file or a hashed directory) trusted beside the system store."""
    region: str | None
    """This client's region: its mirrors are preferred (``sources.region``)."""
    mirror_memory_seconds: float
    """How long measured mirror latencies and failures are remembered across runs."""

    def __init__(
        self,
        primary: SourceSettings,
        community: SourceSettings,
        enterprise: tuple[SourceSettings, ...],
        timeout: float,
        cache: CacheSettings,
        limits: LimitSettings | None = None,
        ca_bundle: Path | None = None,
        region: str | None = None,
        mirror_memory_seconds: float = DEFAULT_MIRROR_MEMORY_SECONDS,
    ) -> None:
        self._init(
            primary, community, enterprise, timeout, cache,
            LimitSettings() if limits is None else limits, ca_bundle, region,
            mirror_memory_seconds,
        )  # fmt: skip

    @property
    def sources(self) -> tuple[SourceSettings, ...]:
        return (self.primary, self.community, *self.enterprise)

    def source(self, name: str) -> SourceSettings:
        """The source called ``name`` (``primary``, ``community``, ``enterprise.<org>``)."""
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(source.name for source in self.sources)
        raise SourcesConfigError(
            name, "no such source", hint=f"the configured sources are: {known}"
        )


def source_name(
    source: str, org: str | None,
    config: LayeredConfig | Callable[[], LayeredConfig] | None = None,
) -> str:  # fmt: skip
    """The configured source a user means: ``primary``, ``community`` or ``enterprise.<org>``.
    ``--source enterprise`` without ``--org`` means the organisation whose private registry
    ``config`` names (``registry.private.org``, which an enterprise policy sets); ``config``
    may be a function, called only then."""
    from anya_plugins.errors import UsageError

    if source == "enterprise":
        if not org and config is not None:
            from anya_plugins.sources.private import private_org

            org = private_org(config() if callable(config) else config)
        if not org:
            raise UsageError(
                "--source enterprise needs --org ORG",
                hint="or an enterprise policy ($ANYA_ENTERPRISE_POLICY) that names the "
                "organisation",
            )
        return f"enterprise.{org}"
    if org:
        raise UsageError("--org goes with --source enterprise")
    return source


def load_sources(
    config: LayeredConfig, *, environ: Mapping[str, str] | None = None
) -> SourcesSettings:
    """The ``[sources]`` section of a layered configuration; errors name where a value came from.
    A private registry the configuration names (``registry.private.*``, set by an enterprise
    policy) is the source ``enterprise.<org>`` (:mod:`anya_plugins.sources.private`)."""
    from anya_plugins.sources.private import with_private_registry

    settings = parse_sources(config.section("sources"), environ=environ, origins=config.origin)
    return with_private_registry(settings, config, os.environ if environ is None else environ)


def parse_sources(
    section: Mapping[str, Any],
    *,
    environ: Mapping[str, str] | None = None,
    origins: Origins | None = None,
) -> SourcesSettings:
    """Typed settings from the plain ``[sources]`` dict; unset keys take their defaults.

    ``environ`` is read for ``ANYA_CACHE_DIR`` (the default cache is ``downloads`` inside it,
    else inside the user cache directory).
    """
    reader = _Reader(origins)
    reader.known_keys("", section, _TOP_KEYS)
    enterprise = reader.table("enterprise", section.get("enterprise", {}))
    defaults = _Defaults(environ)
    return SourcesSettings(
        primary=_source(reader, "primary", section.get("primary", {}), defaults),
        community=_source(reader, "community", section.get("community", {}), defaults),
        enterprise=tuple(
            _source(reader, f"enterprise.{org}", table, defaults)
            for org, table in sorted(enterprise.items())
        ),
        timeout=reader.number("timeout", section.get("timeout", DEFAULT_TIMEOUT), positive=True),
        cache=_cache(reader, section.get("cache", {}), environ),
        limits=_limits(reader, section),
        ca_bundle=(
            Path(reader.text("ca_bundle", section["ca_bundle"])).expanduser()
            if "ca_bundle" in section
            else None
        ),
        region=reader.text("region", section["region"]) if "region" in section else None,
        mirror_memory_seconds=float(
            reader.number(
                "mirror_memory_seconds",
                section.get("mirror_memory_seconds", DEFAULT_MIRROR_MEMORY_SECONDS),
                positive=True,
            )
        ),
    )


def _limits(reader: _Reader, section: Mapping[str, Any]) -> LimitSettings:
    def positive(key: str, default: float) -> float:
        return float(reader.number(key, section.get(key, default), positive=True))

    return LimitSettings(
        max_page_mb=positive("max_page_mb", DEFAULT_MAX_PAGE_MB),
        max_metadata_mb=positive("max_metadata_mb", DEFAULT_MAX_METADATA_MB),
        read_seconds=positive("read_seconds", DEFAULT_READ_SECONDS),
    )


class _Defaults:
    """The default sources' URLs, on the embedded registry where its state directory says it
    runs; the state file is read once, and only when a default is needed."""

    def __init__(self, environ: Mapping[str, str] | None) -> None:
        self._environ = environ
        self._urls: dict[str, str] | None = None

    def url(self, name: str) -> str | None:
        if name not in DEFAULT_INDEXES:
            return None
        if self._urls is None:
            self._urls = default_urls(registry_url(self._environ))
        return self._urls[name]


def _source(reader: _Reader, name: str, value: Any, defaults: _Defaults) -> SourceSettings:
    table = reader.table(name, value)
    reader.known_keys(name, table, _SOURCE_KEYS)
    if "url" in table:
        url = reader.url(f"{name}.url", table["url"])
    else:
        default = defaults.url(name)
        if default is None:
            raise reader.error(name, "has no url", hint=f"set {name}.url to the index's simple URL")
        url = default
    mirrors, regions = _mirrors(reader, f"{name}.mirrors", table.get("mirrors", []))
    distinct = tuple(dict.fromkeys(mirror for mirror in mirrors if mirror != url))
    tuf_root = (
        Path(reader.text(f"{name}.tuf_root", table["tuf_root"])).expanduser()
        if "tuf_root" in table
        else None
    )
    return SourceSettings(name=name, url=url, mirrors=distinct, regions=regions, tuf_root=tuf_root)


def _mirrors(
    reader: _Reader, key: str, value: Any
) -> tuple[list[str], tuple[tuple[str, tuple[str, ...]], ...]]:
    """A list of mirror URLs, or one ``<region>.urls`` list per region."""
    if not isinstance(value, Mapping):
        return reader.url_list(key, value), ()
    regions = []
    for region, table in value.items():
        reader.known_keys(f"{key}.{region}", reader.table(f"{key}.{region}", table), ("urls",))
        urls = reader.url_list(f"{key}.{region}.urls", table.get("urls", []))
        regions.append((str(region), tuple(urls)))
    return [url for _, urls in regions for url in urls], tuple(regions)


def _cache(reader: _Reader, value: Any, environ: Mapping[str, str] | None) -> CacheSettings:
    table = reader.table("cache", value)
    reader.known_keys("cache", table, _CACHE_KEYS)
    directory = (
        Path(reader.text("cache.dir", table["dir"])).expanduser()
        if "dir" in table
        else default_cache_dir(environ)
    )
    max_size = reader.number("cache.max_size_mb", table.get("max_size_mb", DEFAULT_MAX_SIZE_MB))
    if not isinstance(max_size, int) or max_size <= 0:
        raise reader.error("cache.max_size_mb", "must be a whole number of megabytes above 0")
    ttl = reader.number(
        "cache.page_ttl_seconds", table.get("page_ttl_seconds", DEFAULT_PAGE_TTL_SECONDS)
    )
    return CacheSettings(dir=directory, max_size_mb=max_size, page_ttl_seconds=float(ttl))


def default_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``downloads`` in ``ANYA_CACHE_DIR`` when set, else in the user cache directory: one
    cache for every environment of this user, so a wheel is fetched once."""
    env = os.environ if environ is None else environ
    configured = env.get(CACHE_DIR_ENV)
    if configured:
        return Path(configured).expanduser() / "downloads"
    import platformdirs

    return platformdirs.user_cache_path("anya") / "downloads"


class _Reader(SectionReader):
    """The shared section checks, plus index URLs."""

    def __init__(self, origins: Origins | None) -> None:
        super().__init__("sources", origins, SourcesConfigError)

    def url(self, key: str, value: Any) -> str:
        text = self.text(key, value)
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise self.error(
                key,
                f"{text!r} is not an http(s) URL",
                hint="write the index's simple URL, e.g. http://127.0.0.1:3141/anya/primary/+simple/",
            )
        return text if text.endswith("/") else f"{text}/"

    def url_list(self, key: str, value: Any) -> list[str]:
        items = self.items(key, value)
        return [self.url(f"{key}[{index}]", item) for index, item in enumerate(items)]
