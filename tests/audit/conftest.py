"""OSV advisories written for these tests (tests/audit/advisories), as a directory and as a zip
like osv.dev's PyPI/all.zip, and findings to feed the gate."""

from __future__ import annotations

import socket
import threading
import zipfile
from collections.abc import Callable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import Distribution, distributions
from pathlib import Path

import pytest

from anya_plugins.audit.offline import OfflineOsvService
from anya_plugins.audit.severity import Severity, SeverityLevel
from anya_plugins.audit.vulnerabilities import Finding

ADVISORIES = Path(__file__).parent / "advisories"

FindingFactory = Callable[..., Finding]
Serve = Callable[[bytes, int], str]


@pytest.fixture
def advisories() -> Path:
    """A directory of OSV records, one a file, in sub-directories by database."""
    return ADVISORIES


@pytest.fixture
def advisories_zip(tmp_path: Path) -> Path:
    """The same records flat in a zip, as osv.dev publishes them."""
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for record in sorted(ADVISORIES.rglob("*.json")):
            zipped.write(record, record.name)
    return archive


def site_packages(directory: Path, pairs: Sequence[tuple[str, str]]) -> list[Distribution]:
    """Distributions as an installer leaves them: a ``.dist-info`` with METADATA for each pair."""
    for name, version in pairs:
        info = directory / f"{name}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    return list(distributions(path=[str(directory)]))


@pytest.fixture
def offline(advisories: Path) -> OfflineOsvService:
    return OfflineOsvService(advisories)


@pytest.fixture
def make_finding() -> FindingFactory:
    """A finding with a rating at ``level`` (None: unrated)."""

    def make(
        advisory: str = "GHSA-aaaa-bbbb-cccc",
        level: SeverityLevel | None = "high",
        *,
        package: str = "demo",
        aliases: tuple[str, ...] = (),
    ) -> Finding:
        return Finding(
            package=package,
            version="1.0",
            advisory=advisory,
            aliases=aliases,
            summary=f"{advisory} summary",
            severity=Severity(level, None, None, "database") if level else None,
            fixed_versions=("1.1",),
        )

    return make


@pytest.fixture
def unreachable_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: connections are refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/PyPI/all.zip"


@pytest.fixture
def serve() -> Iterator[Serve]:
    """``serve(body, status)`` starts a server on 127.0.0.1 answering every GET with them and
    returns a URL on it; servers stop when the test ends."""
    servers: list[ThreadingHTTPServer] = []

    def start(body: bytes, status: int = 200) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/PyPI/all.zip"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
