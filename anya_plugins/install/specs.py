"""What a user types (``lightning@^1.2[tor]``) turned into a PEP 508 requirement.

``@1.2.3`` pins, ``@^1.2`` and ``@~1.2`` follow npm's caret and tilde ranges,
anything else after ``@`` is taken as a PEP 440 specifier (``@>=1,<3``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from anya_plugins.errors import UsageError
from anya_plugins.metadata.taxonomy import DIST_NAME_PREFIX

_SPEC = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[(?P<extras>[^\]]*)\])?(?:@(?P<version>.+))?$"
)


@dataclass(frozen=True)
class RequestedExtension:
    """One requested extension: distribution name, features and version range."""

    name: str
    features: tuple[str, ...]
    specifier: SpecifierSet
    typed: str

    def requirement(self) -> Requirement:
        extras = f"[{','.join(self.features)}]" if self.features else ""
        return Requirement(f"{self.name}{extras}{self.specifier}")


def distribution_name(name: str) -> str:
    """``lightning`` -> ``anya-ext-lightning``; a name with the prefix is kept."""
    canonical = str(canonicalize_name(name))
    return canonical if canonical.startswith(DIST_NAME_PREFIX) else DIST_NAME_PREFIX + canonical


def parse_spec(text: str) -> RequestedExtension:
    """Parse ``NAME``, ``NAME@1.2.3``, ``NAME@^1.2``, ``NAME@~1.2``, ``NAME[a,b]@...``."""
    text = text.strip()
    match = _SPEC.match(_move_extras_before_version(text))
    if match is None:
        raise UsageError(
            f"cannot read {text!r} as an extension",
            hint="use NAME, NAME@1.2.3, NAME@^1.2, NAME@~1.2 or NAME[feature,...]",
        )
    extras = match.group("extras") or ""
    features = tuple(sorted({str(canonicalize_name(e)) for e in extras.split(",") if e.strip()}))
    version = match.group("version")
    return RequestedExtension(
        name=distribution_name(match.group("name")),
        features=features,
        specifier=_specifier(text, version) if version else SpecifierSet(),
        typed=text,
    )


def _move_extras_before_version(text: str) -> str:
    """Accept ``NAME@1.2[tor]`` as well as ``NAME[tor]@1.2``."""
    moved = re.match(r"^([^@\[]+)@([^\[]+)\[([^\]]*)\]$", text)
    return f"{moved.group(1)}[{moved.group(3)}]@{moved.group(2)}" if moved else text


def _specifier(text: str, version: str) -> SpecifierSet:
    try:
        if version.startswith("^"):
            return caret(version[1:])
        if version.startswith("~") and not version.startswith("~="):
            return tilde(version[1:])
        if version[0].isdigit():
            Version(version)
            return SpecifierSet(f"=={version}")
        return SpecifierSet(version)
    except (InvalidVersion, InvalidSpecifier) as error:
        raise UsageError(f"invalid version in {text!r}: {error}") from error


def caret(version: str) -> SpecifierSet:
    """npm's ^: up to the next change of the first non-zero release part."""
    release = Version(version).release
    padded = [*release, 0, 0][: max(len(release), 3)]
    first_nonzero = next((i for i, part in enumerate(padded) if part != 0), len(padded) - 1)
    upper = [*padded[:first_nonzero], padded[first_nonzero] + 1]
    return SpecifierSet(f">={version},<{'.'.join(map(str, upper))}")


def tilde(version: str) -> SpecifierSet:
    """npm's ~: patch updates when a minor is given, minor updates when only a major is."""
    release = Version(version).release
    upper = [release[0] + 1] if len(release) == 1 else [release[0], release[1] + 1]
    return SpecifierSet(f">={version},<{'.'.join(map(str, upper))}")


def requirement_text(spec: RequestedExtension) -> str:
    """The PEP 508 line pip and uv read."""
    try:
        return str(spec.requirement())
    except InvalidRequirement as error:
        raise UsageError(f"cannot turn {spec.typed!r} into a requirement: {error}") from error
