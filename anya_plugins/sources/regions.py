"""Region-aware mirror choice: the nearest healthy, up-to-date mirror first.

```toml
[sources]
region = "eu"

[sources.primary.mirrors.eu]
urls = ["http://eu1.example/anya/primary/+simple/", "http://eu2.example/anya/primary/+simple/"]
[sources.primary.mirrors.us]
urls = ["http://us1.example/anya/primary/+simple/"]
```

When a source has mirrors grouped by region (or ``sources.region`` is set), the first request
of a run probes every URL at once (``HEAD``, short timeout) and orders them:

1. answering before not answering (no answer, or HTTP 5xx);
2. up to date before behind: devpi stamps every answer with its serial (``X-Devpi-Serial``,
   the same numbering on a primary and its replicas), so a mirror whose serial is below the
   freshest answering mirror's is a replica that stopped following (or has not caught up yet)
   and is used only when nothing fresher answers;
3. the configured region before the others;
4. lower latency first: measured now, averaged with what earlier runs measured.

Measurements are remembered in ``mirrors.json`` beside the download cache for
``sources.mirror_memory_seconds``: a mirror that failed is not probed again (and is tried
last) until its failure expires, so a dead mirror costs one timeout per expiry, not one per
run. Failing over during a run is :class:`MirrorSet`'s (a failed mirror also goes into
the memory).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from anya_plugins.sources.errors import TransportError

if TYPE_CHECKING:
    from anya_plugins.sources.http import HttpClient
    from anya_plugins.sources.settings import SourceSettings, SourcesSettings

SERIAL_HEADER = "x-devpi-serial"
MEMORY_FILE = "mirrors.json"
ORIGIN = "origin"
"""The region shown for a source's own ``url``."""


@dataclass(frozen=True)
class MirrorChoice:
    """One URL as the router sees it, and why it stands where it does."""

    url: str
    region: str
    up: bool
    latency_ms: float | None
    """What ordering used: measured now, averaged with the remembered value."""
    serial: int | None
    behind: int
    """Serials behind the freshest answering mirror (0: up to date)."""
    remembered: bool
    """Not probed now: its remembered failure has not expired."""
    reason: str


class MirrorMemory:
    """Latencies and failures measured by earlier runs, each kept for ``ttl`` seconds."""

    def __init__(self, path: Path | None, ttl: float) -> None:
        self.path = path
        self.ttl = ttl
        self.entries: dict[str, dict[str, float]] = {}
        if path is not None:
            try:
                data = json.loads(path.read_text())
            except (OSError, ValueError):
                data = {}
            if isinstance(data, dict):
                self.entries = {
                    str(url): {str(k): float(v) for k, v in entry.items()}
                    for url, entry in data.items()
                    if isinstance(entry, dict)
                }

    def failed_recently(self, url: str, now: float) -> float | None:
        """Seconds since ``url`` failed, while that failure is remembered."""
        entry = self.entries.get(url, {})
        failed = entry.get("failed_at")
        return now - failed if failed is not None and now - failed < self.ttl else None

    def latency(self, url: str, now: float) -> float | None:
        entry = self.entries.get(url, {})
        at, latency = entry.get("at"), entry.get("latency_ms")
        return latency if at is not None and latency is not None and now - at < self.ttl else None

    def record(self, url: str, latency_ms: float | None, now: float) -> None:
        """A measurement (None: it failed)."""
        if latency_ms is None:
            self.entries[url] = {**self.entries.get(url, {}), "failed_at": now}
        else:
            self.entries[url] = {"latency_ms": latency_ms, "at": now}

    def save(self) -> None:
        if self.path is None:
            return
        now = time.time()
        kept = {
            url: entry
            for url, entry in self.entries.items()
            if now - max(entry.get("at", 0.0), entry.get("failed_at", 0.0)) < self.ttl
        }
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}")
            temporary.write_text(json.dumps(kept, indent=1, sort_keys=True))
            temporary.replace(self.path)
        except OSError:
            pass  # a read-only cache costs only the memory, never the request


