"""What the host knows about one extension. Plain classes: this module is on the start-up path."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

ENABLED = "enabled"
ACTIVE = "active"
DISABLED = "disabled"
INCOMPATIBLE = "incompatible"
INVALID = "invalid"
FAILED = "failed"
TAMPERED = "tampered"
"""An installed file differs from what was verified at install; never imported."""
UNVERIFIED = "unverified"
"""Installed without an Anya receipt while ``host.require_verified`` is on; never imported."""

PROBLEM_STATUSES = frozenset((INCOMPATIBLE, INVALID, FAILED, TAMPERED, UNVERIFIED))


class FeatureRecord:
    """One feature (extra) as discovery stores it. ``requires_met``: every requirement of it
    was installed on the host's path when discovery scanned it (the discovery cache is
    thrown away when anything on that path is installed or removed)."""

    __slots__ = ("default", "enables", "name", "requires", "requires_met")

    def __init__(
        self,
        name: str,
        requires: tuple[str, ...],
        enables: tuple[str, ...],
        default: bool,
        requires_met: bool = False,
    ) -> None:
        self.name = name
        self.requires = requires
        self.enables = enables
        self.default = default
        self.requires_met = requires_met

    def __repr__(self) -> str:
        return f"FeatureRecord({self.name!r}, default={self.default})"


class Extension:
    """One discovered extension: what its metadata says and what happened to it in this host."""

    __slots__ = (
        "category",
        "dist_name",
        "entry_point",
        "error",
        "features",
        "host_api",
        "integrity",
        "location",
        "name",
        "status",
        "summary",
        "traceback",
        "version",
        "wheel_tags",
    )

    def __init__(
        self,
        *,
        name: str,
        dist_name: str,
        version: str,
        entry_point: str,
        location: str,
        summary: str = "",
        category: str = "",
        host_api: str = "",
        features: tuple[FeatureRecord, ...] = (),
        wheel_tags: tuple[str, ...] = (),
        status: str = ENABLED,
        error: str = "",
    ) -> None:
        self.name = name
        self.dist_name = dist_name
        self.version = version
        self.entry_point = entry_point
        self.location = location
        self.summary = summary
        self.category = category
        self.host_api = host_api
        self.features = features
        self.wheel_tags = wheel_tags
        self.status = status
        self.error = error
        self.traceback = ""
        self.integrity = ""
        """verified, unverified or tampered (:mod:`anya_plugins.host.integrity`); empty until
        checked (before the extension is imported, or by ``Host.check_integrity``), never
        cached."""

    def __repr__(self) -> str:
        return f"Extension({self.name!r}, {self.dist_name} {self.version}, status={self.status!r})"

    @property
    def default_features(self) -> tuple[str, ...]:
        return tuple(feature.name for feature in self.features if feature.default)

    def to_record(self) -> tuple[Any, ...]:
        """A marshal-able tuple for the discovery cache."""
        return (
            self.name,
            self.dist_name,
            self.version,
            self.entry_point,
            self.location,
            self.summary,
            self.category,
            self.host_api,
            tuple(
                (f.name, f.requires, f.enables, f.default, f.requires_met) for f in self.features
            ),
            self.wheel_tags,
            self.status,
            self.error,
        )

    @classmethod
    def from_record(cls, record: tuple[Any, ...]) -> Extension:
        """The extension :meth:`to_record` stored, its fields set directly: ``__init__``'s
        keywords would cost a cached discovery of a thousand extensions ~2 ms."""
        extension = cls.__new__(cls)
        (
            extension.name,
            extension.dist_name,
            extension.version,
            extension.entry_point,
            extension.location,
            extension.summary,
            extension.category,
            extension.host_api,
            features,
            extension.wheel_tags,
            extension.status,
            extension.error,
        ) = record
        extension.features = tuple(FeatureRecord(*feature) for feature in features)
        extension.traceback = extension.integrity = ""
        return extension
