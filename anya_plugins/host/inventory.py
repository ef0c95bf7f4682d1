"""Reports about installed extensions as data: what ``anya-ext list``, ``info``, ``doctor`` show.

``anya-ext list`` imports this module: importlib.metadata and packaging (about 60 ms) load
only for an extension that has features or platform tags to describe, or for ``doctor``.
"""

from __future__ import annotations

import functools

from anya_plugins.host.host import Host
from anya_plugins.host.record import ACTIVE, DISABLED, Extension, FeatureRecord
from anya_plugins.metadata.frozen import Frozen
from anya_plugins.metadata.names import canonical

TYPE_CHECKING = False  # typing costs the start-up ~3 ms
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import TypeAlias


class FeatureReport(Frozen):
    """One feature of an extension: whether it is in effect, its default, what it needs."""

    name: str
    enabled: bool
    default: bool
    requires: tuple[str, ...]
    enables: tuple[str, ...]

    def __init__(
        self,
        name: str,
        enabled: bool,
        default: bool,
        requires: tuple[str, ...],
        enables: tuple[str, ...],
    ) -> None:
        self._init(name, enabled, default, requires, enables)


class ExtensionReport(Frozen):
    """One row of ``anya-ext list`` and the body of ``anya-ext info``.

    ``integrity`` is verified (installed by Anya, files unchanged), unverified (no Anya
    receipt) or tampered.
    """

    name: str
    distribution: str
    version: str
    category: str
    status: str
    enabled_features: tuple[str, ...]
    summary: str
    host_api: str
    platforms: tuple[str, ...]
    wheel_tags: tuple[str, ...]
    features: tuple[FeatureReport, ...]
    entry_point: str
    location: str
    error: str
    traceback: str
    integrity: str

    def __init__(
        self,
        name: str,
        distribution: str,
        version: str,
        category: str,
        status: str,
        enabled_features: tuple[str, ...],
        summary: str = "",
        host_api: str = "",
        platforms: tuple[str, ...] = (),
        wheel_tags: tuple[str, ...] = (),
        features: tuple[FeatureReport, ...] = (),
        entry_point: str = "",
        location: str = "",
        error: str = "",
        traceback: str = "",
        integrity: str = "",
    ) -> None:
        # one dict display rather than _init's zip: ~1 ms of ``list`` at 1,000 extensions
        vars(self).update(
            {
                "name": name,
                "distribution": distribution,
                "version": version,
                "category": category,
                "status": status,
                "enabled_features": enabled_features,
                "summary": summary,
                "host_api": host_api,
                "platforms": platforms,
                "wheel_tags": wheel_tags,
                "features": features,
                "entry_point": entry_point,
                "location": location,
                "error": error,
                "traceback": traceback,
                "integrity": integrity,
            }
        )


class Check(Frozen):
    """One line of ``anya-ext doctor``."""

    subject: str
    ok: bool
    detail: str
    traceback: str

    def __init__(self, subject: str, ok: bool, detail: str, traceback: str = "") -> None:
        self._init(subject, ok, detail, traceback)


class DoctorReport(Frozen):
    """Every check of ``anya-ext doctor``; ``ok`` when all passed."""

    checks: tuple[Check, ...]

    def __init__(self, checks: tuple[Check, ...] = ()) -> None:
        self._init(checks)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)


RecordedFeatures: TypeAlias = "Mapping[str, tuple[str, ...]]"
"""The features each distribution was installed with (the install receipts), by canonical
distribution name; an extension installed without Anya has no entry."""


def list_extensions(
    host: Host, *, load: bool = True, recorded: RecordedFeatures | None = None
) -> list[ExtensionReport]:
    """Every extension with its status; with ``load`` each enabled one is activated first."""
    host.check_integrity()
    if load:
        host.activate_all()
    return [describe(extension, recorded) for extension in host.extensions]


def extension_info(
    host: Host, name: str, *, load: bool = True, recorded: RecordedFeatures | None = None
) -> ExtensionReport:
    """One extension in full: features, platforms, host API range, error and traceback."""
    extension = host.get(name)
    host.check_integrity(extension.name)
    if load:
        host.activate(extension.name)
    return describe(extension, recorded)


