"""The requirement closure of a set of distributions, as the target environment sees it.

``lock`` walks it from the installed extensions to find every distribution they need;
``sync`` walks it over the set it is about to produce to refuse a result that would not
import. Requirements are read from core metadata (``Requires-Dist``) — of installed
distributions or of wheel files — and their markers are evaluated for the target
interpreter, which may not be the one running Anya.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata as importlib_metadata
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from anya_plugins.install.environment import TargetEnvironment, TargetEnvironmentError
from anya_plugins.install.transaction import InstallRefused

# What packaging.markers.default_environment() computes, written with the standard library
# only: the target interpreter may not have packaging.
_MARKERS_PROBE = """
import json, os, platform, sys
def version(info):
    text = "{0.major}.{0.minor}.{0.micro}".format(info)
    if info.releaselevel != "final":
        text += info.releaselevel[0] + str(info.serial)
    return text
print(json.dumps({
    "implementation_name": sys.implementation.name,
    "implementation_version": version(sys.implementation.version),
    "os_name": os.name,
    "platform_machine": platform.machine(),
    "platform_release": platform.release(),
    "platform_system": platform.system(),
    "platform_version": platform.version(),
    "python_full_version": platform.python_version(),
    "platform_python_implementation": platform.python_implementation(),
    "python_version": ".".join(platform.python_version_tuple()[:2]),
    "sys_platform": sys.platform,
}))
"""


def marker_environment(env: TargetEnvironment) -> dict[str, str]:
    """The values environment markers are evaluated against, for the target interpreter."""
    if env.python == Path(sys.executable):
        from packaging.markers import default_environment

        return {key: str(value) for key, value in default_environment().items()}
    try:
        done = subprocess.run(
            [str(env.python), "-c", _MARKERS_PROBE], capture_output=True, text=True, check=True
        )
        found = json.loads(done.stdout)
    except (OSError, subprocess.CalledProcessError, ValueError) as error:
        raise TargetEnvironmentError(
            f"cannot read the environment markers of {env.python}: {error}"
        ) from error
    return {str(key): str(value) for key, value in found.items()}


def wheel_distribution(path: Path) -> importlib_metadata.Distribution:
    """The metadata of a wheel file, read in place like an installed distribution's."""
    archive = zipfile.ZipFile(path)
    (info,) = {
        name.split("/")[0] for name in archive.namelist() if name.endswith(".dist-info/METADATA")
    }
    return importlib_metadata.PathDistribution(zipfile.Path(archive, f"{info}/"))


@dataclass(frozen=True)
class Unmet:
    """A requirement that the set does not satisfy."""

    requirer: str
    """``name version`` of the distribution that has the requirement."""
    requirement: str
    found: str | None
    """The version the set holds, or None when the name is missing."""

    def __str__(self) -> str:
        held = "missing" if self.found is None else f"{self.found} is there"
        return f"{self.requirer} requires {self.requirement} ({held})"


@dataclass(frozen=True)
class Closure:
    """The distributions reachable from the roots, in the order they were reached, and the
    requirements along the way that the set does not satisfy."""

    names: tuple[str, ...]
    unmet: tuple[Unmet, ...]


def requirement_closure(
    roots: Iterable[tuple[str, Iterable[str]]],
    dists: Mapping[str, importlib_metadata.Distribution],
    markers: Mapping[str, str],
) -> Closure:
    """Walk ``Requires-Dist`` from ``roots`` (canonical name, extras) through ``dists``
    (by canonical name). A root that is not in ``dists`` is reported as unmet."""
    extras_of: dict[str, set[str]] = {}
    order: list[str] = []
    unmet: list[Unmet] = []
    queue: list[tuple[str, set[str]]] = []
    for name, extras in roots:
        key = str(canonicalize_name(name))
        if key not in dists:
            unmet.append(Unmet("requested", key, None))
            continue
        queue.append((key, set(extras)))
    while queue:
        name, extras = queue.pop(0)
        known = extras_of.get(name)
        if known is not None and extras <= known:
            continue
        if known is None:
            order.append(name)
        new_extras = extras - (known or set())
        extras_of[name] = (known or set()) | extras
        dist = dists[name]
        requirer = f"{name} {dist.version}"
        # A first visit reads the plain requirements too; a later one only the new extras'.
        active = ({""} if known is None else set()) | new_extras
        for line in dist.requires or ():
            try:
                requirement = Requirement(line)
            except InvalidRequirement:
                unmet.append(Unmet(requirer, line, None))
                continue
            if requirement.marker is not None and not any(
                requirement.marker.evaluate({**markers, "extra": extra}) for extra in active
            ):
                continue
            if requirement.marker is None and known is not None:
                continue
            child = str(canonicalize_name(requirement.name))
            held = dists.get(child)
            if held is None or not requirement.specifier.contains(held.version, prereleases=True):
                unmet.append(Unmet(requirer, str(requirement), held.version if held else None))
                continue
            queue.append((child, set(requirement.extras)))
    return Closure(tuple(order), tuple(unmet))


INSTALLER_TOOLING = ("pip", "setuptools", "wheel", "uv", "anya-plugins")
"""What ``sync --exact`` never removes (with everything it requires): the tools that
install, including the one running."""


def not_in_closure(
    installed: Mapping[str, importlib_metadata.Distribution],
    roots: Iterable[tuple[str, Iterable[str]]],
    markers: Mapping[str, str],
) -> list[str]:
    """What ``sync --exact`` removes: installed, not reached from ``roots``, and neither the
    installer tooling nor anything it requires."""
    tooling = [(name, ()) for name in INSTALLER_TOOLING if name in installed]
    kept = set(requirement_closure([*roots, *tooling], installed, markers).names)
    return sorted(name for name in installed if name not in kept)


class UnmetRequirements(InstallRefused):
    """The set would not import: a requirement of one of its distributions is not met."""


def refuse_unmet(closure: Closure, what: str, *, hint: str) -> None:
    """Raise when the walk met requirements the set does not satisfy."""
    if closure.unmet:
        raise UnmetRequirements(
            f"{what} would not import:\n" + "\n".join(f"  {unmet}" for unmet in closure.unmet),
            hint=hint,
        )
