"""Trust that continues after install: the host refuses an extension whose files changed.

Each test installs a real extension from the session's devpi with the real CLI into its own
venv, changes (or does not change) an installed file, and asks ``anya-ext`` and the host.
The extension's plugin module leaves a marker file when it is imported, so "never imported"
is seen, not assumed.
"""

from __future__ import annotations

import os
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

from tests.registry_fixtures import Registry, Upload
from tests.support import (
    ExtensionBuilder,
    ExtensionSpec,
    Venv,
    VenvFactory,
    installing_unsigned_from,
)

pytestmark = pytest.mark.slow

NAME = "tamper-a"

PLUGIN_SOURCE = textwrap.dedent(
    """
    import os
    import pathlib

    NOTE = "original"
    _data = pathlib.Path(os.environ["ANYA_DATA_DIR"])
    _data.mkdir(parents=True, exist_ok=True)
    (_data / "tamper-a.imported").write_text(NOTE)
    """
)

SPEC = ExtensionSpec(NAME, category="core/bitcoin", plugin_source=PLUGIN_SOURCE)


@pytest.fixture(scope="module")
def published(registry: Registry, upload: Upload, build_extension: ExtensionBuilder) -> Registry:
    done = upload("anya/primary", build_extension(SPEC), user="anya")
    assert done.returncode == 0, done.stdout + done.stderr
    return registry


@pytest.fixture
def venv(published: Registry, make_venv: VenvFactory, tmp_path: Path) -> Venv:
    return installing_unsigned_from(make_venv(), published, tmp_path / "cache")


@pytest.fixture
def installed(venv: Venv) -> Venv:
    """``tamper-a`` installed by ``anya-ext install``, not imported yet."""
    done = venv.anya_ext("install", NAME)
    assert done.returncode == 0, done.stdout + done.stderr
    return venv


def _plugin_file(venv: Venv) -> Path:
    (plugin,) = venv.site_packages.glob("anya_ext_tamper_a*/plugin.py")
    return plugin


def _marker(venv: Venv) -> Path:
    return venv.home / "data" / "tamper-a.imported"


def _row(venv: Venv, **env: str) -> dict[str, object]:
    rows = {row["name"]: row for row in venv.anya_json("list", **env)}
    return rows[NAME]  # type: ignore[no-any-return]


def _doctor(venv: Venv, **env: str) -> subprocess.CompletedProcess[str]:
    return venv.anya_ext("doctor", **env)


def _edit_keeping_size(plugin: Path, *, in_place: bool = True) -> None:
    """In place, as an editor would: only in venvs that ``anya-ext install`` filled, whose
    uv cache is the venv's own (uv hard-links from its cache: writing through a link
    would change what every later install of the wheel gets)."""
    text = plugin.read_text()
    assert 'NOTE = "original"' in text
    edited = text.replace('NOTE = "original"', 'NOTE = "tampered"')
    if in_place:
        plugin.write_text(edited)
    else:
        replacement = plugin.with_suffix(".edited")
        replacement.write_text(edited)
        replacement.replace(plugin)


def _assert_refused_as_tampered(venv: Venv) -> None:
    row = _row(venv)
    assert row["status"] == "tampered"
    assert row["integrity"] == "tampered"
    assert "plugin.py changed since install" in str(row["error"])
    assert not _marker(venv).exists(), "the tampered extension was imported"
    doctor = _doctor(venv)
    assert doctor.returncode == 1, doctor.stdout
    failing = [line for line in doctor.stdout.splitlines() if "FAIL" in line]
    assert any(f"extension {NAME}" in line and "tampered" in line for line in failing), (
        doctor.stdout
    )
    assert not _marker(venv).exists(), "doctor imported the tampered extension"
    problems = venv.python_code(
        "from anya_plugins import Host\nprint(*(e.name for e in Host().problems))"
    )
    assert problems.stdout.split() == [NAME], problems.stdout + problems.stderr


def test_untouched_install_is_verified_loads_and_doctor_passes(installed: Venv) -> None:
    row = _row(installed)
    assert (row["status"], row["integrity"]) == ("active", "verified")
    assert _marker(installed).read_text() == "original"
    doctor = _doctor(installed)
    assert doctor.returncode == 0, doctor.stdout
    assert "verified" in doctor.stdout


def test_edit_of_the_same_size_is_tampered_and_never_imported(installed: Venv) -> None:
    plugin = _plugin_file(installed)
    size = plugin.stat().st_size
    _edit_keeping_size(plugin)
    assert plugin.stat().st_size == size
    _assert_refused_as_tampered(installed)


