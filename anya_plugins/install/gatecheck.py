"""The vulnerability gate as an install check over the whole resolved set."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from anya_plugins.audit.settings import AuditSettings
from anya_plugins.audit.vulnerabilities import GateDecision, gate, resolved_packages, scan
from anya_plugins.install.transaction import Candidate, SetCheck

log = logging.getLogger(__name__)


def vulnerability_check(
    settings: AuditSettings, *, allow: Sequence[str], decisions: list[GateDecision]
) -> SetCheck:
    """Refuse the set when an advisory at or above ``audit.max_severity`` matches any of it.

    Without an advisory database there is nothing to check against: that is said, loudly,
    and ``anya-ext audit --update`` fetches one.
    """

    def check(candidates: Sequence[Candidate]) -> None:
        if not settings.advisories.exists():
            log.warning(
                "no advisory database at %s: the resolved set was not checked for known "
                "vulnerabilities (run 'anya-ext audit --update')",
                settings.advisories,
            )
            return
        from anya_plugins.audit.offline import OfflineOsvService

        packages = resolved_packages((c.pin.name, c.pin.version) for c in candidates)
        report = scan(packages, OfflineOsvService(settings.advisories))
        decision = gate(report.findings, settings.policy, allow=allow)
        decisions.append(decision)
        decision.enforce()

    return check
