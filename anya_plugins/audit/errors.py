"""Errors of the audit layer: the vulnerability gate and its advisories, and the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from anya_plugins.errors import AnyaError

if TYPE_CHECKING:
    from anya_plugins.audit.database import DatabaseSummary


class VulnerabilityGateError(AnyaError):
    """The vulnerability gate refused an install, or cannot read the advisories it needs."""

    exit_code = 13


class VulnerabilitiesRefused(VulnerabilityGateError):
    """Packages to be installed have known vulnerabilities at or above the configured severity."""

    def __init__(self, reasons: Sequence[str], *, limit: str, hint: str | None = None) -> None:
        lines = "\n".join(f"  {reason}" for reason in reasons)
        super().__init__(
            f"install refused: {len(reasons)} known "
            f"{'vulnerability' if len(reasons) == 1 else 'vulnerabilities'} "
            f"rated {limit} or worse:\n{lines}",
            hint=hint,
        )
        self.reasons = tuple(reasons)
        self.limit = limit


class AdvisoryDatabaseError(VulnerabilityGateError):
    """The advisory directory or zip is missing, unreadable, or holds a record that is not OSV."""

    def __init__(self, source: str, problem: str, *, hint: str | None = None) -> None:
        super().__init__(f"{source}: {problem}", hint=hint)
        self.source = source
        self.problem = problem


class AdvisoriesTooOld(AdvisoryDatabaseError):
    """An advisory database offered as an update is older than ``audit.max_database_age_days``."""

    def __init__(self, summary: DatabaseSummary, max_age_days: int, now: datetime | None) -> None:
        newest = summary.newest_modified
        super().__init__(
            summary.path,
            f"its newest record was modified {newest.date().isoformat() if newest else 'never'}, "
            f"{int(summary.age_days(now) or 0)} days ago: older than "
            f"audit.max_database_age_days = {max_age_days}",
            hint="download a fresh PyPI/all.zip from osv.dev; or, knowing that it misses "
            "recent advisories, pass --allow-old",
        )
        self.summary = summary
        self.max_age_days = max_age_days


class AdvisoryServiceError(VulnerabilityGateError):
    """An online advisory service (or the advisory download) could not be reached or answered
    with something unusable."""

    def __init__(self, url: str, problem: str, *, hint: str | None = None) -> None:
        super().__init__(f"{url}: {problem}", hint=hint)
        self.url = url
        self.problem = problem


class AuditLogError(AnyaError):
    """The audit log cannot be written or read, or its chain of hashes is broken."""

    exit_code = 14


class AuditLogTampered(AuditLogError):
    """Verification found entries that were edited, removed, inserted or reordered."""


class AuditLogTruncated(AuditLogError):
    """The log's last line is incomplete: a writer was killed mid-write. Not tampering."""
