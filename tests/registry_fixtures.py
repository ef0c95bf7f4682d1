"""One real devpi-server for the whole session, with the shipped layout applied to it (the
fixtures are registered in tests/conftest.py, so every test folder shares the one server).

The server is the embedded registry (``anya_plugins.registry.server``) on 127.0.0.1 and a
free port; uploads go through twine exactly as an author's release would.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest

from anya_plugins.registry.devpi import ApplyReport, Credentials, DevpiClient, apply_layout
from anya_plugins.registry.layout import Layout, load_layout
from tests.support import REPO
from tests.upstream_index import (
    StaticIndex,
    serve_static_index,
    upstream_wheels,
    write_simple_index,
)

LAYOUT_FILE = REPO / "index-config" / "layout.toml"

PASSWORDS = {
    "anya": "core-team-password",
    "community": "community-password",
    "acme": "acme-password",
}
ENVIRON = {f"ANYA_REGISTRY_{user.upper()}_PASSWORD": pw for user, pw in PASSWORDS.items()}
"""The environment the shipped layout reads its passwords (and its upstream URL) from."""
UPSTREAM_ENV = "ANYA_REGISTRY_UPSTREAM_URL"
"""Where the shipped layout's upstream mirror points: in tests, never the internet."""


@dataclass(frozen=True)
class Registry:
    """The session's running registry and what setting it up reported."""

    url: str
    state_dir: Path
    admin: Credentials
    layout: Layout
    first_apply: ApplyReport
    upstream: StaticIndex
    """The local stand-in for PyPI that the layout's ``anya/upstream`` mirror points at."""

    def credentials(self, user: str) -> Credentials:
        return Credentials(user, PASSWORDS[user])

    def client(self, user: str | None = None) -> DevpiClient:
        """A client signed in as ``user`` (root for "root"), anonymous for None."""
        client = DevpiClient(self.url)
        if user == self.admin.user:
            client.login(self.admin)
        elif user is not None:
            client.login(self.credentials(user))
        return client


class Upload(Protocol):
    def __call__(
        self,
        index: str,
        *files: Path,
        user: str | None,
        password: str | None = None,
        options: Sequence[str] = (),
    ) -> subprocess.CompletedProcess[str]: ...


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    from anya_plugins.registry import server

    upstream_root = tmp_path_factory.mktemp("upstream")
    wheels = upstream_wheels(tmp_path_factory.mktemp("upstream-wheels"))
    write_simple_index(upstream_root, wheels)
    state_dir = tmp_path_factory.mktemp("registry")
    with serve_static_index(upstream_root) as upstream_url:
        running = server.start(state_dir)
        try:
            layout = load_layout(LAYOUT_FILE)
            # Every later apply_layout(..., environ=ENVIRON) keeps the mirror pointing here.
            ENVIRON[UPSTREAM_ENV] = upstream_url
            report = apply_layout(running.url, layout, running.admin, environ=ENVIRON)
            upstream = StaticIndex(upstream_url, wheels)
            yield Registry(running.url, state_dir, running.admin, layout, report, upstream)
        finally:
            server.stop(state_dir)


@pytest.fixture(scope="session")
def upload(registry: Registry) -> Upload:
    """``twine upload`` of files to an index as a user (None: no credentials at all).

    ``options`` go to twine (e.g. ``--attestations``, which sends each file's
    ``<file>.*.attestation`` files given among ``files``).
    """

    def run(
        index: str,
        *files: Path,
        user: str | None,
        password: str | None = None,
        options: Sequence[str] = (),
    ) -> subprocess.CompletedProcess[str]:
        if user is None:
            credentials = ["-u", "", "-p", ""]
        else:
            credentials = ["-u", user, "-p", password or PASSWORDS[user]]
        return subprocess.run(
            [
                sys.executable, "-m", "twine", "upload", "--non-interactive",
                "--disable-progress-bar", "--repository-url", f"{registry.url}/{index}/",
                *credentials, *options, *(str(f) for f in files),
            ],
            capture_output=True,
            text=True,
            check=False,
            env={"PATH": "/usr/bin:/bin", "HOME": str(registry.state_dir)},
        )  # fmt: skip

    return run


def metadata_wheel(
    directory: Path,
    name: str,
    *,
    version: str = "0.1.0",
    summary: str = "An Anya extension.",
    category: str = "community/experimental",
    keywords: Sequence[str] = (),
) -> Path:
    """A wheel holding only its METADATA, which is all an index reads of it.

    For uploads whose summary or keywords matter; the extension template gives every
    extension the same summary. The host API range is the template's.
    """
    contract = (
        "anya-extension",
        f"anya-category:{category}",
        "anya-host-api:>=1.0",
        "anya-host-api:<2",
    )
    dist = name.replace("-", "_")
    path = directory / f"{dist}-{version}-py3-none-any.whl"
    text = (
        f"Metadata-Version: 2.4\nName: {name}\nVersion: {version}\nSummary: {summary}\n"
        f"Keywords: {','.join((*keywords, *contract))}\n"
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{dist}-{version}.dist-info/METADATA", text)
    return path
