"""Installed files are re-checked against RECORD: real wheels, really installed in a venv."""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

import pytest

from anya_plugins.trust.errors import InstalledFilesUnverifiable
from anya_plugins.trust.installed import Tampering, verify_installed
from tests.support import REPO, ExtensionBuilder, ExtensionSpec, Venv, VenvFactory

SEALED, TAMPERED, REWRITTEN = "sealed", "tampered", "rewritten"


@pytest.fixture(scope="module")
def venv(build_extension: ExtensionBuilder, make_venv: VenvFactory) -> Venv:
    """One venv holding three extensions; each test changes at most its own."""
    return make_venv(
        *(build_extension(ExtensionSpec(name)) for name in (SEALED, TAMPERED, REWRITTEN))
    )


def installed(venv: Venv, name: str) -> importlib.metadata.Distribution:
    (dist,) = importlib.metadata.distributions(
        name=f"anya-ext-{name}", path=[str(venv.site_packages)]
    )
    return dist


def package_dir(venv: Venv, name: str) -> Path:
    return venv.site_packages / f"anya_ext_{name}"


@pytest.mark.slow
def test_a_fresh_install_is_intact(venv: Venv) -> None:
    report = verify_installed(installed(venv, SEALED))

    assert report.intact, report.findings
    assert report.checked >= 3
    assert any(path.endswith(".dist-info/RECORD") for path in report.skipped)


@pytest.mark.slow
def test_a_changed_a_missing_and_an_added_file_are_each_named(venv: Venv) -> None:
    package = package_dir(venv, TAMPERED)
    with (package / "__init__.py").open("a") as init:
        init.write("import os  # planted\n")
    (package / "plugin.py").unlink()
    (package / "backdoor.py").write_text("STOLEN = []\n")

    report = verify_installed(installed(venv, TAMPERED))

    assert {(finding.kind, finding.path) for finding in report.findings} == {
        (Tampering.CHANGED, "anya_ext_tampered/__init__.py"),
        (Tampering.MISSING, "anya_ext_tampered/plugin.py"),
        (Tampering.ADDED, "anya_ext_tampered/backdoor.py"),
    }
    (changed,) = report.of_kind(Tampering.CHANGED)
    assert changed.expected is not None and changed.expected.startswith("sha256=")
    assert changed.found is not None and changed.found != changed.expected
    listed_only = verify_installed(installed(venv, TAMPERED), look_for_added=False)
    assert {finding.kind for finding in listed_only.findings} == {
        Tampering.CHANGED,
        Tampering.MISSING,
    }


@pytest.mark.slow
def test_a_rewritten_record_shows_in_its_hash(venv: Venv) -> None:
    dist = installed(venv, REWRITTEN)
    before = verify_installed(dist).record_sha256
    (record,) = [entry for entry in dist.files or () if entry.name == "RECORD"]
    record_path = Path(str(record.locate()))

    record_path.write_text(record_path.read_text() + "anya_ext_rewritten/extra.py,,\n")

    after = verify_installed(dist).record_sha256
    assert before is not None and after is not None and after != before


BACKPORT_CHECK = """
import json, sys
from pathlib import Path
import importlib.metadata
import importlib_metadata  # as keyring imports it: it takes over distribution discovery

from anya_plugins.trust.installed import verify_installed

(dist,) = importlib.metadata.distributions(name="anya-ext-gone", path=[sys.argv[1]])
report = verify_installed(dist)
print(json.dumps({
    "dist": type(dist).__module__,
    "files": sorted(str(path) for path in dist.files or ()),
    "findings": sorted([finding.kind.value, finding.path] for finding in report.findings),
}))
"""


def test_a_deleted_file_is_missing_even_where_importlib_metadata_hides_it(
    tmp_path: Path,
) -> None:
    """The backport of importlib.metadata, once imported (keyring imports it), answers
    ``importlib.metadata.distributions()`` and leaves deleted files out of ``files``."""
    site = tmp_path / "site-packages"
    info = site / "anya_ext_gone-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: anya-ext-gone\nVersion: 1.0\n")
    lines = ["anya_ext_gone-1.0.dist-info/METADATA,,", "anya_ext_gone-1.0.dist-info/RECORD,,"]
    (site / "anya_ext_gone").mkdir()
    for name in ("__init__.py", "plugin.py"):
        content = f"# {name}\n".encode()
        (site / "anya_ext_gone" / name).write_bytes(content)
        digest = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=")
        lines.append(f"anya_ext_gone/{name},sha256={digest.decode()},{len(content)}")
    (info / "RECORD").write_text("\n".join(lines) + "\n")
    (site / "anya_ext_gone" / "plugin.py").unlink()

    done = subprocess.run(
        [sys.executable, "-c", BACKPORT_CHECK, str(site)],
        capture_output=True, text=True, check=True, cwd=REPO,
    )  # fmt: skip

    result = json.loads(done.stdout)
    assert result["dist"] == "importlib_metadata"
    assert "anya_ext_gone/plugin.py" not in result["files"], "the backport lists it: recheck"
    assert result["findings"] == [["missing", "anya_ext_gone/plugin.py"]]


def test_a_distribution_without_record_cannot_be_checked(tmp_path: Path) -> None:
    info = tmp_path / "anya_ext_bare-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: anya-ext-bare\nVersion: 1.0\n")

    with pytest.raises(InstalledFilesUnverifiable, match=r"^anya-ext-bare in .* has no RECORD"):
        verify_installed(importlib.metadata.PathDistribution(info))
