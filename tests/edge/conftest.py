"""One registry topology for the module that uses it: a primary devpi with the Anya plugin,
two replicas following it (devpi's own replication) and an nginx edge in front of each node,
all on 127.0.0.1 and free ports (``registry.topology``). Starting it costs three devpi
start-ups (the replicas in parallel), so it is started once and the tests that stop nodes
come last in their module."""

from __future__ import annotations

import hashlib
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from anya_plugins.publish.uploading import upload
from anya_plugins.registry import server, topology
from anya_plugins.registry.devpi import Credentials, apply_layout
from anya_plugins.registry.layout import parse_layout

PUBLIC = "edge/public"
PRIVATE = "edge/private"
UPLOADER = Credentials("edge", "edge-uploader-password")
MEMBER = Credentials("member", "member-password")
LAYOUT = f"""
[users.{UPLOADER.user}]
password = "{UPLOADER.password}"

[users.{MEMBER.user}]
password = "{MEMBER.password}"

[indexes."{PUBLIC}"]
title = "Public packages behind the edge"
acl_upload = ["{UPLOADER.user}"]
extensions = false

[indexes."{PRIVATE}"]
title = "Private packages behind the edge"
acl_upload = ["{UPLOADER.user}"]
acl_read = ["{MEMBER.user}", "{UPLOADER.user}"]
extensions = false
"""

needs_nginx = pytest.mark.skipif(
    shutil.which("nginx") is None and not Path("/usr/sbin/nginx").is_file(),
    reason="nginx is not installed (apt-get install nginx-light)",
)


@dataclass(frozen=True)
class Topology:
    state_dir: Path
    wheels: Path
    """Where the tests write the wheels they upload."""

    def status(self) -> topology.TopologyStatus:
        return topology.status(self.state_dir)

    def node(self, name: str) -> topology.NodeStatus:
        return next(node for node in self.status().nodes if node.name == name)

    def spec(self, name: str) -> topology.NodeSpec:
        return next(spec for spec in topology.load(self.state_dir) if spec.name == name)

    @property
    def primary_url(self) -> str:
        return str(server.status(self.state_dir).url)

    def publish(self, index: str, wheel: Path) -> None:
        upload([wheel], f"{self.primary_url}/{index}/", UPLOADER)


def make_wheel(directory: Path, name: str, version: str, size: int = 2000) -> Path:
    """A pure-Python wheel whose module holds ``size`` random bytes (stored, not compressed:
    the file is that large)."""
    import os

    project = name.replace("-", "_")
    dist_info = f"{project}-{version}.dist-info"
    files = {
        f"{project}/__init__.py": f"VERSION = {version!r}\n".encode(),
        f"{project}/data.bin": os.urandom(size),
        f"{dist_info}/METADATA": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
        ),
        f"{dist_info}/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: anya-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = [f"{path},sha256={_urlsafe_sha256(data)},{len(data)}" for path, data in files.items()]
    files[f"{dist_info}/RECORD"] = ("\n".join([*record, f"{dist_info}/RECORD,,"]) + "\n").encode()
    target = directory / f"{project}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return target


def _urlsafe_sha256(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def edge_topology(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    state_dir = tmp_path_factory.mktemp("topology")
    wheels = tmp_path_factory.mktemp("edge-wheels")
    running = server.start(state_dir)
    try:
        apply_layout(running.url, parse_layout(LAYOUT, source="edge test layout"), running.admin)
        built = Topology(state_dir, wheels)
        built.publish(PUBLIC, make_wheel(wheels, "edge-pkg", "1.0"))
        built.publish(PRIVATE, make_wheel(wheels, "secret-pkg", "1.0"))
        # a replica's first sync took 20 s to 3 min on the shared 2-core machine under load
        topology.start_nodes(state_dir, 2, edge=True, sync_timeout=300)
        yield built
    finally:
        topology.stop_nodes(state_dir)
