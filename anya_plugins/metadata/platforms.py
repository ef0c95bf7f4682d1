"""Supported platforms, read from wheel tags, and the check against this interpreter.

Naming platforms needs no packaging, typing or dataclasses (``anya-ext list`` names them
at start-up); checking tags against this interpreter imports ``packaging.tags``.
"""

from __future__ import annotations

from functools import cache

from anya_plugins.metadata.frozen import Frozen

TYPE_CHECKING = False  # typing costs the start-up ~3 ms
if TYPE_CHECKING:
    from collections.abc import Iterable

    from packaging.tags import Tag

PURE: str = "pure"


class Compatibility(Frozen):
    """Whether something fits this interpreter, and if not, why."""

    ok: bool
    reason: str

    def __init__(self, ok: bool, reason: str = "") -> None:
        self._init(ok, reason)


def platform_name(platform_tag: str) -> str:
    """A person's name for a wheel platform tag, e.g. ``manylinux_2_17_x86_64`` -> linux-x86_64."""
    if platform_tag == "any":
        return PURE
    if platform_tag.startswith(("manylinux", "musllinux", "linux")):
        return "linux-" + _arch(platform_tag)
    if platform_tag.startswith("macosx"):
        arch = _arch(platform_tag)
        return "macos-" + ("arm64" if arch == "arm64" else arch)
    if platform_tag == "win_amd64":
        return "windows-x86_64"
    if platform_tag == "win_arm64":
        return "windows-arm64"
    if platform_tag == "win32":
        return "windows-x86"
    return platform_tag


def _arch(platform_tag: str) -> str:
    for arch in ("x86_64", "aarch64", "arm64", "universal2", "i686", "armv7l", "ppc64le", "s390x"):
        if platform_tag.endswith(arch):
            return arch
    return platform_tag.rsplit("_", 1)[-1]


def platform_names(tags: Iterable[str]) -> tuple[str, ...]:
    """The distinct platform names of a set of wheel tag strings, sorted."""
    names: set[str] = set()
    for platform_tag in _platform_tags(tags):
        name = platform_name(platform_tag)
        if name == "macos-universal2":
            names.update(("macos-arm64", "macos-x86_64"))
        else:
            names.add(name)
    return tuple(sorted(names))


def tags_from_wheel_filename(filename: str) -> tuple[str, ...]:
    """The tag triple(s) of a wheel file name, as strings."""
    from packaging.utils import parse_wheel_filename

    _name, _version, _build, tags = parse_wheel_filename(filename)
    return tuple(sorted(str(tag) for tag in tags))


def _platform_tags(tags: Iterable[str]) -> set[str]:
    """The platform parts of tag strings, as ``packaging.tags.parse_tag`` reads them: a
    compressed tag set (``py3-none-macosx_11_0_x86_64.macosx_11_0_arm64``) names several."""
    found: set[str] = set()
    for tag in tags:
        _interpreters, _abis, platforms = tag.split("-")
        found.update(platform.lower() for platform in platforms.split("."))
    return found


def _expand(tags: Iterable[str]) -> list[Tag]:
    from packaging.tags import parse_tag

    expanded: list[Tag] = []
    for tag in tags:
        expanded.extend(parse_tag(tag))
    return expanded


@cache
def _supported() -> frozenset[Tag]:
    from packaging.tags import sys_tags

    return frozenset(sys_tags())


def check_tags(tags: Iterable[str]) -> Compatibility:
    """Whether a wheel with these tags installs on this interpreter; if not, say why.

    An empty tag list means the distribution was not installed from a wheel
    (built locally), which by construction fits.
    """
    wanted = _expand(tags)
    if not wanted:
        return Compatibility(True)
    supported = _supported()
    if any(tag in supported for tag in wanted):
        return Compatibility(True)
    here_platforms = {tag.platform for tag in supported}
    here = _describe_interpreter()
    built = ", ".join(sorted(str(tag) for tag in wanted))
    if any(tag.platform in here_platforms for tag in wanted):
        return Compatibility(
            False,
            f"built for another Python ({built}); this interpreter is {here}",
        )
    names = ", ".join(platform_names(str(tag) for tag in wanted))
    return Compatibility(
        False,
        f"built for {names} ({built}); this interpreter runs on {here}",
    )


def _describe_interpreter() -> str:
    from packaging.tags import sys_tags

    most_specific = next(iter(sys_tags()))
    return f"{platform_name(most_specific.platform)} ({most_specific})"
