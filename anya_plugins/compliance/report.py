"""A compliance report: one standard, one month, the evidence gathered and, per control, whether
it is supported or a gap (never hidden: a control without its evidence is listed as a gap)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from anya_plugins.compliance.controls import standard as standard_named
from anya_plugins.compliance.evidence import Evidence, EvidenceSources, gather_evidence
from anya_plugins.compliance.period import parse_period

ControlStatus = Literal["supported", "gap"]


@dataclass(frozen=True)
class ControlResult:
    id: str
    title: str
    evidence: tuple[str, ...]
    """The evidence kinds the controls table names for it."""
    status: ControlStatus
    gaps: tuple[str, ...]
    """Each missing evidence kind and why it is missing."""


@dataclass(frozen=True)
class ComplianceReport:
    standard: str
    standard_name: str
    period: str
    period_start: str
    period_end: str
    organization: str
    generated: str
    sources: dict[str, list[str]]
    controls: tuple[ControlResult, ...]
    evidence: tuple[Evidence, ...]

    @property
    def gaps(self) -> tuple[ControlResult, ...]:
        return tuple(control for control in self.controls if control.status == "gap")

    @property
    def supported(self) -> int:
        return len(self.controls) - len(self.gaps)


def build_report(
    standard: str,
    period: str,
    sources: EvidenceSources,
    *,
    organization: str = "",
    now: datetime | None = None,
) -> ComplianceReport:
    """The report of ``standard`` (SOC2, ISO27001, PCI-DSS) for ``period`` (YYYY-MM, previous,
    current) from ``sources``."""
    chosen = standard_named(standard)
    month = parse_period(period, now=now)
    evidence = gather_evidence(sources, month)
    by_kind = {item.kind: item for item in evidence}
    controls = []
    for control in chosen.controls:
        missing = [by_kind[kind] for kind in control.evidence if not by_kind[kind].present]
        controls.append(
            ControlResult(
                control.id,
                control.title,
                control.evidence,
                "gap" if missing else "supported",
                tuple(f"{item.kind}: {gap}" for item in missing for gap in item.gaps),
            )
        )
    return ComplianceReport(
        standard=chosen.id,
        standard_name=chosen.name,
        period=month.label,
        period_start=month.start.isoformat(),
        period_end=month.end.isoformat(),
        organization=organization,
        generated=(now or datetime.now(UTC)).isoformat(timespec="seconds"),
        sources={
            "server_trail": [str(sources.server_trail)] if sources.server_trail else [],
            "client_logs": [str(path) for path in sources.client_logs],
            "sboms": [str(path) for path in sources.sboms],
        },
        controls=tuple(controls),
        evidence=evidence,
    )
