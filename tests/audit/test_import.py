"""Importing an advisory database downloaded elsewhere (``anya-ext audit --update --from FILE``):
stored whole only when every record reads as OSV and the newest is recent enough."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from anya_plugins.audit.errors import AdvisoriesTooOld, AdvisoryDatabaseError
from anya_plugins.audit.log import read_log, verify_log
from anya_plugins.audit.offline import OfflineOsvService
from anya_plugins.audit.settings import AuditSettings
from anya_plugins.audit.update import import_advisories, refresh_advisories
from anya_plugins.audit.vulnerabilities import GatePolicy, Package, scan

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def record(
    advisory: str = "GHSA-test-0000-0001",
    *,
    modified: datetime | str | None = NOW - timedelta(days=2),
    package: str = "anya-ext-leaky",
    ecosystem: str = "PyPI",
) -> dict[str, Any]:
    """An OSV record affecting ``package`` below 1.1.0, last modified ``modified``."""
    data: dict[str, Any] = {
        "schema_version": "1.6.0",
        "id": advisory,
        "summary": f"{package} leaks keys",
        "affected": [
            {
                "package": {"ecosystem": ecosystem, "name": package},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.1.0"}]}
                ],
            }
        ],
    }
    if modified is not None:
        data["modified"] = modified if isinstance(modified, str) else modified.isoformat()
    return data


def osv_zip(path: Path, *records: dict[str, Any] | bytes) -> Path:
    """A zip like osv.dev's PyPI/all.zip: one ``<id>.json`` member per record (bytes: as is)."""
    with zipfile.ZipFile(path, "w") as archive:
        for number, item in enumerate(records):
            if isinstance(item, bytes):
                archive.writestr(f"broken-{number}.json", item)
            else:
                archive.writestr(f"{item.get('id', f'broken-{number}')}.json", json.dumps(item))
    return path


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    """Where audit.advisories points: a file in a directory that does not exist yet."""
    return tmp_path / "data" / "advisories" / "osv-pypi.zip"


def _leftovers(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir()) if directory.exists() else []


def test_imported_zip_is_stored_whole_and_scanned(tmp_path: Path, dest: Path) -> None:
    newest = NOW - timedelta(days=3)
    source = osv_zip(
        tmp_path / "all.zip",
        record("GHSA-test-0000-0001", modified=newest - timedelta(days=40)),
        record("GHSA-test-0000-0002", modified=newest, package="other"),
    )
    update = import_advisories(source, dest, max_age_days=30, now=NOW)
    assert dest.read_bytes() == source.read_bytes()
    assert (update.records, update.size, update.origin) == (2, source.stat().st_size, str(source))
    assert update.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    assert update.newest_modified == newest
    assert update.allowed_old is False
    report = scan([Package("anya-ext-leaky", "1.0.0")], OfflineOsvService(dest))
    assert [finding.advisory for finding in report.findings] == ["GHSA-test-0000-0001"]
    assert _leftovers(dest.parent) == ["osv-pypi.zip"]


def test_database_older_than_the_limit_is_refused_and_the_old_one_kept(
    tmp_path: Path, dest: Path
) -> None:
    dest.parent.mkdir(parents=True)
    dest.write_bytes(b"the advisories in use")
    stale = osv_zip(tmp_path / "all.zip", record(modified=NOW - timedelta(days=45)))
    with pytest.raises(AdvisoriesTooOld, match=r"45 days ago.*max_database_age_days = 30") as e:
        import_advisories(stale, dest, max_age_days=30, now=NOW)
    assert e.value.exit_code == 13
    assert e.value.hint is not None and "--allow-old" in e.value.hint
    assert dest.read_bytes() == b"the advisories in use"
    assert _leftovers(dest.parent) == ["osv-pypi.zip"]


def test_allow_old_stores_an_old_database_and_says_so(tmp_path: Path, dest: Path) -> None:
    stale = osv_zip(tmp_path / "all.zip", record(modified=NOW - timedelta(days=45)))
    update = import_advisories(stale, dest, max_age_days=30, allow_old=True, now=NOW)
    assert update.allowed_old is True
    assert dest.read_bytes() == stale.read_bytes()


def test_date_without_a_zone_is_taken_as_utc(tmp_path: Path, dest: Path) -> None:
    source = osv_zip(tmp_path / "all.zip", record(modified="2026-11-30T12:00:00"))
    update = import_advisories(source, dest, max_age_days=30, now=NOW)
    assert update.newest_modified == datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


GOOD = record("GHSA-test-0000-0009")


@pytest.mark.parametrize(
    ("records", "problem"),
    [
        ((GOOD, record(modified=None)), r"GHSA-test-0000-0001\.json: modified is missing"),
        ((GOOD, record(modified="last tuesday")), r"modified 'last tuesday' is not an RFC 3339"),
        ((GOOD, {k: v for k, v in record().items() if k != "id"}), r"id is missing"),
        ((GOOD, {**record(), "affected": {"package": "x"}}), r"affected is not a JSON array"),
        ((GOOD, b"<html>captive portal</html>"), r"broken-1\.json: not JSON"),
        ((GOOD, b"[1, 2]"), r"broken-1\.json: the record is not a JSON object"),
        ((), r"holds no OSV records"),
        ((record(ecosystem="npm"),), r"none of its 1 records is about a PyPI package"),
    ],
    ids=[
        "no-modified", "bad-modified", "no-id", "bad-affected", "not-json", "not-an-object",
        "empty", "npm-only",
    ],
)  # fmt: skip
def test_zip_that_is_not_a_pypi_osv_database_is_refused_naming_the_member(
    tmp_path: Path, dest: Path, records: tuple[dict[str, Any] | bytes, ...], problem: str
) -> None:
    source = osv_zip(tmp_path / "all.zip", *records)
    with pytest.raises(AdvisoryDatabaseError, match=problem) as raised:
        import_advisories(source, dest, max_age_days=30, now=NOW)
    assert str(source) in raised.value.message
    assert not dest.exists()
    assert _leftovers(dest.parent) == []


