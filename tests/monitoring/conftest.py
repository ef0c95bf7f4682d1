"""A registry of its own for the monitoring tests: devpi with the plugin, a mirror index
``root/slow`` of an upstream whose files can be made slow, and two extra probe targets."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from anya_plugins.registry import server
from anya_plugins.registry.devpi import DevpiClient
from tests.monitoring.support import (
    SlowUpstream,
    free_port,
    serve_upstream,
    slow_upstream_files,
)

MIRROR = "root/slow"
VERSIONS = ("1.0", "1.1", "1.2", "2.0", "2.1", "2.2")
"""One file per download a test times (a mirrored file is fetched from upstream only once)."""
PROBE_USER, PROBE_SECRET = "prober", "s3cret-token"


@dataclass(frozen=True)
class MonitoredRegistry:
    url: str
    upstream: SlowUpstream
    edge_url: str
    """An ``--anya-probe`` target that answers (the upstream's index), with credentials."""
    gone_url: str
    """An ``--anya-probe`` target where nothing listens."""

    @property
    def host_port(self) -> str:
        return self.url.partition("://")[2]


@pytest.fixture(scope="session")
def monitored_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MonitoredRegistry]:
    state_dir = tmp_path_factory.mktemp("monitored-registry")
    with serve_upstream(SlowUpstream(slow_upstream_files(VERSIONS))) as upstream:
        gone_url = f"http://127.0.0.1:{free_port()}/"
        edge_url = upstream.url.replace("://", f"://{PROBE_USER}:{PROBE_SECRET}@")
        probes = f"edge={edge_url},gone={gone_url}"
        previous = os.environ.get("DEVPISERVER_ANYA_PROBE")
        os.environ["DEVPISERVER_ANYA_PROBE"] = probes  # read by the server at start-up
        try:
            running = server.start(state_dir)
        finally:
            if previous is None:
                del os.environ["DEVPISERVER_ANYA_PROBE"]
            else:
                os.environ["DEVPISERVER_ANYA_PROBE"] = previous
        try:
            client = DevpiClient(running.url)
            client.login(running.admin)
            client.create_index(MIRROR, {"type": "mirror", "mirror_url": upstream.url})
            yield MonitoredRegistry(running.url, upstream, edge_url, gone_url)
        finally:
            server.stop(state_dir)