class RegionRouter:
    """Orders a source's URLs (see the module docstring)."""

    def __init__(
        self,
        regions: Mapping[str, str],
        home: str | None,
        memory: MirrorMemory,
    ) -> None:
        self.regions = dict(regions)
        """URL (with a trailing slash) -> its region."""
        self.home = home
        self.memory = memory

    @classmethod
    def for_source(cls, settings: SourcesSettings, source: SourceSettings) -> RegionRouter | None:
        """The router of ``source``, or None when it has no region-grouped mirrors and no
        region is configured (its URLs are then tried in the configured order)."""
        if not source.regions and settings.region is None:
            return None
        regions = {_slash(url): region for region, urls in source.regions for url in urls}
        memory = MirrorMemory(settings.cache.dir / MEMORY_FILE, settings.mirror_memory_seconds)
        return cls(regions, settings.region, memory)

    def remember_failure(self, url: str) -> None:
        """``url`` failed a request: tried last, and not probed, until the failure expires."""
        self.memory.record(url, None, time.time())
        self.memory.save()

    def region_of(self, url: str) -> str:
        return self.regions.get(_slash(url), ORIGIN)

    def choose(self, urls: Sequence[str], http: HttpClient, timeout: float) -> list[MirrorChoice]:
        """Probe ``urls`` at once and order them; the memory is updated and saved."""
        from concurrent.futures import ThreadPoolExecutor

        now = time.time()
        skipped = {url: self.memory.failed_recently(url, now) for url in urls}
        to_probe = [url for url in urls if skipped[url] is None]
        with ThreadPoolExecutor(max_workers=max(len(to_probe), 1)) as pool:
            results = pool.map(lambda u: _probe(http, u, timeout), to_probe)
            probed = dict(zip(to_probe, results, strict=True))
        for url, (latency, _, _) in probed.items():
            remembered = self.memory.latency(url, now)
            if latency is not None and remembered is not None:
                latency = (latency + remembered) / 2
            self.memory.record(url, latency, now)
        self.memory.save()
        serials = [s for latency, s, _ in probed.values() if latency is not None and s is not None]
        freshest = max(serials, default=None)
        choices = []
        for url in urls:
            region = self.region_of(url)
            if url not in probed:
                ago = skipped[url] or 0.0
                choices.append(
                    MirrorChoice(url, region, False, None, None, 0, True,
                                 f"failed {ago:.0f} s ago (remembered; probed again after "
                                 f"{self.memory.ttl - ago:.0f} s)")
                )  # fmt: skip
                continue
            _, serial, detail = probed[url]
            latency = self.memory.latency(url, now) if probed[url][0] is not None else None
            behind = freshest - serial if freshest is not None and serial is not None else 0
            choices.append(
                MirrorChoice(url, region, latency is not None, latency, serial, behind, False,
                             self._reason(region, latency, serial, behind, detail))
            )  # fmt: skip
        return sorted(choices, key=lambda c: self._rank(c, urls))

    def _rank(
        self, choice: MirrorChoice, urls: Sequence[str]
    ) -> tuple[bool, bool, bool, float, int]:
        away = self.home is not None and choice.region != self.home
        latency = choice.latency_ms if choice.latency_ms is not None else math.inf
        return (not choice.up, choice.behind > 0, away, latency, urls.index(choice.url))

    def _reason(
        self, region: str, latency: float | None, serial: int | None, behind: int, detail: str
    ) -> str:
        if latency is None:
            return f"down: {detail}"
        where = f"region {region}" + (
            " (this client's region)"
            if region == self.home
            else ""
            if self.home is None
            else f" (not {self.home})"
        )
        parts = [where, f"{latency:.1f} ms"]
        if serial is not None:
            parts.append(f"serial {serial}")
        if behind:
            parts.append(f"BEHIND by {behind} serials: used only when nothing fresher answers")
        return ", ".join(parts)


def _probe(http: HttpClient, url: str, timeout: float) -> tuple[float | None, int | None, str]:
    """(latency in ms or None when it failed, devpi serial, what was seen)."""
    started = time.perf_counter()
    try:
        status, headers = http.head_headers(url, timeout=timeout)
    except TransportError as error:
        return None, None, error.reason
    elapsed = (time.perf_counter() - started) * 1000
    if status >= 500:
        return None, None, f"HTTP {status}"
    value = headers.get(SERIAL_HEADER, "")
    return elapsed, int(value) if value.isdigit() else None, f"HTTP {status}"


def _slash(url: str) -> str:
    """``url`` as MirrorSet holds it: no ``user:password@``, a trailing slash."""
    parts = urlsplit(url)
    url = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    return url if url.endswith("/") else f"{url}/"


@dataclass(frozen=True)
class SourceMirrors:
    """One source's URLs in the order its client would use them."""

    name: str
    choices: tuple[MirrorChoice, ...]

    @property
    def chosen(self) -> str | None:
        return self.choices[0].url if self.choices and self.choices[0].up else None


@dataclass(frozen=True)
class MirrorsReport:
    """What ``anya-ext mirrors`` shows: the client's region and each source's order."""

    region: str | None
    sources: tuple[SourceMirrors, ...]


def explain(settings: SourcesSettings, source: str | None = None) -> MirrorsReport:
    """Probe every source's URLs (or ``source``'s) as a client run would, and say why each
    stands where it does; a source without regions is ordered by health, then as configured.
    The probe updates the latency memory like any run."""
    from anya_plugins.sources.http import HttpClient

    chosen = [settings.source(source)] if source is not None else list(settings.sources)
    results = []
    with HttpClient.from_settings(settings) as http:
        timeout = min(2.0, settings.timeout)
        for entry in chosen:
            urls = [_slash(http.take_credentials(url)) for url in entry.urls]
            router = RegionRouter.for_source(settings, entry)
            if router is not None:
                choices = router.choose(urls, http, timeout)
            else:  # MirrorSet's plain order: the first that answers, as configured
                plain = RegionRouter({}, None, MirrorMemory(None, settings.mirror_memory_seconds))
                choices = sorted(
                    plain.choose(urls, http, timeout), key=lambda c: (not c.up, urls.index(c.url))
                )
            results.append(SourceMirrors(entry.name, tuple(choices)))
    return MirrorsReport(settings.region, tuple(results))