def describe(extension: Extension, recorded: RecordedFeatures | None = None) -> ExtensionReport:
    """The report of one extension; ``recorded`` says which features it was installed with.

    Called for every extension by ``anya-ext list``: the fields are passed by position
    (sixteen keywords cost as much as the rest), and one without features skips them.
    """
    features = extension.features
    enabled: tuple[str, ...] = ()
    feature_reports: tuple[FeatureReport, ...] = ()
    if features:
        installed_with = recorded.get(canonical(extension.dist_name)) if recorded else None
        enabled = enabled_features(features, installed_with)
        feature_reports = tuple(
            FeatureReport(f.name, f.name in enabled, f.default, f.requires, f.enables)
            for f in features
        )
    return ExtensionReport(
        extension.name,
        extension.dist_name,
        extension.version,
        extension.category,
        extension.status,
        enabled,
        extension.summary,
        extension.host_api,
        _platforms(extension.wheel_tags),
        extension.wheel_tags,
        feature_reports,
        extension.entry_point,
        extension.location,
        extension.error,
        extension.traceback,
        extension.integrity,
    )


def enabled_features(
    features: Iterable[FeatureRecord], installed_with: Iterable[str] | None = None
) -> tuple[str, ...]:
    """Features in effect: those it was installed with (``installed_with``, from Anya's
    receipt; the defaults when there is none), and those whose needs are installed (as
    discovery found them: :attr:`FeatureRecord.requires_met`).

    pip does not record which extras were requested, so for an extension installed
    without Anya — or given a feature by a later install of something else — a feature
    with requirements counts as enabled when all of them are satisfied here.
    """
    records = list(features)
    if not records:
        return ()
    from anya_plugins.metadata.switched_on import closure

    chosen = (
        {f.name for f in records if f.default} if installed_with is None else set(installed_with)
    )
    chosen |= {f.name for f in records if f.requires and f.requires_met}
    declared = {f.name for f in records}
    return tuple(name for name in closure(records, chosen) if name in declared)


@functools.cache
def _platforms(wheel_tags: tuple[str, ...]) -> tuple[str, ...]:
    """Platform names of a tag set (one computation per distinct set: most are pure)."""
    if not wheel_tags:
        return ()
    from anya_plugins.metadata.platforms import platform_names

    return platform_names(wheel_tags)


def doctor(host: Host) -> DoctorReport:
    """Check the environment, the configuration and every extension; ok only if all pass."""
    import sys

    from anya_plugins.errors import AnyaError

    checks = [
        Check(
            "python",
            sys.version_info >= (3, 11),
            f"{sys.implementation.name} {sys.version.split()[0]} at {sys.executable}",
        )
    ]
    try:
        extensions = host.extensions
        config = host.configuration()
        checks.append(Check("configuration", True, f"{config.path}"))
    except AnyaError as error:
        checks.append(Check("configuration", False, error.message + _hint(error)))
        return DoctorReport(tuple(checks))
    host.check_integrity()
    host.activate_all()
    health = host.health()
    for extension in extensions:
        subject = f"extension {extension.name}"
        if extension.status == DISABLED:
            checks.append(Check(subject, True, "disabled"))
        elif extension.status != ACTIVE:
            checks.append(
                Check(subject, False, f"{extension.status}: {extension.error}", extension.traceback)
            )
        elif missing := _missing_requirements(extension.dist_name):
            checks.append(Check(subject, False, f"missing requirements: {', '.join(missing)}"))
        else:
            report = health[extension.name]
            status = "active" if report.ok else "unhealthy"
            detail = f"{status}, {extension.dist_name} {extension.version}, {extension.integrity}"
            checks.append(Check(subject, report.ok, f"{detail}: {report.detail}".rstrip(": ")))
    return DoctorReport(tuple(checks))


def _missing_requirements(dist_name: str) -> list[str]:
    """Requirements (outside any feature) that are not installed at a matching version."""
    import sys
    from importlib import metadata as importlib_metadata

    from packaging.requirements import Requirement

    from anya_plugins.host.discovery import requirement_installed

    requirements = importlib_metadata.requires(dist_name) or []
    missing = []
    for text in requirements:
        requirement = Requirement(text)
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        if not requirement_installed(requirement, sys.path):
            missing.append(text)
    return missing


def _hint(error: Exception) -> str:
    hint = getattr(error, "hint", None)
    return f" ({hint})" if hint else ""
