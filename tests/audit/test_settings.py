"""The [audit] configuration section: defaults, every layer, errors naming the bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from anya_plugins.audit.settings import audit_log_path, load_audit_settings
from anya_plugins.audit.vulnerabilities import GatePolicy
from anya_plugins.config.layers import load_config
from anya_plugins.errors import ConfigError


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_live_in_the_data_directory(tmp_path: Path) -> None:
    config = load_config(tmp_path / "missing.toml", environ={})
    settings = load_audit_settings(config, environ={"ANYA_DATA_DIR": str(tmp_path / "data")})
    assert settings.advisories == tmp_path / "data" / "advisories" / "osv-pypi.zip"
    assert settings.log == tmp_path / "data" / "audit.jsonl"
    assert settings.policy == GatePolicy(max_severity="high", unknown_severity="critical")
    assert settings.require_database is False
    assert settings.max_database_age_days == 30


def test_file_values_are_read(tmp_path: Path) -> None:
    file = write(
        tmp_path / "extensions.toml",
        "[audit]\n"
        f'advisories = "{tmp_path}/osv"\n'
        'max_severity = "medium"\n'
        'unknown_severity = "low"\n'
        'ignore = ["GHSA-j8r2-6x86-q33q"]\n'
        f'log = "{tmp_path}/audit.jsonl"\n',
    )
    settings = load_audit_settings(load_config(file, environ={}), environ={})
    assert settings.advisories == tmp_path / "osv"
    assert settings.log == tmp_path / "audit.jsonl"
    assert settings.policy == GatePolicy(
        max_severity="medium", unknown_severity="low", ignore=("GHSA-j8r2-6x86-q33q",)
    )


def test_environment_values_are_typed_by_the_schema(tmp_path: Path) -> None:
    environ = {"ANYA_AUDIT__IGNORE": "GHSA-1,PYSEC-2", "ANYA_AUDIT__MAX_SEVERITY": "critical"}
    config = load_config(tmp_path / "missing.toml", environ=environ)
    policy = load_audit_settings(config, environ=environ).policy
    assert policy.ignore == ("GHSA-1", "PYSEC-2")
    assert policy.max_severity == "critical"


def test_unknown_level_names_the_key_and_the_line(tmp_path: Path) -> None:
    file = write(tmp_path / "extensions.toml", '[audit]\nmax_severity = "severe"\n')
    with pytest.raises(ConfigError, match=r"audit\.max_severity = 'severe' \(from file .*:2\)"):
        load_audit_settings(load_config(file, environ={}), environ={})


def test_unknown_key_is_refused(tmp_path: Path) -> None:
    file = write(tmp_path / "extensions.toml", '[audit]\nmax_severty = "high"\n')
    with pytest.raises(ConfigError, match=r"max_severty"):
        load_audit_settings(load_config(file, environ={}), environ={})


def test_audit_log_env_wins_over_the_config_key(tmp_path: Path) -> None:
    environ = {"ANYA_AUDIT_LOG": str(tmp_path / "env.jsonl")}
    assert audit_log_path(str(tmp_path / "file.jsonl"), environ=environ) == tmp_path / "env.jsonl"


def test_audit_log_config_key_wins_over_the_default(tmp_path: Path) -> None:
    environ = {"ANYA_DATA_DIR": str(tmp_path / "data")}
    assert audit_log_path("~/x.jsonl", environ=environ) == Path.home() / "x.jsonl"


def test_audit_log_defaults_to_the_user_data_dir() -> None:
    import platformdirs

    assert audit_log_path(environ={}) == platformdirs.user_data_path("anya") / "audit.jsonl"


def test_database_policy_is_read_from_the_file(tmp_path: Path) -> None:
    file = write(
        tmp_path / "extensions.toml",
        "[audit]\nrequire_database = true\nmax_database_age_days = 7\n",
    )
    settings = load_audit_settings(load_config(file, environ={}), environ={})
    assert settings.require_database is True
    assert settings.max_database_age_days == 7
    assert settings.policy == GatePolicy()


def test_database_policy_from_the_environment_is_typed_by_the_schema(tmp_path: Path) -> None:
    environ = {"ANYA_AUDIT__REQUIRE_DATABASE": "true", "ANYA_AUDIT__MAX_DATABASE_AGE_DAYS": "3"}
    settings = load_audit_settings(load_config(tmp_path / "missing.toml", environ=environ))
    assert (settings.require_database, settings.max_database_age_days) == (True, 3)


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ('require_database = "yes"', r"audit\.require_database = 'yes'"),
        ("max_database_age_days = 0", r"audit\.max_database_age_days = 0"),
    ],
)
def test_wrong_database_policy_names_the_key(tmp_path: Path, line: str, key: str) -> None:
    file = write(tmp_path / "extensions.toml", f"[audit]\n{line}\n")
    with pytest.raises(ConfigError, match=key):
        load_audit_settings(load_config(file, environ={}), environ={})
