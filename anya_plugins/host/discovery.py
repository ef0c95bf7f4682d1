"""Finding extensions through importlib.metadata, without importing any of them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from anya_plugins.errors import MetadataError
from anya_plugins.host.record import ENABLED, INCOMPATIBLE, INVALID, Extension, FeatureRecord
from anya_plugins.metadata.contract import installed_wheel_tags, parse_core_metadata
from anya_plugins.metadata.hostapi import check_host_api
from anya_plugins.metadata.platforms import check_tags
from anya_plugins.metadata.taxonomy import RESERVED_NAMES

if TYPE_CHECKING:
    from importlib.metadata import Distribution, PackageMetadata

    from packaging.requirements import Requirement

_VALID_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?$")


def scan(group: str, path: Sequence[str]) -> tuple[list[Extension], list[str]]:
    """Every entry point of ``group`` on ``path`` with its metadata checked, and the
    ``path`` entries that hold any distribution at all (the cache watches those closely).

    Follows importlib.metadata's rule that the first distribution of a name on the
    path wins; an entry-point name claimed twice is reported on the later claimant.
    """
    import os
    from importlib.metadata import distributions

    from packaging.utils import canonicalize_name

    found: list[Extension] = []
    owners: dict[str, str] = {}
    seen_dists: set[str] = set()
    site_dirs: set[str] = set()
    for dist in distributions(path=list(path)):
        site_dirs.add(os.path.normpath(str(dist.locate_file(""))))
        # entry_points.txt is small; METADATA is parsed (once) only for extensions.
        ours = [entry_point for entry_point in dist.entry_points if entry_point.group == group]
        if not ours:
            continue
        metadata = dist.metadata
        dist_name = metadata["Name"] or ""
        canonical = canonicalize_name(dist_name)
        if canonical in seen_dists:
            continue
        seen_dists.add(canonical)
        for entry_point in ours:
            extension = _describe(entry_point.name, entry_point.value, dist, metadata)
            previous_owner = owners.get(extension.name)
            if previous_owner is not None:
                extension.status = INVALID
                extension.error = (
                    f"extension name {extension.name!r} is already provided by {previous_owner}"
                )
            else:
                owners[extension.name] = dist_name
            found.append(extension)
    _check_requirements(found, path)
    return found, sorted(site_dirs)


def _check_requirements(found: list[Extension], path: Sequence[str]) -> None:
    """Whether each feature's requirements are installed on ``path``, decided here, where
    importlib.metadata and packaging are loaded anyway, and kept with the feature: a listing
    never looks them up (pip records no extras, so for an extension installed without Anya a
    feature whose needs are all installed counts as enabled). One look-up per distinct
    requirement."""
    met: dict[str, bool] = {}

    def installed(text: str) -> bool:
        if text not in met:
            from packaging.requirements import Requirement  # only when a feature needs any

            met[text] = requirement_installed(Requirement(text), path)
        return met[text]

    for extension in found:
        for feature in extension.features:
            if feature.requires:
                feature.requires_met = all(map(installed, feature.requires))


def requirement_installed(requirement: Requirement, path: Sequence[str]) -> bool:
    """Whether ``requirement`` is met on ``path``: the first distribution of its name there,
    at a version its specifier allows (pre-releases included)."""
    from importlib.metadata import distributions

    dist = next(iter(distributions(name=requirement.name, path=list(path))), None)
    return dist is not None and requirement.specifier.contains(dist.version, prereleases=True)


def _describe(name: str, value: str, dist: Distribution, metadata: PackageMetadata) -> Extension:
    location = str(dist.locate_file(""))
    extension = Extension(
        name=name,
        dist_name=metadata["Name"] or "",
        version=metadata["Version"] or "",
        entry_point=value,
        location=location,
    )
    if not _VALID_NAME.match(name) or name in RESERVED_NAMES:
        extension.status = INVALID
        extension.error = (
            f"entry point name {name!r} is not a valid extension name "
            "(lower-case letters, digits, '-' and '_'; not a reserved configuration section)"
        )
        return extension
    try:
        contract = parse_core_metadata(name, metadata, installed_wheel_tags(dist))
    except MetadataError as exc:
        extension.status = INVALID
        extension.error = exc.message + (f" ({exc.hint})" if exc.hint else "")
        return extension
    extension.summary = contract.summary
    extension.category = contract.category
    extension.host_api = contract.host_api
    extension.wheel_tags = contract.wheel_tags
    extension.features = tuple(
        FeatureRecord(f.name, f.requires, f.enables, f.default) for f in contract.features
    )
    for check in (check_tags(contract.wheel_tags), check_host_api(contract.host_api)):
        if not check.ok:
            extension.status = INCOMPATIBLE
            extension.error = check.reason
            break
    else:
        extension.status = ENABLED
    return extension
