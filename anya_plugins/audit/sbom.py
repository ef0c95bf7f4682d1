"""CycloneDX SBOMs of an environment or a resolved set, built with cyclonedx-python-lib: one
component per package with its purl, and the gate's findings as vulnerabilities."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Final

from anya_plugins.audit.vulnerabilities import Finding, Package

if TYPE_CHECKING:
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component
    from cyclonedx.model.vulnerability import Vulnerability

SPEC_VERSION: Final = "1.6"
ADVISORY_URL: Final = "https://osv.dev/vulnerability/"
"""osv.dev shows every id the findings carry: GHSA, PYSEC, CVE."""


def build_sbom(
    packages: Iterable[Package], findings: Iterable[Finding] = (), *, subject: str | None = None
) -> Bom:
    """A BOM listing ``packages`` and the ``findings`` against them.

    ``subject`` names what the BOM describes (an environment's path, an extension); it
    becomes the BOM's main component, on which every package is a dependency.
    """
    from cyclonedx.model.bom import Bom, BomMetaData
    from cyclonedx.model.component import Component, ComponentType

    from anya_plugins import __version__

    findings = tuple(findings)
    components: dict[tuple[str, str], Component] = {}
    for package in sorted({*packages, *(_package_of(finding) for finding in findings)}):
        components.setdefault(_key(package), _component(package))
    metadata = BomMetaData(
        component=Component(type=ComponentType.APPLICATION, name=subject) if subject else None
    )
    metadata.tools.components.add(
        Component(type=ComponentType.APPLICATION, name="anya-plugins", version=__version__)
    )
    vulnerabilities = [
        _vulnerability(finding, components[_key(_package_of(finding))]) for finding in findings
    ]
    bom = Bom(components=components.values(), metadata=metadata, vulnerabilities=vulnerabilities)
    if metadata.component is not None:
        bom.register_dependency(metadata.component, components.values())
    return bom


def sbom_json(
    packages: Iterable[Package],
    findings: Iterable[Finding] = (),
    *,
    subject: str | None = None,
    indent: int | None = 2,
) -> str:
    """The CycloneDX 1.6 JSON document of :func:`build_sbom`."""
    from cyclonedx.output.json import JsonV1Dot6

    return JsonV1Dot6(build_sbom(packages, findings, subject=subject)).output_as_string(
        indent=indent
    )


def purl(package: Package) -> str:
    """The package URL of a PyPI package: ``pkg:pypi/<normalised name>@<version>``."""
    from packageurl import PackageURL

    return str(PackageURL(type="pypi", name=package.canonical_name, version=package.version))


def _package_of(finding: Finding) -> Package:
    return Package(finding.package, finding.version)


def _key(package: Package) -> tuple[str, str]:
    return package.canonical_name, package.version


def _component(package: Package) -> Component:
    from cyclonedx.model.component import Component, ComponentType
    from packageurl import PackageURL

    locator = purl(package)
    return Component(
        type=ComponentType.LIBRARY,
        name=package.name,
        version=package.version,
        purl=PackageURL.from_string(locator),
        bom_ref=locator,
    )


def _vulnerability(finding: Finding, component: Component) -> Vulnerability:
    from cyclonedx.model import XsUri
    from cyclonedx.model.impact_analysis import ImpactAnalysisAffectedStatus
    from cyclonedx.model.vulnerability import (
        BomTarget,
        BomTargetVersionRange,
        Vulnerability,
        VulnerabilityRating,
        VulnerabilityReference,
        VulnerabilityScoreSource,
        VulnerabilitySeverity,
        VulnerabilitySource,
    )

    def source(advisory: str) -> VulnerabilitySource:
        return VulnerabilitySource(name="OSV", url=XsUri(f"{ADVISORY_URL}{advisory}"))

    ratings = []
    if finding.severity is not None:
        rating = finding.severity
        method = (
            VulnerabilityScoreSource.get_from_vector(rating.vector)
            if rating.vector
            else VulnerabilityScoreSource.OTHER
        )
        ratings.append(
            VulnerabilityRating(
                source=source(finding.advisory),
                score=Decimal(str(rating.score)) if rating.score is not None else None,
                severity=VulnerabilitySeverity(rating.level),
                method=method,
                vector=method.get_localised_vector(rating.vector) if rating.vector else None,
            )
        )
    return Vulnerability(
        bom_ref=f"{finding.advisory}/{component.bom_ref.value}",
        id=finding.advisory,
        source=source(finding.advisory),
        references=[
            VulnerabilityReference(id=alias, source=source(alias)) for alias in finding.aliases
        ],
        ratings=ratings,
        description=finding.summary or None,
        recommendation=(
            f"Upgrade {finding.package} to {finding.fixed_versions[0]} or later"
            if finding.fixed_versions
            else None
        ),
        affects=[
            BomTarget(
                ref=str(component.bom_ref.value),
                versions=[
                    BomTargetVersionRange(
                        version=finding.version, status=ImpactAnalysisAffectedStatus.AFFECTED
                    )
                ],
            )
        ],
    )
