"""The registry's usage analytics, kept in one SQLite file in the server directory.

Two tables, both keyed by UTC day and both emptied of days older than the retention period on
every write:

* ``events``: what opted-in clients sent (:mod:`anya_plugins.analytics.events`):
  day, the random installation id, event kind, extension, version, source, platform, success.
  No address, user or host name is ever written (the request's are not read).
* ``downloads``: the registry's own count of release files served (``/+f/`` answered 200) per
  day, index and project; nothing about who downloaded.

Every report is an aggregate over installation ids with a minimum group size (:data:`MIN_GROUP`),
so no single installation's figures show. Python's sqlite3 is the only dependency; one
connection per store, serialized by a lock (devpi serves requests from threads).
"""

from __future__ import annotations

import datetime
import sqlite3
import threading
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from anya_plugins.analytics.events import UsageEvent
from anya_plugins.analytics.events import utc_day as today

__all__ = ["AnalyticsStore", "days_between", "first_day", "today"]

FILENAME: Final = "+anya-analytics.sqlite"
RETENTION_DAYS: Final = 90
"""Default days events and download counts are kept."""
MIN_GROUP: Final = 5
"""Default smallest number of distinct installations a reported figure may stem from."""
METRICS: Final = ("downloads", "installations", "updates", "uninstalls", "active_users")
GROUPINGS: Final = ("extension", "category", "platform", "source", "day")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    day TEXT NOT NULL, installation TEXT NOT NULL, event TEXT NOT NULL,
    extension TEXT NOT NULL, version TEXT NOT NULL, source TEXT NOT NULL,
    platform TEXT NOT NULL, success INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS events_day ON events(day);
CREATE TABLE IF NOT EXISTS downloads (
    day TEXT NOT NULL, idx TEXT NOT NULL, extension TEXT NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY (day, idx, extension));
