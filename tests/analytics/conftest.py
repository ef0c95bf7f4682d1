"""Extensions on the session registry for the analytics and recommendation tests, and a
client for the registry's analytics views.

The names start with ``anya-ext-an-`` (no other test module uses them), so a report grouped
by extension shows only what these tests sent, whatever else the session did.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from anya_plugins.analytics.events import EventKind, UsageEvent, batch_document, utc_day
from tests.registry_fixtures import Registry, Upload
from tests.support import ExtensionBuilder, ExtensionSpec, retag

PREFIX = "anya-ext-an-"
EXTENSIONS = {
    "wallet": "core/bitcoin",
    "lightning": "core/bitcoin",
    "tor": "core/bitcoin",
    "did": "core/web5",
    "vc": "core/web5",
    "model": "core/ml",
    "future": "core/ml",
    "winonly": "core/ml",
}
"""Short name -> category; ``future`` needs a host API this host does not offer and
``winonly`` is built for Windows only."""
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def dist(short: str) -> str:
    return PREFIX + short


@dataclass(frozen=True)
class Answer:
    status: int
    document: Any


def request(url: str, body: object | None = None, raw: bytes | None = None) -> Answer:
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    sent = urllib.request.Request(
        url, data=data, method="POST" if data is not None else "GET",
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )  # fmt: skip
    try:
        with _NO_PROXY.open(sent, timeout=30) as response:
            status, text = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read()
    try:
        return Answer(status, json.loads(text))
    except ValueError:
        return Answer(status, text.decode())


def new_id() -> str:
    return uuid.uuid4().hex


def event(kind: EventKind, short: str, *, success: bool = True, version: str = "1.0.0",
          platform: str = "linux-x86_64", day: str | None = None) -> UsageEvent:  # fmt: skip
    return UsageEvent(
        day or utc_day(),
        kind,
        dist(short),
        version,
        "primary",
        platform,
        success,
    )


def send(registry: Registry, installation: str, *events: UsageEvent) -> Answer:
    return request(f"{registry.url}/+analytics/events", batch_document(installation, events))


@pytest.fixture(scope="session")
def analytics_registry(
    registry: Registry, upload: Upload, build_extension: ExtensionBuilder
) -> Registry:
    """The session registry with the :data:`EXTENSIONS` on ``anya/primary``."""
    for short, category in EXTENSIONS.items():
        host_api = ("99", "100") if short == "future" else None
        wheel = build_extension(ExtensionSpec(f"an-{short}", category=category, host_api=host_api))
        if short == "winonly":
            wheel = retag(wheel, "win_amd64")
        done = upload("anya/primary", wheel, user="anya")
        assert done.returncode == 0, done.stdout + done.stderr
    return registry
