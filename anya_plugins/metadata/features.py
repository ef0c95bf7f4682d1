"""Feature flags are extras: what each needs, which others it switches on, which are default."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from anya_plugins.errors import MetadataError
from anya_plugins.metadata.names import canonical

TYPE_CHECKING = False  # typing costs the start-up ~3 ms
if TYPE_CHECKING:
    from packaging.markers import Marker
    from packaging.requirements import Requirement


@dataclass(frozen=True)
class Feature:
    """One extra of an extension."""

    name: str
    requires: tuple[str, ...] = ()
    enables: tuple[str, ...] = ()
    default: bool = False


def parse_features(
    extension: str,
    dist_name: str,
    provides_extra: Iterable[str],
    requires_dist: Iterable[str],
    default_features: Iterable[str],
) -> tuple[Feature, ...]:
    """Build the feature list from ``Provides-Extra`` and ``Requires-Dist``.

    A requirement on the extension itself with extras (``anya-ext-x[a,b]; extra == "full"``)
    is how a feature switches on other features: pip resolves it the same way.
    """
    from packaging.requirements import InvalidRequirement, Requirement

    extras = [canonical(extra) for extra in provides_extra]
    own = canonical(dist_name)
    requires: dict[str, list[str]] = {extra: [] for extra in extras}
    enables: dict[str, list[str]] = {extra: [] for extra in extras}
    for line in requires_dist:
        try:
            requirement = Requirement(line)
        except InvalidRequirement as exc:
            raise MetadataError(extension, "Requires-Dist", f"{line!r}: {exc}") from exc
        for extra in _extras_needing(requirement.marker, extras):
            if canonical(requirement.name) == own:
                enables[extra].extend(sorted(canonical(e) for e in requirement.extras))
            else:
                requires[extra].append(_without_marker(requirement))
    defaults = {canonical(name) for name in default_features}
    unknown = sorted(defaults - set(extras))
    if unknown:
        raise MetadataError(
            extension,
            "Keywords",
            f"default feature(s) {', '.join(unknown)} are not declared as extras",
            hint="declare each default feature under [project.optional-dependencies]",
        )
    for extra, switched_on in enables.items():
        missing = sorted(set(switched_on) - set(extras))
        if missing:
            raise MetadataError(
                extension,
                "Requires-Dist",
                f"feature {extra!r} enables undeclared feature(s) {', '.join(missing)}",
            )
    return tuple(
        Feature(
            name=extra,
            requires=tuple(requires[extra]),
            enables=tuple(enables[extra]),
            default=extra in defaults,
        )
        for extra in sorted(extras)
    )


def _extras_needing(marker: Marker | None, extras: Iterable[str]) -> list[str]:
    """The extras under which a requirement applies here (and not without any extra)."""
    if marker is None or marker.evaluate({"extra": ""}):
        return []
    return [extra for extra in extras if marker.evaluate({"extra": extra})]


def _without_marker(requirement: Requirement) -> str:
    from packaging.requirements import Requirement

    bare = Requirement(str(requirement))
    bare.marker = None
    return str(bare)
