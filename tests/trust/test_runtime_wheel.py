"""The runtime wheel carries no signing service: the local Sigstore is its own distribution.

Users install ``anya-plugins``; the OIDC issuer, Fulcio, Rekor and CT log the tests, the demo
and the benchmarks sign with live in ``sigstore-local/`` (``anya-sigstore-local``).
"""

from __future__ import annotations

import zipfile
from email.parser import HeaderParser
from pathlib import Path

import pytest

from tests.support import REPO, build_wheel

LOCAL_SIGSTORE_NAMES = ("anya_sigstore_local", "local_instance", "anya-sigstore-local")


def wheel_files(wheel: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(wheel) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_runtime_wheel_holds_no_local_sigstore_module(anya_wheel: Path) -> None:
    files = wheel_files(anya_wheel)

    assert any(name.startswith("anya_plugins/trust/") for name in files)
    assert [name for name in files if any(n in name for n in LOCAL_SIGSTORE_NAMES)] == []


def test_no_runtime_module_imports_or_requires_the_local_sigstore(anya_wheel: Path) -> None:
    files = wheel_files(anya_wheel)
    (metadata_name,) = [name for name in files if name.endswith(".dist-info/METADATA")]
    metadata = HeaderParser().parsestr(files[metadata_name].decode())

    mentions = [
        name
        for name, content in files.items()
        if name.endswith(".py") and any(n.encode() in content for n in LOCAL_SIGSTORE_NAMES)
    ]
    requirements = metadata.get_all("Requires-Dist") or []
    assert mentions == []
    assert [r for r in requirements if "sigstore-local" in r or "sigstore_local" in r] == []


@pytest.mark.slow
def test_the_local_sigstore_builds_into_its_own_wheel_with_its_command(tmp_path: Path) -> None:
    wheel = build_wheel(REPO / "sigstore-local", tmp_path)
    files = wheel_files(wheel)

    assert wheel.name.startswith("anya_sigstore_local-")
    assert "anya_sigstore_local/__main__.py" in files
    assert "anya_sigstore_local/py.typed" in files
    assert [name for name in files if name.startswith("anya_plugins/")] == []
