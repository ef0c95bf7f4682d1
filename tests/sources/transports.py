"""Both transports under :class:`~anya_plugins.sources.http.HttpClient`: a test module that
imports these fixtures runs each test that asks for ``pooled`` (or ``http``) once over urllib3's
pools and once over the standard library's ``http.client``.

The fixtures' functions have names of their own (``both_transports``, ``http_over_both``), so
that importing them shadows nothing: a test asks for ``pooled`` or ``http``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from anya_plugins.sources.http import HttpClient
from tests.sources.conftest import TIMEOUT


@pytest.fixture(name="pooled", params=[True, False], ids=["pooled", "stdlib"])
def both_transports(request: pytest.FixtureRequest) -> bool:
    """The ``pooled`` argument of the HttpClient under test."""
    return bool(request.param)


@pytest.fixture(name="http")
def http_over_both(pooled: bool) -> Iterator[HttpClient]:
    with HttpClient(timeout=TIMEOUT, pooled=pooled) as client:
        yield client
