"""What the install summary says about the advisories: where, how many records, how old."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from anya_plugins.audit.database import DatabaseSummary
from anya_plugins.audit.offline import OfflineOsvService

NEWEST = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
"""The latest ``modified`` of the records in tests/audit/advisories."""


def test_database_is_dated_by_its_newest_record(advisories: Path, advisories_zip: Path) -> None:
    for path in (advisories, advisories_zip):
        summary = OfflineOsvService(path).summary()
        assert (summary.path, summary.records, summary.newest_modified) == (str(path), 6, NEWEST)


def test_description_gives_path_records_and_age(advisories_zip: Path) -> None:
    summary = OfflineOsvService(advisories_zip).summary()
    now = datetime(2026, 4, 11, 9, 0, tzinfo=UTC)
    assert summary.describe(now) == (
        f"{advisories_zip} (6 records, newest modified 2026-04-01, 10 days old)"
    )
    assert summary.is_older_than(9, now)
    assert not summary.is_older_than(10, now)


def test_record_with_a_malformed_date_still_counts_but_does_not_date_it(tmp_path: Path) -> None:
    base = {"id": "X-1", "affected": [{"package": {"ecosystem": "PyPI", "name": "demo"}}]}
    (tmp_path / "a.json").write_text(json.dumps({**base, "modified": "2026-01-02T00:00:00Z"}))
    (tmp_path / "b.json").write_text(json.dumps({**base, "id": "X-2", "modified": "soon"}))
    summary = OfflineOsvService(tmp_path).summary()
    assert summary.records == 2
    assert summary.newest_modified == datetime(2026, 1, 2, tzinfo=UTC)


def test_undated_database_counts_as_old() -> None:
    summary = DatabaseSummary("osv.zip", 3, None)
    assert summary.is_older_than(365)
    assert summary.describe() == "osv.zip (3 records, no record says when it was modified)"
