"""The requirement closure: extras, markers evaluated for a given environment, unmet
requirements named with who needs them."""

from __future__ import annotations

from importlib import metadata as importlib_metadata
from pathlib import Path

from anya_plugins.install.closure import not_in_closure, requirement_closure

LINUX = {"sys_platform": "linux", "python_version": "3.11", "python_full_version": "3.11.7"}


def _dists(
    root: Path, **packages: tuple[str, list[str]]
) -> dict[str, importlib_metadata.Distribution]:
    """Installed-looking distributions: name -> (version, Requires-Dist lines)."""
    found: dict[str, importlib_metadata.Distribution] = {}
    for name, (version, requires) in packages.items():
        info = root / f"{name.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
        lines += [f"Requires-Dist: {line}" for line in requires]
        (info / "METADATA").write_text("\n".join(lines) + "\n")
        found[name] = importlib_metadata.PathDistribution(info)
    return found


def test_a_feature_brings_its_requirements_and_only_then(tmp_path: Path) -> None:
    dists = _dists(
        tmp_path,
        app=("1.0", ['tor-lib>=1; extra == "tor"', "base"]),
        base=("2.0", []),
        **{"tor-lib": ("1.5", [])},
    )
    assert requirement_closure([("app", ())], dists, LINUX).names == ("app", "base")
    with_tor = requirement_closure([("app", ("tor",))], dists, LINUX)
    assert set(with_tor.names) == {"app", "base", "tor-lib"}


def test_markers_are_evaluated_for_the_given_environment(tmp_path: Path) -> None:
    dists = _dists(tmp_path, app=("1.0", ['winonly; sys_platform == "win32"']))
    closure = requirement_closure([("app", ())], dists, LINUX)
    assert closure.names == ("app",)
    assert closure.unmet == ()
    windows = requirement_closure([("app", ())], dists, {**LINUX, "sys_platform": "win32"})
    assert [str(unmet) for unmet in windows.unmet] == [
        'app 1.0 requires winonly; sys_platform == "win32" (missing)'
    ]


def test_a_version_outside_the_range_is_unmet(tmp_path: Path) -> None:
    dists = _dists(tmp_path, app=("1.0", ["base>=3"]), base=("2.0", []))
    (unmet,) = requirement_closure([("app", ())], dists, LINUX).unmet
    assert str(unmet) == "app 1.0 requires base>=3 (2.0 is there)"


def test_exact_keeps_the_installer_tooling_and_what_it_needs(tmp_path: Path) -> None:
    dists = _dists(
        tmp_path,
        app=("1.0", []),
        stray=("1.0", []),
        pip=("24.0", []),
        **{"anya-plugins": ("0.1", ["pluggy"]), "pluggy": ("1.5", [])},
    )
    assert not_in_closure(dists, [("app", ())], LINUX) == ["stray"]


def test_a_feature_that_switches_on_another_feature_brings_its_requirements(
    tmp_path: Path,
) -> None:
    dists = _dists(
        tmp_path,
        app=("1.0", ['app[tor]; extra == "full"', 'tor-lib; extra == "tor"']),
        **{"tor-lib": ("1.5", [])},
    )
    closure = requirement_closure([("app", ("full",))], dists, LINUX)
    assert closure.names == ("app", "tor-lib")
    assert closure.unmet == ()