def test_edit_with_size_and_mtime_put_back_is_still_tampered(installed: Venv) -> None:
    plugin = _plugin_file(installed)
    before = plugin.stat()
    _edit_keeping_size(plugin)
    os.utime(plugin, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = plugin.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    _assert_refused_as_tampered(installed)


def test_edit_changing_the_size_is_tampered(installed: Venv) -> None:
    plugin = _plugin_file(installed)
    plugin.write_text(plugin.read_text() + "EXTRA = 1\n")
    _assert_refused_as_tampered(installed)


def test_deleted_file_is_tampered(installed: Venv) -> None:
    (module,) = installed.site_packages.glob("anya_ext_tamper_a*/__init__.py")
    module.unlink()
    row = _row(installed)
    assert row["status"] == "tampered"
    assert "__init__.py is missing since install" in str(row["error"])
    assert _doctor(installed).returncode == 1


def test_touching_only_the_mtime_keeps_it_verified(installed: Venv) -> None:
    plugin = _plugin_file(installed)
    later = plugin.stat().st_mtime_ns + 5_000_000_000
    os.utime(plugin, ns=(later, later))
    row = _row(installed)
    assert (row["status"], row["integrity"]) == ("active", "verified")
    assert _marker(installed).exists()
    assert _doctor(installed).returncode == 0


def _probe(call: str) -> str:
    """Python that makes a Host, calls ``host.<call>`` and prints the cache hit and status."""
    return (
        "from anya_plugins import Host\n"
        "host = Host()\n"
        f"host.{call}\n"
        f"print(host.cache_hit, host.get({NAME!r}).status)"
    )


def test_tampering_is_seen_with_a_warm_discovery_cache(installed: Venv) -> None:
    time.sleep(2.1)  # past the cache's racy window after the install's writes
    for _ in range(2):
        assert _row(installed)["status"] == "active"
        warming = installed.python_code(_probe("check_integrity()"))
    assert warming.stdout.split() == ["True", "enabled"], warming.stdout + warming.stderr
    _marker(installed).unlink()
    _edit_keeping_size(_plugin_file(installed))
    warm = installed.python_code(_probe(f"activate({NAME!r})"))
    assert warm.stdout.split() == ["True", "tampered"], warm.stdout + warm.stderr
    assert not _marker(installed).exists(), "Host.activate imported the tampered extension"
    _assert_refused_as_tampered(installed)


@pytest.fixture
def pip_installed(venv: Venv, build_extension: ExtensionBuilder) -> Venv:
    """``tamper-a`` installed by plain ``uv pip install``: no Anya receipt."""
    venv.install(build_extension(SPEC))
    return venv


def test_plain_pip_install_is_unverified_and_loads(pip_installed: Venv) -> None:
    row = _row(pip_installed)
    assert (row["status"], row["integrity"]) == ("active", "unverified")
    assert _marker(pip_installed).exists()
    table = pip_installed.anya_ext("list")
    assert "active (unverified)" in table.stdout, table.stdout
    assert _doctor(pip_installed).returncode == 0


def test_require_verified_refuses_a_plain_pip_install(pip_installed: Venv) -> None:
    row = _row(pip_installed, ANYA_HOST__REQUIRE_VERIFIED="true")
    assert row["status"] == "unverified"
    assert "host.require_verified" in str(row["error"])
    assert not _marker(pip_installed).exists(), "the unverified extension was imported"
    doctor = _doctor(pip_installed, ANYA_HOST__REQUIRE_VERIFIED="true")
    assert doctor.returncode == 1
    assert f"extension {NAME}" in doctor.stdout


def test_require_verified_from_the_file_lets_a_verified_install_load(installed: Venv) -> None:
    installed.config_file.parent.mkdir(parents=True, exist_ok=True)
    installed.config_file.write_text("[host]\nrequire_verified = true\n")
    row = _row(installed)
    assert (row["status"], row["integrity"]) == ("active", "verified")
    assert _marker(installed).exists()


def test_fingerprints_are_refused_for_files_that_differ_from_record_at_install(
    make_venv: VenvFactory, build_extension: ExtensionBuilder
) -> None:
    from anya_plugins.install.environment import TargetEnvironment
    from anya_plugins.install.receipts import InstalledFilesDiffer, write_all_fingerprints

    venv = make_venv(build_extension(SPEC))
    _edit_keeping_size(_plugin_file(venv), in_place=False)
    with pytest.raises(InstalledFilesDiffer, match=r"changed: .*plugin\.py"):
        write_all_fingerprints(TargetEnvironment.of(venv.python), ["anya-ext-tamper-a"])
