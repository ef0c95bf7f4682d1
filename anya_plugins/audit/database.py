"""What an advisory database is: where it lives, how many records it holds and how old it is.

The age of a database is the age of its newest record (OSV's ``modified``), not of the file:
a copy carried into an air-gapped site is as old as the day it was downloaded elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from anya_plugins.audit.errors import AdvisoryDatabaseError

_SECONDS_A_DAY = 86400


@dataclass(frozen=True)
class DatabaseSummary:
    """One advisory database as the gate and ``anya-ext audit --update`` report it."""

    path: str
    records: int
    newest_modified: datetime | None
    """The latest ``modified`` of any record (UTC); None when no record says."""

    def age_days(self, now: datetime | None = None) -> float | None:
        """Days from the newest record to ``now`` (default: the current time)."""
        if self.newest_modified is None:
            return None
        moment = now or datetime.now(UTC)
        return (moment - self.newest_modified).total_seconds() / _SECONDS_A_DAY

    def is_older_than(self, days: int, now: datetime | None = None) -> bool:
        """Whether the newest record is more than ``days`` old; a database whose records carry
        no date at all counts as old."""
        age = self.age_days(now)
        return age is None or age > days

    def describe(self, now: datetime | None = None) -> str:
        """``PATH (N records, newest modified 2026-11-01, 3 days old)``."""
        age = self.age_days(now)
        if self.newest_modified is None or age is None:
            dated = "no record says when it was modified"
        else:
            dated = f"newest modified {self.newest_modified.date().isoformat()}, {_days(age)} old"
        return f"{self.path} ({self.records} records, {dated})"


def modified_time(record: Mapping[str, Any], source: str) -> datetime:
    """A record's ``modified`` (RFC 3339, as the OSV schema requires) in UTC;
    AdvisoryDatabaseError when it is missing or not a timestamp."""
    value = record.get("modified")
    if not isinstance(value, str) or not value:
        raise AdvisoryDatabaseError(source, "modified is missing or not a string", hint=_HINT)
    moment = parse_timestamp(value)
    if moment is None:
        raise AdvisoryDatabaseError(
            source, f"modified {value!r} is not an RFC 3339 timestamp", hint=_HINT
        )
    return moment


def parse_timestamp(value: object) -> datetime | None:
    """An RFC 3339 timestamp in UTC (one without a zone is taken as UTC); None if it is not one."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def newer(current: datetime | None, candidate: datetime | None) -> datetime | None:
    """The later of two moments, either of which may be unknown."""
    if current is None or (candidate is not None and candidate > current):
        return candidate
    return current


def _days(age: float) -> str:
    whole = max(0, int(age))
    return "1 day" if whole == 1 else f"{whole} days"


_HINT = "the advisories must be OSV JSON records (https://ossf.github.io/osv-schema/)"
