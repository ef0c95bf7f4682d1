"""The vulnerability gate as an install check over the environment the install would leave.

Checking only the files an install downloads misses the dependency that is already
installed: a new extension that pins a vulnerable version someone installed earlier would
download nothing vulnerable and pass. So the gate scans the *resulting* environment — what
is installed now, with the resolved set in place — and refuses when a finding at or above
``audit.max_severity`` is on a package the install brings in **or relies on** (the closure
of the candidates' requirements). A vulnerable package the install neither touches nor
depends on does not refuse an unrelated install: it is said in the install summary, and
``anya-ext audit`` fails on it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib.metadata import Distribution
from typing import Final

from packaging.utils import canonicalize_name

from anya_plugins.audit.errors import AdvisoryDatabaseError
from anya_plugins.audit.settings import AuditSettings
from anya_plugins.audit.vulnerabilities import GateDecision, gate, installed_packages, scan
from anya_plugins.install.environment import TargetEnvironment
from anya_plugins.install.transaction import Candidate, SetCheck

FETCH_HINT: Final = (
    "fetch the advisories with 'anya-ext audit --update', or, without a network, import a "
    "copy of osv.dev's PyPI/all.zip with 'anya-ext audit --update --from FILE'"
)


def vulnerability_check(
    settings: AuditSettings,
    env: TargetEnvironment,
    *,
    allow: Sequence[str],
    decisions: list[GateDecision],
    notes: list[str],
) -> SetCheck:
    """Refuse the set when an advisory at or above ``audit.max_severity`` matches a package the
    install brings into ``env`` or relies on there; ``allow`` accepts advisories for this
    install only. Every decision is kept in ``decisions``; ``notes`` gets the lines the install
    summary shows: which advisories were used and how old they are (or that there were none),
    what was accepted, and vulnerable packages this install does not touch.

    Without an advisory database the install is refused when ``audit.require_database`` is
    true, and otherwise carries on unchecked with a warning in ``notes``. A database that is
    there but cannot be read refuses either way: a damaged file must not switch the gate off.
    """

    def check(candidates: Sequence[Candidate]) -> None:
        if not candidates:
            return
        if not settings.advisories.exists():
            if settings.require_database:
                raise AdvisoryDatabaseError(
                    str(settings.advisories),
                    "no advisory database here, and audit.require_database = true refuses "
                    "to install what cannot be checked for known vulnerabilities",
                    hint=FETCH_HINT,
                )
            notes.append(
                f"warning: NOT checked for known vulnerabilities: no advisory database at "
                f"{settings.advisories} (audit.require_database = false); {FETCH_HINT}"
            )
            return
        from anya_plugins.audit.offline import OfflineOsvService

        resulting = _resulting_environment(env, candidates)
        needed = _needed_by(env, candidates, resulting)
        service = OfflineOsvService(settings.advisories)
        report = scan(installed_packages(resulting.values()), service)
        database = service.summary()
        notes.append(f"advisories: {database.describe()}")
        if database.is_older_than(settings.max_database_age_days):
            notes.append(
                f"warning: the advisories are older than audit.max_database_age_days = "
                f"{settings.max_database_age_days}: recent vulnerabilities are missed; "
                f"{FETCH_HINT}"
            )
        involved = [f for f in report.findings if canonicalize_name(f.package) in needed]
        untouched = [f for f in report.findings if canonicalize_name(f.package) not in needed]
        decision = gate(involved, settings.policy, allow=allow)
        decisions.append(decision)
        notes.extend(
            f"accepted: {item.finding.describe()} [{item.reason}]" for item in decision.overridden
        )
        notes.extend(
            f"warning: installed, and not used by this install: {finding.describe()} "
            "(see 'anya-ext audit')"
            for finding in gate(untouched, settings.policy, allow=allow).refused
        )
        brought = {candidate.pin.name for candidate in candidates}
        decision.enforce(
            context={
                name: "installed; the set being installed requires it" for name in needed - brought
            }
        )

    return check


def _resulting_environment(
    env: TargetEnvironment, candidates: Sequence[Candidate]
) -> dict[str, Distribution]:
    """What ``env`` would hold after the install, by canonical name: what is installed now,
    with each candidate (its wheel's metadata) in place of the version it replaces."""
    from anya_plugins.install.closure import wheel_distribution

    resulting = env.installed()
    resulting.update({c.pin.name: wheel_distribution(c.path) for c in candidates})
    return resulting


def _needed_by(
    env: TargetEnvironment,
    candidates: Sequence[Candidate],
    resulting: Mapping[str, Distribution],
) -> frozenset[str]:
    """The candidates and everything they require in the resulting environment, markers
    evaluated for the target interpreter. Which features of a candidate are switched on is
    not known here, so every feature of every candidate counts: the gate errs on refusing."""
    from anya_plugins.install.closure import marker_environment, requirement_closure

    roots = [
        (name, resulting[name].metadata.get_all("Provides-Extra") or ())
        for name in (candidate.pin.name for candidate in candidates)
    ]
    return frozenset(requirement_closure(roots, resulting, marker_environment(env)).names)
