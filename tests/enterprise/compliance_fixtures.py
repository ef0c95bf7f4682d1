"""A devpi-server of its own for the audit trail and compliance tests (LDAP is not needed to
prove the trail): users ``dev`` (uploads to ``dev/private``), ``auditor`` (a reader of the
trail, as a ``security`` group member would be behind LDAP) and ``outsider``."""

from __future__ import annotations

import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import pytest

from anya_plugins.registry.audit_trail import trail_path
from anya_plugins.registry.devpi import Credentials, DevpiClient
from tests.upstream_index import plain_wheel

PASSWORDS = {"dev": "dev-secret-1", "auditor": "auditor-secret-2", "outsider": "outsider-secret-3"}
INDEX = "dev/private"
READERS = "root,auditor,:security"


@dataclass(frozen=True)
class TrailRegistry:
    url: str
    state_dir: Path
    admin: Credentials

    @property
    def trail(self) -> Path:
        from anya_plugins.registry.server import SERVER_DIR

        return trail_path(self.state_dir / SERVER_DIR)

    def credentials(self, user: str) -> Credentials:
        return self.admin if user == self.admin.user else Credentials(user, PASSWORDS[user])

    def client(self, user: str | None = None) -> DevpiClient:
        client = DevpiClient(self.url)
        if user is not None:
            client.login(self.credentials(user))
        return client

    def upload(self, wheel: Path, user: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "twine", "upload", "--non-interactive",
             "--disable-progress-bar", "--repository-url", f"{self.url}/{INDEX}/",
             "-u", user, "-p", PASSWORDS[user], str(wheel)],
            capture_output=True, text=True, check=False,
            env={"PATH": "/usr/bin:/bin", "HOME": str(self.state_dir)},
        )  # fmt: skip

    def download(self, filename: str) -> int:
        """GET the file the way pip would (anonymous); the HTTP status."""
        project = filename.split("-")[0]
        files = self.client().simple_project(INDEX, project)
        link = next(f["url"] for f in files["files"] if f["filename"] == filename)
        url = urljoin(f"{self.url}/{INDEX}/+simple/{project}/", link)
        try:
            with urllib.request.urlopen(url, timeout=30) as answer:
                answer.read()
                return int(answer.status)
        except urllib.error.HTTPError as error:
            return error.code


def make_wheel(directory: Path, name: str, version: str) -> Path:
    return plain_wheel(directory, name, version, modules={name.replace("-", "_"): "X = 1\n"})


@pytest.fixture(scope="session")
def trail_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrailRegistry]:
    from anya_plugins.registry import server

    state_dir = tmp_path_factory.mktemp("trail-registry")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DEVPISERVER_ANYA_AUDIT_READERS", READERS)
        running = server.start(state_dir)
    try:
        admin = DevpiClient(running.url)
        admin.login(running.admin)
        for user, password in PASSWORDS.items():
            admin.create_user(user, password)
        admin.create_index(INDEX, {"type": "stage", "bases": [], "acl_upload": ["dev"]})
        yield TrailRegistry(running.url, running.state_dir, running.admin)
    finally:
        server.stop(state_dir)
