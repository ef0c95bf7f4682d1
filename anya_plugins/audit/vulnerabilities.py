"""The vulnerability gate: which packages have known vulnerabilities, and whether that refuses
an install.

Three steps, each a plain function over frozen data:

1. the packages: a resolved set of ``(name, version)`` pairs before an install
   (:func:`resolved_packages`) or what an environment holds (:func:`installed_packages`);
2. :func:`scan` asks an :class:`AdvisoryService` — offline OSV files
   (:class:`~anya_plugins.audit.offline.OfflineOsvService`) or osv.dev through pip-audit
   (:class:`~anya_plugins.audit.online.PipAuditService`) — and merges the findings that are
   aliases of one another (a PYSEC and a GHSA record of the same flaw);
3. :func:`gate` applies a :class:`GatePolicy`: findings at or above ``max_severity`` refuse
   the install unless ``ignore`` (configuration) or ``allow`` (this call) overrides them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from importlib.metadata import Distribution
from typing import Final

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from anya_plugins.audit import severity as ratings
from anya_plugins.audit.errors import VulnerabilitiesRefused
from anya_plugins.audit.severity import Severity, SeverityLevel, level_rank

DEFAULT_MAX_SEVERITY: Final[SeverityLevel] = "high"
DEFAULT_UNKNOWN_SEVERITY: Final[SeverityLevel] = "critical"


@dataclass(frozen=True, order=True)
class Package:
    """One distribution at one version, named as its metadata names it."""

    name: str
    version: str

    @property
    def canonical_name(self) -> str:
        return canonicalize_name(self.name)


@dataclass(frozen=True)
class Finding:
    """One known vulnerability of one package version."""

    package: str
    version: str
    advisory: str
    """The identifier the finding is reported under (one of the merged records' ids)."""
    aliases: tuple[str, ...]
    """Every other identifier of the same vulnerability (CVE, GHSA, PYSEC ...), sorted."""
    summary: str
    severity: Severity | None
    """The worst rating any merged record gives; None when no record rates it."""
    fixed_versions: tuple[str, ...]
    """Versions newer than ``version`` that fix it, lowest first; empty when none is known."""
    published: str | None = None

    @property
    def ids(self) -> frozenset[str]:
        return frozenset((self.advisory, *self.aliases))

    def describe(self) -> str:
        """One line for a person: package, advisory, rating, and the way out."""
        if self.severity is None:
            rated = "unrated"
        elif self.severity.score is None:
            rated = self.severity.level
        else:
            rated = f"{self.severity.level} {self.severity.score:.1f}"
        fix = f"; fixed in {', '.join(self.fixed_versions)}" if self.fixed_versions else "; no fix"
        return f"{self.package} {self.version}: {self.advisory} ({rated}) {self.summary}{fix}"


@dataclass(frozen=True)
class SkippedPackage:
    """A package that could not be checked, and why."""

    package: Package
    reason: str


@dataclass(frozen=True)
class ScanReport:
    """What :func:`scan` found; the ``--json`` output of ``anya-ext audit``."""

    service: str
    """Where the advisories came from: a directory, a zip or an online service's URL."""
    packages: tuple[Package, ...]
    findings: tuple[Finding, ...]
    skipped: tuple[SkippedPackage, ...] = ()

    def vulnerable(self) -> tuple[Package, ...]:
        """The packages with at least one finding, sorted."""
        names = {(finding.package, finding.version) for finding in self.findings}
        return tuple(
            package for package in self.packages if (package.name, package.version) in names
        )


class AdvisoryService(ABC):
    """Where advisories come from: the port every advisory adapter implements."""

    @property
    @abstractmethod
    def description(self) -> str:
        """What a person would look at to check the answer: a path or a URL."""

    @abstractmethod
    def query(self, package: Package, version: Version) -> list[Finding]:
        """Every advisory that affects ``package`` at ``version`` (its parsed version), unmerged.

        Raises :class:`~anya_plugins.audit.errors.VulnerabilityGateError` when the advisories
        cannot be read or the service cannot be reached: never an empty answer instead.
        """


def resolved_packages(pairs: Iterable[tuple[str, str]]) -> tuple[Package, ...]:
    """Packages from ``(name, version)`` pairs, such as a resolver's answer, sorted."""
    return tuple(sorted({Package(name, version) for name, version in pairs}))


def installed_packages(distributions: Iterable[Distribution]) -> tuple[Package, ...]:
    """The packages of installed distributions (``TargetEnvironment.installed().values()``, or
    ``importlib.metadata.distributions(path=...)``), sorted; the first of a name wins, as on
    ``sys.path``."""
    from anya_plugins.metadata.core_headers import name_and_version

    found: dict[str, Package] = {}
    for distribution in distributions:
        # the two fields, not the whole METADATA parsed twice (~0.8 ms per distribution)
        name, version = name_and_version(distribution)
        if name:
            found.setdefault(canonicalize_name(name), Package(name, version))
    return tuple(sorted(found.values()))


def scan(packages: Iterable[Package], service: AdvisoryService) -> ScanReport:
    """Ask ``service`` about each package; findings that alias each other become one."""
    checked = tuple(sorted(set(packages)))
    findings: list[Finding] = []
    skipped: list[SkippedPackage] = []
    for package in checked:
        try:
            version = Version(package.version)
        except InvalidVersion:
            skipped.append(SkippedPackage(package, f"{package.version!r} is not a PEP 440 version"))
            continue
        findings.extend(merge_aliases(service.query(package, version)))
    return ScanReport(
        service=service.description,
        packages=checked,
        findings=tuple(findings),
        skipped=tuple(skipped),
    )


def merge_aliases(findings: Sequence[Finding]) -> list[Finding]:
    """One finding per vulnerability of one package version: records whose ids or aliases
    overlap are merged, keeping the worst rating and every fixed version. The finding is
    reported under the id of the record that rated it (else the first id in sort order)."""
    groups: list[list[Finding]] = []
    for finding in findings:
        joined = [group for group in groups if any(finding.ids & other.ids for other in group)]
        merged = [finding, *(member for group in joined for member in group)]
        groups = [group for group in groups if group not in joined] + [merged]
    return sorted((_merged(group) for group in groups), key=lambda f: (f.package, f.advisory))


def _merged(group: Sequence[Finding]) -> Finding:
    lead = min(group, key=lambda finding: (finding.severity is None, finding.advisory))
    ids = frozenset().union(*(finding.ids for finding in group))
    fixed = {version for finding in group for version in finding.fixed_versions}
    return replace(
        lead,
        aliases=tuple(sorted(ids - {lead.advisory})),
        summary=lead.summary or next((f.summary for f in group if f.summary), ""),
        severity=ratings.highest(finding.severity for finding in group),
        fixed_versions=tuple(sorted(fixed, key=Version)),
        published=min((f.published for f in group if f.published), default=None),
    )


@dataclass(frozen=True)
class GatePolicy:
    """The ``[audit]`` rules the gate applies."""

    max_severity: SeverityLevel = DEFAULT_MAX_SEVERITY
    """Findings at or above this level refuse an install."""
    unknown_severity: SeverityLevel = DEFAULT_UNKNOWN_SEVERITY
    """The level assumed for a finding no advisory rates (by default: refuse it)."""
    ignore: tuple[str, ...] = ()
    """Advisory ids (or any of their aliases) accepted for good."""

    def level_of(self, finding: Finding) -> SeverityLevel:
        return finding.severity.level if finding.severity else self.unknown_severity

    def refuses(self, finding: Finding) -> bool:
        return level_rank(self.level_of(finding)) >= level_rank(self.max_severity)


@dataclass(frozen=True)
class Override:
    """A finding that would have refused the install, and what let it through."""

    finding: Finding
    reason: str


@dataclass(frozen=True)
class GateDecision:
    """The gate's answer: allowed or refused, and why, finding by finding."""

    allowed: bool
    refused: tuple[Finding, ...]
    """Findings at or above the limit that nothing overrides: why the install is refused."""
    overridden: tuple[Override, ...]
    """Findings at or above the limit that ``ignore`` or ``allow`` let through."""
    tolerated: tuple[Finding, ...]
    """Findings below the limit."""
    policy: GatePolicy

    def reasons(self) -> tuple[str, ...]:
        """One line per finding that decided the answer (refused, else overridden)."""
        if self.refused:
            return tuple(finding.describe() for finding in self.refused)
        return tuple(f"{item.finding.describe()} [{item.reason}]" for item in self.overridden)

    def enforce(self, context: Mapping[str, str] | None = None) -> None:
        """Raise :class:`~anya_plugins.audit.errors.VulnerabilitiesRefused` if the install is
        refused; ``context`` adds a word to the line of a package (by canonical name), such as
        why it is in the set."""
        if self.allowed:
            return
        said = context or {}
        ids = " ".join(finding.advisory for finding in self.refused)
        raise VulnerabilitiesRefused(
            tuple(
                f"{line} [{said[name]}]"
                if (name := canonicalize_name(finding.package)) in said
                else line
                for finding, line in zip(self.refused, self.reasons(), strict=True)
            ),
            limit=self.policy.max_severity,
            hint="upgrade to a fixed version; or, having read the advisories, accept them once "
            f"with --allow {ids}, or for good with audit.ignore",
        )


def gate(
    findings: Iterable[Finding], policy: GatePolicy, *, allow: Iterable[str] = ()
) -> GateDecision:
    """Decide an install: refused while any finding at or above ``policy.max_severity`` is not
    overridden by ``policy.ignore`` or by ``allow`` (ids accepted for this install only)."""
    ignored, allowed_now = frozenset(policy.ignore), frozenset(allow)
    refused: list[Finding] = []
    overridden: list[Override] = []
    tolerated: list[Finding] = []
    for finding in findings:
        if not policy.refuses(finding):
            tolerated.append(finding)
        elif matched := sorted(finding.ids & ignored):
            overridden.append(Override(finding, f"audit.ignore lists {', '.join(matched)}"))
        elif matched := sorted(finding.ids & allowed_now):
            overridden.append(Override(finding, f"allowed for this install: {', '.join(matched)}"))
        else:
            refused.append(finding)
    return GateDecision(
        allowed=not refused,
        refused=tuple(refused),
        overridden=tuple(overridden),
        tolerated=tuple(tolerated),
        policy=policy,
    )
