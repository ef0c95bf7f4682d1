"""Sending queued events to the registry: ``POST <registry>/+analytics/events``, in batches.

The request carries the batch and nothing else: no credentials (the source URL's
``user:password@`` is removed), no cookies; the User-Agent is the generic
``anya-plugins`` one. A batch leaves the queue only once the registry accepted it (2xx) or
refused it as malformed (400: resending cannot help); otherwise (offline, 5xx) it stays for
the next command.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from anya_plugins.analytics.events import MAX_BATCH, batch_document
from anya_plugins.analytics.queue import EventQueue

EVENTS_PATH: Final = "/+analytics/events"
TIMEOUT_SECONDS: Final = 5.0
_SIMPLE_SUFFIX = re.compile(r"/[^/]+/[^/]+/\+simple/?$")


@dataclass(frozen=True)
class SendResult:
    sent: int
    """Events the registry accepted."""
    pending: int
    """Events still queued."""
    url: str
    error: str | None = None


def registry_root(simple_url: str) -> str | None:
    """The registry a devpi-style source URL (``<root>/<user>/<index>/+simple/``) belongs to,
    without credentials; None for another shape (then ``analytics.url`` must say)."""
    from anya_plugins.sources.credentials import split_credentials

    url = split_credentials(simple_url)[0]
    match = _SIMPLE_SUFFIX.search(url)
    return url[: match.start()] if match else None


def send_queued(
    registry: str,
    installation_id: str,
    queue: EventQueue,
    *,
    environ: Mapping[str, str] | None = None,
    timeout: float = TIMEOUT_SECONDS,
) -> SendResult:
    """Send what is queued, a batch at a time, until the queue is empty or a batch fails."""
    from anya_plugins.sources.credentials import split_credentials
    from anya_plugins.sources.tls import ssl_context

    url = split_credentials(registry)[0].rstrip("/") + EVENTS_PATH
    opener = urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=ssl_context(environ=environ))
    )
    sent = 0
    while batch := queue.peek(MAX_BATCH):
        body = json.dumps(batch_document(installation_id, batch)).encode()
        request = urllib.request.Request(
            url, data=body, method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "anya-plugins"},
        )  # fmt: skip
        try:
            with opener.open(request, timeout=timeout) as response:
                response.read()
        except urllib.error.HTTPError as refused:
            if refused.code == 400:
                queue.drop(len(batch))
            return SendResult(sent, len(queue), url, f"HTTP {refused.code} {refused.reason}")
        except (OSError, ValueError) as failed:
            return SendResult(sent, len(queue), url, str(failed))
        queue.drop(len(batch))
        sent += len(batch)
    return SendResult(sent, 0, url)
