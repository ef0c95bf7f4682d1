"""Downloading osv.dev's PyPI advisories: stored whole once they read as OSV, else not at all."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from anya_plugins.audit.anchors import anchored_log, user_anchor
from anya_plugins.audit.errors import AdvisoryDatabaseError, AdvisoryServiceError
from anya_plugins.audit.log import verify_log
from anya_plugins.audit.offline import OfflineOsvService
from anya_plugins.audit.settings import AuditSettings
from anya_plugins.audit.update import refresh_advisories, update_advisories
from anya_plugins.audit.vulnerabilities import GatePolicy, Package, scan
from tests.audit.conftest import Serve


def test_unreachable_service_is_a_clear_error(unreachable_url: str, tmp_path: Path) -> None:
    dest = tmp_path / "osv-pypi.zip"
    with pytest.raises(AdvisoryServiceError, match=r"cannot connect") as raised:
        update_advisories(dest, url=unreachable_url, timeout=2)
    assert raised.value.url == unreachable_url
    assert raised.value.hint is not None
    assert "anya-ext audit --update --from FILE" in raised.value.hint
    assert not dest.exists()


def test_downloaded_zip_is_stored_and_scanned(
    serve: Serve, advisories_zip: Path, tmp_path: Path
) -> None:
    body = advisories_zip.read_bytes()
    dest = tmp_path / "data" / "osv-pypi.zip"
    url = serve(body, 200)
    update = update_advisories(dest, url=url, timeout=5)
    assert (update.records, update.size, update.origin) == (6, len(body), url)
    assert update.sha256 == hashlib.sha256(body).hexdigest()
    assert dest.read_bytes() == body
    report = scan([Package("pyyaml", "5.3.1")], OfflineOsvService(dest))
    assert [finding.advisory for finding in report.findings] == ["GHSA-8q59-q68h-6hv4"]


@pytest.mark.parametrize(
    ("status", "body", "problem"),
    [
        (503, b"busy", r"HTTP 503"),
        (200, b"<html>captive portal</html>", r"the download is not a zip of OSV records"),
    ],
)
def test_failed_download_keeps_the_old_advisories_and_leaves_nothing_behind(
    serve: Serve, advisories_zip: Path, tmp_path: Path, status: int, body: bytes, problem: str
) -> None:
    dest = tmp_path / "osv-pypi.zip"
    dest.write_bytes(advisories_zip.read_bytes())
    with pytest.raises(AdvisoryServiceError, match=problem):
        update_advisories(dest, url=serve(body, status), timeout=5)
    assert dest.read_bytes() == advisories_zip.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["all.zip", "osv-pypi.zip"]


def test_download_older_than_the_limit_is_refused_and_the_old_advisories_kept(
    serve: Serve, advisories_zip: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "osv-pypi.zip"
    dest.write_bytes(b"the advisories in use")
    now = datetime(2026, 12, 1, tzinfo=UTC)  # the newest test record is from 2026-04-01
    with pytest.raises(AdvisoryDatabaseError, match=r"modified 2026-04-01, 243 days ago"):
        update_advisories(
            dest, url=serve(advisories_zip.read_bytes(), 200), max_age_days=30, now=now
        )
    assert dest.read_bytes() == b"the advisories in use"
    update = update_advisories(
        dest, url=serve(advisories_zip.read_bytes(), 200), max_age_days=30, allow_old=True, now=now
    )
    assert update.allowed_old is True
    assert dest.read_bytes() == advisories_zip.read_bytes()


def test_an_advisories_update_moves_the_log_anchor_so_cutting_it_shows(
    advisories_zip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANYA_DATA_DIR", str(tmp_path / "data"))
    settings = AuditSettings(
        advisories=tmp_path / "osv-pypi.zip", log=tmp_path / "audit.jsonl", policy=GatePolicy()
    )
    anchored_log(settings.log).record("config-change", details={"key": "audit.advisories"})
    refresh_advisories(settings, from_file=advisories_zip, allow_old=True)
    lines = settings.log.read_bytes().splitlines(keepends=True)
    assert len(lines) == 2

    settings.log.write_bytes(lines[0])

    report = verify_log(settings.log, anchors=[user_anchor()])
    assert [(problem.kind, problem.message) for problem in report.problems] == [
        ("removed", f"entries #2 are missing from the end: the anchor {user_anchor()} records "
         f"entry #2 (hash {json.loads(lines[1])['hash']})"),
    ]  # fmt: skip
