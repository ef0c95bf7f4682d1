"""The month a report covers: ``YYYY-MM``, or ``previous`` (the month before today, as a
monthly timer asks on the 1st) and ``current``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from anya_plugins.compliance.errors import ComplianceError

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Period:
    label: str
    start: datetime
    """The first instant of the month (UTC)."""
    end: datetime
    """The first instant of the next month (UTC): the period is ``start <= t < end``."""

    def holds(self, time: str) -> bool:
        moment = datetime.fromisoformat(time)
        return self.start <= moment < self.end


def parse_period(text: str, *, now: datetime | None = None) -> Period:
    today = now or datetime.now(UTC)
    if text == "current":
        year, month = today.year, today.month
    elif text == "previous":
        year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    else:
        match = _MONTH.match(text)
        if match is None or not 1 <= int(match[2]) <= 12:
            raise ComplianceError(
                f"period {text!r} is not a month",
                hint="write YYYY-MM (e.g. 2026-10), 'previous' or 'current'",
            )
        year, month = int(match[1]), int(match[2])
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return Period(f"{year:04d}-{month:02d}", start, end)
