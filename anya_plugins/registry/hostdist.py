"""anya-plugins on the registry: every extension requires it, so the registry serves it.

``registry up`` publishes the running anya-plugins to the layout's host index (an index
with ``extensions = false`` that the public indexes have as a base) unless that version is
already there. The wheel is one given explicitly, or, for a source checkout (an editable
install), one built from it with ``python -m build --no-isolation``. An installation from
a wheel keeps no wheel to publish: pass one (``registry up --host-wheel``).
"""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from anya_plugins.registry.devpi import Credentials, DevpiClient
from anya_plugins.registry.errors import DevpiError, RegistryError

HOST_DISTRIBUTION = "anya-plugins"
HOST_INDEX = "anya/host"
"""The shipped layout's index for anya-plugins (owner ``anya``)."""


@dataclass(frozen=True)
class HostPublication:
    """What publishing anya-plugins to the host index did."""

    index: str
    version: str
    published: bool
    """False when the index already had this version (nothing was uploaded)."""
    detail: str


def running_version() -> str:
    return importlib.metadata.version(HOST_DISTRIBUTION)


def publish_host(
    url: str,
    credentials: Credentials,
    *,
    index: str = HOST_INDEX,
    wheel: Path | None = None,
) -> HostPublication:
    """Upload anya-plugins (``wheel``, or one built from the source checkout) to ``index``."""
    version = _wheel_version(wheel) if wheel is not None else running_version()
    if _has_version(DevpiClient(url), index, version):
        return HostPublication(index, version, False, f"{HOST_DISTRIBUTION} {version} is there")
    from anya_plugins.publish.uploading import upload

    with tempfile.TemporaryDirectory(prefix="anya-host-wheel-") as tmp:
        chosen = wheel if wheel is not None else build_from_checkout(Path(tmp))
        upload([chosen], f"{url.rstrip('/')}/{index}/", credentials)
    return HostPublication(index, version, True, f"uploaded {chosen.name}")


def build_from_checkout(outdir: Path) -> Path:
    """A wheel of the running anya-plugins, built from the source tree it is installed from."""
    source = _editable_source()
    done = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(outdir),
         str(source)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    wheels = sorted(outdir.glob("*.whl"))
    if done.returncode != 0 or len(wheels) != 1:
        raise RegistryError(
            f"building anya-plugins from {source} failed:\n{(done.stderr or done.stdout).strip()}",
            hint="install the 'build' and 'hatchling' packages, or pass a wheel with --host-wheel",
        )
    return wheels[0]


def _editable_source() -> Path:
    distribution = importlib.metadata.distribution(HOST_DISTRIBUTION)
    text = distribution.read_text("direct_url.json")
    origin = json.loads(text) if text else {}
    url = str(origin.get("url", ""))
    if origin.get("dir_info", {}).get("editable") and url.startswith("file://"):
        return Path(urllib.request.url2pathname(urllib.parse.urlparse(url).path))
    raise RegistryError(
        f"{HOST_DISTRIBUTION} is installed from a wheel, which is not kept, and "
        f"{HOST_DISTRIBUTION} {running_version()} is not on the registry yet",
        hint="pass the wheel: anya-ext registry up --host-wheel anya_plugins-<version>-....whl",
    )


def _has_version(client: DevpiClient, index: str, version: str) -> bool:
    """On ``index`` itself: its bases (the upstream mirror among them) do not count."""
    if HOST_DISTRIBUTION not in client.projects(index):
        return False
    try:
        project = client.project(index, HOST_DISTRIBUTION)
    except DevpiError as exc:
        if exc.status == 404:
            return False
        raise
    return version in project


def _wheel_version(wheel: Path) -> str:
    parts = wheel.name.split("-")
    if len(parts) < 5 or not wheel.name.endswith(".whl"):
        raise RegistryError(f"{wheel} is not a wheel file name", hint="pass a .whl file")
    return parts[1]
