"""A requested feature must be one the extension declares: ``x[nonexistent]`` is an error.

pip and uv only warn about an unknown extra and install the rest, so an unknown feature —
a typo, most often — would pass silently. The declared features are read with the
contract reader, from the downloaded wheel or, when the resolver had nothing to install,
from the installed distribution.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib import metadata as importlib_metadata
from pathlib import Path

from anya_plugins.errors import MetadataError, UsageError
from anya_plugins.install.environment import TargetEnvironment
from anya_plugins.install.specs import RequestedExtension
from anya_plugins.metadata.contract import (
    ExtensionMetadata,
    installed_wheel_tags,
    parse_core_metadata,
    read_wheel,
)


class UnknownFeature(UsageError):
    """The command line named a feature the extension does not declare.

    A usage error (exit 2), not a refusal: nothing about the extension is wrong, the
    request is, and it is refused before anything is installed.
    """

    def __init__(self, extension: str, unknown: Sequence[str], declared: Sequence[str]) -> None:
        offered = ", ".join(declared) if declared else "none"
        super().__init__(
            f"{extension} has no feature {', '.join(unknown)}; the features it declares: {offered}",
            hint=f"install {extension}[FEATURE,...] with declared features, "
            f"or {extension} alone for its default features",
        )
        self.extension = extension
        self.unknown = tuple(unknown)
        self.declared = tuple(declared)


def check_requested_features(
    env: TargetEnvironment,
    specs: Sequence[RequestedExtension],
    wheels: Mapping[str, Path],
) -> None:
    """Raise UnknownFeature for the first spec naming an undeclared feature.

    ``wheels`` are the downloaded files by distribution name; a spec without one is
    already installed at a fitting version, and its installed metadata is read instead.
    """
    for spec in specs:
        if not spec.features:
            continue
        contract = _contract(env, spec.name, wheels.get(spec.name))
        if contract is None:
            continue
        declared = tuple(feature.name for feature in contract.features)
        unknown = [feature for feature in spec.features if feature not in declared]
        if unknown:
            raise UnknownFeature(spec.name, unknown, declared)


def _contract(env: TargetEnvironment, name: str, wheel: Path | None) -> ExtensionMetadata | None:
    """The declared contract, or None when there is none to read (a broken contract is
    refused by the contract check, which names the field)."""
    try:
        if wheel is not None:
            return read_wheel(wheel)
        paths = [str(directory) for directory in env.library_dirs]
        dist = next(iter(importlib_metadata.distributions(name=name, path=paths)), None)
        if dist is None:
            return None
        return parse_core_metadata(name, dist.metadata, installed_wheel_tags(dist))
    except MetadataError:
        return None