def test_file_that_is_not_a_zip_is_refused(tmp_path: Path, dest: Path) -> None:
    source = tmp_path / "all.zip"
    source.write_bytes(b"<html>captive portal</html>")
    with pytest.raises(AdvisoryDatabaseError, match=r"all\.zip: not a zip file"):
        import_advisories(source, dest, max_age_days=30, now=NOW)
    assert not dest.exists()


def test_missing_file_is_a_clear_error(tmp_path: Path, dest: Path) -> None:
    with pytest.raises(AdvisoryDatabaseError, match=r"missing\.zip: cannot be imported"):
        import_advisories(tmp_path / "missing.zip", dest, max_age_days=30, now=NOW)


def _settings(tmp_path: Path, dest: Path, **overrides: Any) -> AuditSettings:
    return AuditSettings(
        advisories=dest, log=tmp_path / "audit.jsonl", policy=GatePolicy(), **overrides
    )


def test_refresh_from_a_file_is_recorded_in_the_audit_log(
    tmp_path: Path, dest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANYA_DATA_DIR", str(tmp_path / "data"))  # where its head is anchored
    source = osv_zip(tmp_path / "all.zip", record())
    settings = _settings(tmp_path, dest, max_database_age_days=7)
    update = refresh_advisories(settings, from_file=source, now=NOW)
    (entry,) = read_log(settings.log)
    assert entry.action == "advisories-update"
    assert entry.source == str(source)
    assert entry.hashes == {"osv-pypi.zip": f"sha256:{update.sha256}"}
    assert entry.details["records"] == 1
    assert entry.details["allowed_old"] is False
    assert verify_log(settings.log).ok


def test_refresh_applies_the_configured_maximum_age(tmp_path: Path, dest: Path) -> None:
    source = osv_zip(tmp_path / "all.zip", record(modified=NOW - timedelta(days=10)))
    settings = _settings(tmp_path, dest, max_database_age_days=7)
    with pytest.raises(AdvisoryDatabaseError, match=r"max_database_age_days = 7"):
        refresh_advisories(settings, from_file=source, now=NOW)
    assert not settings.log.exists()
    assert not dest.exists()


def test_refresh_refuses_to_overwrite_a_directory_of_advisories(
    tmp_path: Path, advisories: Path
) -> None:
    source = osv_zip(tmp_path / "all.zip", record())
    with pytest.raises(AdvisoryDatabaseError, match=r"is a directory of OSV files"):
        refresh_advisories(_settings(tmp_path, advisories), from_file=source, now=NOW)


def _anya_ext(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real CLI, with its own configuration file and data directory."""
    return subprocess.run(
        [sys.executable, "-m", "anya_plugins.cli.main", *args],
        capture_output=True,
        text=True,
        check=False,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "ANYA_CONFIG": str(tmp_path / "extensions.toml"),
            "ANYA_DATA_DIR": str(tmp_path / "data"),
        },
    )


def test_cli_imports_a_downloaded_database_into_the_configured_path(tmp_path: Path) -> None:
    fresh = datetime.now(UTC) - timedelta(days=1)
    source = osv_zip(tmp_path / "all.zip", record(modified=fresh, package="anya-ext-absent"))
    done = _anya_ext(tmp_path, "audit", "--update", "--from", str(source))
    assert done.returncode == 0, done.stderr
    stored = tmp_path / "data" / "advisories" / "osv-pypi.zip"
    assert stored.read_bytes() == source.read_bytes()
    assert f"advisories: 1 records from {source} stored in {stored}" in done.stdout
    assert "no known vulnerabilities" in done.stdout


def test_cli_refuses_an_old_database_unless_allowed(tmp_path: Path) -> None:
    (tmp_path / "extensions.toml").write_text("[audit]\nmax_database_age_days = 5\n")
    old = datetime.now(UTC) - timedelta(days=6)
    source = osv_zip(tmp_path / "all.zip", record(modified=old, package="anya-ext-absent"))
    refused = _anya_ext(tmp_path, "audit", "--update", "--from", str(source))
    assert refused.returncode == 13
    assert "max_database_age_days = 5" in refused.stderr
    assert "--allow-old" in refused.stderr
    assert _leftovers(tmp_path / "data" / "advisories") == []
    allowed = _anya_ext(
        tmp_path, "--json", "audit", "--update", "--from", str(source), "--allow-old"
    )
    assert allowed.returncode == 0, allowed.stderr
    assert json.loads(allowed.stdout)["update"]["allowed_old"] is True


def test_cli_from_without_update_is_a_usage_error(tmp_path: Path) -> None:
    done = _anya_ext(tmp_path, "audit", "--from", str(tmp_path / "all.zip"))
    assert done.returncode == 2
    assert "--from and --allow-old go with --update" in done.stderr
