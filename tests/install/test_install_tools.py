"""Which tool resolves and installs (``[install] tool``), and how each is run and read.

The end-to-end behaviour of both tools against a real index is in
``test_install_from_registry.py`` (its key tests run once with uv and once with pip).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import uv as uv_package

from anya_plugins.config.layers import load_config
from anya_plugins.errors import ConfigError
from anya_plugins.install.installer import PipInstaller, UvInstaller
from anya_plugins.install.resolver import (
    UV_MINIMUM,
    Pin,
    PipResolver,
    ResolveRequest,
    ResolverFailed,
    UvResolver,
    find_uv,
    pip_plan,
    resolver_environment,
    uv_plan,
)
from anya_plugins.install.settings import (
    InstallSettings,
    InstallToolMissing,
    load_install_settings,
)


def _load(tmp_path: Path, text: str, **environ: str) -> InstallSettings:
    config_file = tmp_path / "extensions.toml"
    config_file.write_text(text)
    return load_install_settings(load_config(config_file, environ=environ))


def test_uv_is_the_default_tool(tmp_path: Path) -> None:
    settings = _load(tmp_path, "")
    assert settings.tool == "uv"
    assert isinstance(settings.resolver(), UvResolver)
    assert isinstance(settings.installer(), UvInstaller)


def test_the_environment_picks_pip_over_the_file(tmp_path: Path) -> None:
    settings = _load(tmp_path, '[install]\ntool = "uv"\n', ANYA_INSTALL__TOOL="pip")
    assert settings.tool == "pip"
    assert isinstance(settings.resolver(), PipResolver)
    assert isinstance(settings.installer(), PipInstaller)


def test_an_unknown_tool_is_a_config_error_naming_where_it_was_set(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        _load(tmp_path, '[install]\ntool = "poetry"\n')
    assert "install.tool" in raised.value.message
    assert f"{tmp_path / 'extensions.toml'}:2" in raised.value.message
    assert raised.value.exit_code == 4


def test_an_unknown_install_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="resolver"):
        _load(tmp_path, "[install]\nresolver = 'uv'\n")


def test_the_uv_found_is_the_one_anya_plugins_depends_on() -> None:
    assert find_uv() == uv_package.find_uv_bin()


def test_without_the_uv_dependency_uv_is_looked_for_on_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "uv", None)  # as if the uv wheel were not installed
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(InstallToolMissing) as raised:
        InstallSettings().resolver()
    assert raised.value.exit_code == 11
    assert 'tool = "pip"' in (raised.value.hint or "")
    assert isinstance(InstallSettings(tool="pip").installer(), PipInstaller)

    on_path = tmp_path / "uv"
    on_path.write_text("#!/bin/sh\n")
    on_path.chmod(0o755)
    assert find_uv() == str(on_path)


def test_the_uv_dependency_reports_its_plan_as_json() -> None:
    uv = find_uv()
    assert uv is not None
    help_text = subprocess.run(
        [uv, "pip", "install", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "--output-format" in help_text, f"the uv dependency predates {UV_MINIMUM}"


def test_the_resolver_ignores_uv_and_pip_settings_that_add_indexes() -> None:
    environ = {
        "PATH": "/usr/bin",
        "HTTPS_PROXY": "http://proxy.example:3128",
        "UV_EXTRA_INDEX_URL": "https://elsewhere.example/simple/",
        "UV_INDEX": "https://elsewhere.example/simple/",
        "UV_INDEX_STRATEGY": "unsafe-best-match",
        "UV_CONSTRAINT": "/tmp/constraints.txt",
        "PIP_EXTRA_INDEX_URL": "https://elsewhere.example/simple/",
        "PIP_FIND_LINKS": "/opt/wheels",
        "PIP_UPGRADE_STRATEGY": "eager",
        "PIP_CONFIG_FILE": "/etc/pip-with-extra-index.conf",
        "UV_CACHE_DIR": "/var/cache/uv",
    }
    assert resolver_environment(environ) == {
        "PATH": "/usr/bin",
        "HTTPS_PROXY": "http://proxy.example:3128",
        "UV_CACHE_DIR": "/var/cache/uv",
        "PIP_CONFIG_FILE": os.devnull,
    }


def _report(*changes: dict[str, object]) -> str:
    return json.dumps({"schema": {"version": "preview"}, "changes": list(changes), "dry_run": True})


def test_uv_plan_reads_what_would_be_installed() -> None:
    report = _report(
        {"name": "Anya_Ext.Ranger", "version": "1.0.0", "action": "uninstalled"},
        {"name": "Anya_Ext.Ranger", "version": "2.0.0", "action": "installed"},
        {"name": "anya-ext-torlib", "version": "1.0.0", "action": "reinstalled"},
    )
    assert uv_plan(report) == (Pin("anya-ext-ranger", "2.0.0"), Pin("anya-ext-torlib", "1.0.0"))


def test_uv_plan_of_a_satisfied_environment_is_empty() -> None:
    assert uv_plan(_report()) == ()


@pytest.mark.parametrize(
    "report",
    [
        "",
        " + anya-ext-ranger==2.0.0",
        json.dumps({"schema": {"version": "preview"}}),
        json.dumps([]),
        _report({"name": "anya-ext-ranger", "version": "2.0.0"}),
        _report({"name": "anya-ext-ranger", "version": 2, "action": "installed"}),
        _report({"name": "anya-ext-ranger", "version": "2.0.0", "action": "kept"}),
    ],
    ids=["empty", "text", "no-changes", "not-an-object", "no-action", "number", "unknown-action"],
)
def test_a_uv_plan_we_cannot_read_exactly_is_refused(report: str) -> None:
    with pytest.raises(ResolverFailed, match="uv's JSON plan could not be read"):
        uv_plan(report)


def test_pip_plan_reads_the_installation_report() -> None:
    report = json.dumps(
        {"version": "1", "install": [{"metadata": {"name": "Anya_Ext_Ranger", "version": "2.0.0"}}]}
    )
    assert pip_plan(report) == (Pin("anya-ext-ranger", "2.0.0"),)


def test_a_pip_report_we_cannot_read_is_refused() -> None:
    with pytest.raises(ResolverFailed, match="pip's report could not be read"):
        pip_plan(json.dumps({"version": "1"}))


def test_pip_chosen_for_an_environment_without_pip_says_so(tmp_path: Path) -> None:
    uv = find_uv()
    assert uv is not None
    subprocess.run(
        [uv, "venv", "--quiet", "--python", sys.executable, tmp_path / "bare"], check=True
    )
    request = ResolveRequest(
        ("anya-ext-ranger",), "http://127.0.0.1:9/simple/", tmp_path / "bare" / "bin" / "python"
    )
    with pytest.raises(ResolverFailed, match="has no pip to resolve with") as raised:
        PipResolver().resolve(request)
    assert 'tool = "uv"' in (raised.value.hint or "")
