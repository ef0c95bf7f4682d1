"""Availability probes: is each registry endpoint answering? (``registry_availability``).

A probe is one HTTP ``HEAD`` with a short timeout, the way Prometheus's blackbox exporter
probes at scrape time: up when the answer comes back with a status below 400. ``HEAD``
because a mirror's upstream is usually a whole simple index (PyPI's ``/simple/`` is tens of
megabytes). All targets are probed at once, so a scrape waits at most one timeout.
"""

from __future__ import annotations

import base64
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

PROBE_TIMEOUT_SECONDS = 2.0
"""Well under Prometheus's default scrape timeout (10 s)."""


@dataclass(frozen=True)
class ProbeResult:
    """One target's answer: ``up``, and why not (the status or the error) when it is down."""

    target: str
    url: str
    up: bool
    detail: str


def probe(target: str, url: str, timeout: float = PROBE_TIMEOUT_SECONDS) -> ProbeResult:
    """``HEAD url``: up on a status below 400, down on anything else or no answer in time.

    A user and password in ``url`` (an upstream that wants them) are sent as Basic auth.
    """
    parts = urllib.parse.urlsplit(url)
    request = urllib.request.Request(without_credentials(url), method="HEAD")
    if parts.username is not None:
        pair = (
            f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
        )
        request.add_header("Authorization", "Basic " + base64.b64encode(pair.encode()).decode())
    # No proxy: the targets are what this server itself reaches (a machine-wide proxy
    # setting would probe the proxy instead).
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (OSError, ValueError) as exc:
        return ProbeResult(target, url, False, f"{type(exc).__name__}: {exc}")
    return ProbeResult(target, url, status < 400, f"HTTP {status}")


def probe_all(
    targets: Mapping[str, str], timeout: float = PROBE_TIMEOUT_SECONDS
) -> list[ProbeResult]:
    """Probe every ``{target: url}`` concurrently; results in the order of ``targets``."""
    if not targets:
        return []
    with ThreadPoolExecutor(max_workers=min(len(targets), 16)) as pool:
        futures = [pool.submit(probe, name, url, timeout) for name, url in targets.items()]
        return [future.result() for future in futures]


def without_credentials(url: str) -> str:
    """``url`` without ``user:password@``: what a request line or a metric label may show."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