"""


@dataclass(frozen=True)
class ReportRow:
    """One group's figures; a client-derived figure is None when fewer than the minimum group
    size of installations stand behind it (withheld)."""

    group: str
    downloads: int
    installations: int | None
    updates: int | None
    uninstalls: int | None
    active_users: int | None


@dataclass(frozen=True)
class SuccessRate:
    extension: str
    version: str
    platform: str
    rate: float
    attempts: int


@dataclass(frozen=True)
class CoInstallations:
    """How many opted-in installations hold each extension, and each pair together; only
    counts of at least the minimum group size."""

    installations: Mapping[str, int]
    pairs: Mapping[tuple[str, str], int]
    min_group: int


class AnalyticsStore:
    def __init__(
        self,
        path: Path,
        *,
        retention_days: int = RETENTION_DAYS,
        min_group: int = MIN_GROUP,
    ) -> None:
        self.path = path
        self.retention_days = retention_days
        self.min_group = min_group
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def add_events(self, installation: str, records: Sequence[UsageEvent]) -> int:
        """Store one client's batch; the number of events kept (those within retention)."""
        oldest = self._oldest_day()
        rows = [
            (r.day, installation, r.event, r.extension, r.version, r.source, r.platform,
             int(r.success))
            for r in records
            if r.day >= oldest
        ]  # fmt: skip
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
            self._expire(oldest)
            self._db.execute("COMMIT")
        return len(rows)

    def count_download(self, index: str, extension: str, day: str | None = None) -> None:
        day = day or today()
        with self._lock:
            self._db.execute(
                "INSERT INTO downloads VALUES (?, ?, ?, 1) ON CONFLICT (day, idx, extension) "
                "DO UPDATE SET count = count + 1",
                (day, index, extension),
            )

    def report(
        self,
        *,
        last_days: int,
        group_by: str,
        categories: Mapping[str, str],
        until: str | None = None,
    ) -> tuple[ReportRow, ...]:
        """Figures per group over the ``last_days`` days up to ``until`` (today)."""
        end = until or today()
        start = _shift(end, -(last_days - 1))
        events = self._events(start, end)
        downloads = self._downloads(start, end)
        key = _grouper(group_by, categories)
        per_group: dict[str, list[tuple[str, str, str, int]]] = defaultdict(list)
        for day, installation, event, extension, _version, source, platform, success in events:
            group = key(day=day, extension=extension, platform=platform, source=source)
            per_group[group].append((installation, event, extension, success))
        download_counts: Counter[str] = Counter()
        for day, extension, count in downloads:
            group = key(day=day, extension=extension, platform="", source="")
            download_counts[group] += count
        rows = []
        for group in sorted(set(per_group) | set(download_counts)):
            members = per_group.get(group, [])
            people = {installation for installation, *_ in members}
            shown = len(people) >= self.min_group

            def counted(kind: str, shown: bool = shown, members: list[tuple[str, str, str, int]]
                        = members) -> int | None:  # fmt: skip
                return sum(1 for m in members if m[1] == kind and m[3]) if shown else None

            rows.append(
                ReportRow(
                    group=group,
                    downloads=download_counts.get(group, 0),
                    installations=counted("install"),
                    updates=counted("update"),
                    uninstalls=counted("uninstall"),
                    active_users=len(people) if shown else None,
                )
            )
        return tuple(rows)

    def daily(
        self, *, last_days: int, group_by: str, categories: Mapping[str, str]
    ) -> dict[str, dict[str, dict[str, int]]]:
        """``{group: {"downloads"|"installations": {day: count}}}`` for charts; a group's
        installations only when at least the minimum group size of installations stand
        behind them over the period."""
        end = today()
        start = _shift(end, -(last_days - 1))
        key = _grouper(group_by, categories)
        series: dict[str, dict[str, dict[str, int]]] = defaultdict(
            lambda: {"downloads": {}, "installations": {}}
        )
        for day, extension, count in self._downloads(start, end):
            days = series[key(day=day, extension=extension, platform="", source="")]["downloads"]
            days[day] = days.get(day, 0) + count
        people: dict[str, set[str]] = defaultdict(set)
        installs: dict[str, Counter[str]] = defaultdict(Counter)
        for day, installation, event, extension, _v, source, platform, success in self._events(
            start, end
        ):
            group = key(day=day, extension=extension, platform=platform, source=source)
            people[group].add(installation)
            if event == "install" and success:
                installs[group][day] += 1
        for group, counts in installs.items():
            if len(people[group]) >= self.min_group:
                series[group]["installations"] = dict(counts)
        return dict(series)

    def success_rates(self, *, last_days: int = 30) -> tuple[SuccessRate, ...]:
        """Successful share of install and update attempts per extension, version and
        platform, for groups of at least the minimum size."""
        end = today()
        attempts: dict[tuple[str, str, str], list[int]] = defaultdict(list)
        people: dict[tuple[str, str, str], set[str]] = defaultdict(set)
        for _day, installation, event, extension, version, _s, platform, success in self._events(
            _shift(end, -(last_days - 1)), end
        ):
            if event in ("install", "update"):
                attempts[(extension, version, platform)].append(success)
                people[(extension, version, platform)].add(installation)
        return tuple(
            SuccessRate(ext, ver, plat, sum(results) / len(results), len(results))
            for (ext, ver, plat), results in sorted(attempts.items())
            if len(people[(ext, ver, plat)]) >= self.min_group
        )

    def co_installations(self) -> CoInstallations:
        """What each installation holds now, replayed from its kept events in order, counted
        per extension and per pair."""
        with self._lock:
            rows = self._db.execute(
                "SELECT installation, event, extension, success FROM events ORDER BY rowid"
            ).fetchall()
        held: dict[str, set[str]] = defaultdict(set)
        for installation, event, extension, success in rows:
            if not success:
                continue
            if event == "uninstall":
                held[installation].discard(extension)
            else:
                held[installation].add(extension)
        singles: Counter[str] = Counter()
        pairs: Counter[tuple[str, str]] = Counter()
        for extensions in held.values():
            ordered = sorted(extensions)
            singles.update(ordered)
            pairs.update((a, b) for i, a in enumerate(ordered) for b in ordered[i + 1 :])
        k = self.min_group
        return CoInstallations(
            installations={name: n for name, n in singles.items() if n >= k},
            pairs={pair: n for pair, n in pairs.items() if n >= k},
            min_group=k,
        )

    def _events(self, start: str, end: str) -> list[tuple[str, str, str, str, str, str, str, int]]:
        with self._lock:
            return self._db.execute(
                "SELECT day, installation, event, extension, version, source, platform, success "
                "FROM events WHERE day BETWEEN ? AND ?",
                (start, end),
            ).fetchall()

    def _downloads(self, start: str, end: str) -> list[tuple[str, str, int]]:
        with self._lock:
            return self._db.execute(
                "SELECT day, extension, count FROM downloads WHERE day BETWEEN ? AND ?",
                (start, end),
            ).fetchall()

    def _oldest_day(self) -> str:
        return _shift(today(), -(self.retention_days - 1))

    def _expire(self, oldest: str) -> None:
        self._db.execute("DELETE FROM events WHERE day < ?", (oldest,))
        self._db.execute("DELETE FROM downloads WHERE day < ?", (oldest,))


def first_day(last_days: int, end: str | None = None) -> str:
    """The first day of the ``last_days`` days ending with ``end`` (today)."""
    return _shift(end or today(), -(last_days - 1))


def _shift(day: str, days: int) -> str:
    return (datetime.date.fromisoformat(day) + datetime.timedelta(days=days)).isoformat()


def days_between(start: str, end: str) -> list[str]:
    first, last = datetime.date.fromisoformat(start), datetime.date.fromisoformat(end)
    return [
        (first + datetime.timedelta(days=n)).isoformat() for n in range((last - first).days + 1)
    ]


class _Grouper:
    def __init__(self, group_by: str, categories: Mapping[str, str]) -> None:
        self.group_by = group_by
        self.categories = categories

    def __call__(self, *, day: str, extension: str, platform: str, source: str) -> str:
        if self.group_by == "extension":
            return extension
        if self.group_by == "category":
            return self.categories.get(extension, "(uncategorized)")
        if self.group_by == "platform":
            return platform or "(not reported)"
        if self.group_by == "source":
            return source or "(not reported)"
        return day


def _grouper(group_by: str, categories: Mapping[str, str]) -> _Grouper:
    if group_by not in GROUPINGS:
        raise ValueError(f"group by one of {', '.join(GROUPINGS)}, not {group_by!r}")
    return _Grouper(group_by, categories)
