"""Mirrors: several URLs serving one index's content, tried in turn until one answers.

The first request probes the URLs (HEAD, short timeout) in the configured order and
puts the first that answers in front, so a dead primary costs one short probe, not a
full timeout on every request; the primary stays first whenever it answers. A single URL
is not probed: there is no other to put in front of it. A request
fails over on what leaves no answer (refused, timed out, dropped) and on HTTP 5xx; any
other status, 404 included, is the index's answer and is returned. A URL that failed
moves to the back of the order for the rest of the session.

With a :class:`RegionRouter` (mirrors grouped by region, see ``regions.py``) the first
request probes every URL at once and orders them by health, serial, region and latency
instead; a URL that fails is also remembered as failed across runs.

A mirror whose answer a check refused (:meth:`MirrorSet.distrust`: a page TUF does not
vouch for) goes behind every other mirror for the rest of the run, in every thread's copy
of the set: files and metadata come from the mirrors that served verified pages first.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Collection, Mapping, Sequence
from urllib.parse import urljoin, urlsplit

from anya_plugins import logs
from anya_plugins.sources.errors import Attempt, IndexUnreachable, TransportError
from anya_plugins.sources.http import HttpClient, HttpResponse

TYPE_CHECKING = False  # typing costs the start-up milliseconds
if TYPE_CHECKING:
    from typing import TypeVar

    from anya_plugins.sources.regions import MirrorChoice, RegionRouter

    T = TypeVar("T")

DEFAULT_PROBE_TIMEOUT = 2.0


class MirrorSet:
    """The base URLs of one index (the primary first) and the order in which to use them.

    It keeps state (the order, ``used_url``): use one per thread.
    """

    def __init__(
        self,
        urls: Sequence[str],
        *,
        http: HttpClient,
        probe_timeout: float = DEFAULT_PROBE_TIMEOUT,
        router: RegionRouter | None = None,
    ) -> None:
        if not urls:
            raise ValueError("a mirror set needs at least one URL")
        self.urls = tuple(dict.fromkeys(url if url.endswith("/") else f"{url}/" for url in urls))
        self.http = http
        self.probe_timeout = probe_timeout
        self.used_url: str | None = None
        """The URL that served the last successful request (for ``-v`` output)."""
        self._order: list[str] | None = None
        self.router = router
        self.choices: tuple[MirrorChoice, ...] = ()
        """The router's view of each URL after the probe (empty without a router)."""
        self.distrusted: set[str] = set()
        """Base URLs that served an answer a check refused; shared by copies of the set."""

    @property
    def primary(self) -> str:
        return self.urls[0]

    def order(self) -> tuple[str, ...]:
        """The base URLs in the order requests try them; the first call probes."""
        if self._order is None:
            self._order = self._probe()
        return tuple(sorted(self._order, key=lambda url: url in self.distrusted))

    def distrust(self, base: str) -> None:
        """``base`` served something a check refused: last for the rest of the run (in every
        copy of this set), and remembered as failed by the router."""
        self.distrusted.add(base)
        self._demote(base)

    def fetch(
        self,
        url: str,
        read: Callable[[HttpResponse], T],
        *,
        headers: Mapping[str, str] | None = None,
        read_timeout: float | None = None,
        exclude: Collection[str] = (),
    ) -> T:
        """GET ``url`` from the first mirror that answers and return ``read(response)``.

        ``url`` is relative to the base URLs, or absolute; an absolute URL under one
        mirror is requested from the others at the same relative place. ``read`` gets
        every response below 500 and may be called again, from the start, with the next
        mirror's response when the body breaks off (a TransportError while reading).
        ``read_timeout`` replaces the client's timeout for each read (not for connecting).
        The mirrors whose base URL is in ``exclude`` are not asked.
        """
        attempts: list[Attempt] = []
        for base, candidate in self._candidates(url):
            if base is not None and base in exclude:
                continue
            try:
                with self.http.get(
                    candidate, headers=headers, read_timeout=read_timeout
                ) as response:
                    if response.status >= 500:
                        failure = f"HTTP {response.status} {response.reason}".rstrip()
                        attempts.append(Attempt(candidate, failure))
                        logs.info(__name__, "mirror %s answers %s", base or candidate, failure)
                        self._demote(base)
                        continue
                    result = read(response)
            except TransportError as exc:
                attempts.append(Attempt(candidate, exc.reason))
                logs.info(__name__, "mirror %s does not answer: %s", base or candidate, exc.reason)
                self._demote(base)
                continue
            logs.info(__name__, "GET %s: HTTP %d", response.url, response.status)
            self.used_url = response.url
            return result
        raise IndexUnreachable(f"GET {url}", attempts)

    def _candidates(self, url: str) -> list[tuple[str | None, str]]:
        """``url`` on each mirror, in order, with the mirror's base URL."""
        if not urlsplit(url).scheme:
            return [(base, urljoin(base, url)) for base in self.order()]
        origin = self.base_of(url)
        if origin is None:
            return [(None, url)]
        relative = _relative_reference(origin, url)
        return [(base, urljoin(base, relative)) for base in self.order()]

    def base_of(self, url: str) -> str | None:
        """The mirror ``url`` came from: same scheme and host, longest shared path."""
        target = urlsplit(url)
        same_host = [
            base
            for base in self.urls
            if (urlsplit(base).scheme, urlsplit(base).netloc) == (target.scheme, target.netloc)
        ]
        if not same_host:
            return None
        return max(
            same_host,
            key=lambda base: len(posixpath.commonpath([urlsplit(base).path, target.path])),
        )

    def _probe(self) -> list[str]:
        if self.router is not None:
            self.choices = tuple(self.router.choose(self.urls, self.http, self.probe_timeout))
            for choice in self.choices:
                logs.info(__name__, "mirror %s: %s", choice.url, choice.reason)
            return [choice.url for choice in self.choices]
        if len(self.urls) == 1:
            # nothing to put in front: the request itself finds out whether the URL answers
            return list(self.urls)
        failed: list[str] = []
        for index, url in enumerate(self.urls):
            try:
                status = self.http.head(url, timeout=self.probe_timeout)
            except TransportError as exc:
                logs.info(__name__, "mirror %s does not answer: %s", url, exc.reason)
                failed.append(url)
                continue
            if status >= 500:
                logs.info(__name__, "mirror %s answers HTTP %d", url, status)
                failed.append(url)
                continue
            return [url, *self.urls[index + 1 :], *failed]
        return failed

    def _demote(self, base: str | None) -> None:
        if base is not None:
            self._order = [url for url in self.order() if url != base] + [base]
            if self.router is not None:
                self.router.remember_failure(base)


def _relative_reference(base: str, url: str) -> str:
    """A reference that, joined to ``base``, gives ``url`` (same scheme and host assumed)."""
    base_path, target = urlsplit(base).path or "/", urlsplit(url)
    relative = posixpath.relpath(target.path or "/", base_path)
    if target.path.endswith("/") and not relative.endswith("/"):
        relative += "/"
    # "./" keeps a first segment with ':' in it from reading as a scheme
    return f"./{relative}" + (f"?{target.query}" if target.query else "")
