"""A throwaway embedded registry for the benchmarks: devpi with the Anya plugin and a layout.

Two indexes: ``bench/deps`` takes any wheel (``extensions = false``: the dependencies are
plain libraries, which an extension index refuses), and ``bench/primary`` takes extensions
only and serves ``bench/deps`` as its base, so one index URL serves an extension and its
dependencies, as a real primary index with a public base would.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from anya_plugins.registry.devpi import Credentials, DevpiClient, apply_layout
from anya_plugins.registry.layout import parse_layout

USER = "bench"
PASSWORD = "bench-password-not-secret"
DEPS_INDEX = "bench/deps"
EXTENSIONS_INDEX = "bench/primary"
LAYOUT = f"""
[users.{USER}]
password = "{PASSWORD}"

[indexes."{DEPS_INDEX}"]
title = "Benchmark dependencies"
acl_upload = ["{USER}"]
extensions = false

[indexes."{EXTENSIONS_INDEX}"]
title = "Benchmark extensions"
bases = ["{DEPS_INDEX}"]
acl_upload = ["{USER}"]
"""


@dataclass(frozen=True)
class BenchRegistry:
    url: str
    state_dir: Path
    admin: Credentials

    @property
    def credentials(self) -> Credentials:
        return Credentials(USER, PASSWORD)

    def simple_url(self, index: str = EXTENSIONS_INDEX) -> str:
        return f"{self.url}/{index}/+simple/"

    def client(self) -> DevpiClient:
        client = DevpiClient(self.url)
        client.login(self.admin)
        return client


def start_registry(state_dir: Path, layout: str = LAYOUT) -> BenchRegistry:
    """Start devpi on a free port of 127.0.0.1 and apply ``layout`` (TOML; applying it
    again to a restarted registry changes nothing)."""
    from anya_plugins.registry import server

    running = server.start(state_dir)
    try:
        apply_layout(running.url, parse_layout(layout, source="bench layout"), running.admin)
    except BaseException:
        server.stop(state_dir)
        raise
    return BenchRegistry(running.url, running.state_dir, running.admin)


def stop_registry(registry: BenchRegistry) -> None:
    from anya_plugins.registry import server

    server.stop(registry.state_dir)


@contextmanager
def running_registry(state_dir: Path, layout: str = LAYOUT) -> Iterator[BenchRegistry]:
    registry = start_registry(state_dir, layout)
    try:
        yield registry
    finally:
        stop_registry(registry)


@contextmanager
def given_or_own(shared: BenchRegistry | None, state_dir: Path) -> Iterator[BenchRegistry]:
    """``shared`` when a whole run passes one in (each devpi start costs seconds), else a
    registry of the section's own."""
    if shared is not None:
        yield shared
        return
    with running_registry(state_dir) as own:
        yield own
