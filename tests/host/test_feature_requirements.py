"""A feature whose requirements are installed on the host's path counts as enabled without a
receipt (plain pip records no extras). Discovery decides it, once per distinct requirement;
a listing looks nothing up."""

from __future__ import annotations

import importlib
import importlib.metadata
from pathlib import Path

import pytest

from anya_plugins import Host
from anya_plugins.host import inventory

KEYWORDS = (
    "anya-extension,anya-category:community/experimental,anya-host-api:>=1.0,anya-host-api:<2"
)


def write_extension(site: Path, name: str, requirement: str, *, in_feature: bool = True) -> None:
    """``anya-ext-<name>`` that needs ``requirement``: for its one feature, ``extra``, or
    (not ``in_feature``) whatever features are on."""
    module = f"feat_{name.replace('-', '_')}"
    (site / f"{module}.py").write_text("")
    dist_info = site / f"anya_ext_{name.replace('-', '_')}-1.0.dist-info"
    dist_info.mkdir()
    needs = (
        f'Provides-Extra: extra\nRequires-Dist: {requirement}; extra == "extra"\n'
        if in_feature
        else f"Requires-Dist: {requirement}\n"
    )
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: anya-ext-{name}\nVersion: 1.0\nSummary: {name}\n"
        f"Keywords: {KEYWORDS}\n{needs}"
    )
    (dist_info / "entry_points.txt").write_text(f"[anya.extensions]\n{name} = {module}\n")


def write_library(site: Path, name: str, version: str) -> None:
    dist_info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    )


def enabled(site: Path, recorded: dict[str, tuple[str, ...]] | None = None) -> dict[str, object]:
    importlib.invalidate_caches()
    reports = inventory.list_extensions(Host(path=[str(site)]), load=False, recorded=recorded)
    return {report.name: report.enabled_features for report in reports}


def test_a_feature_is_on_when_its_requirement_is_installed_at_a_fitting_version(
    site: Path,
) -> None:
    write_library(site, "anya-req-lib", "1.5")
    write_extension(site, "met", "anya-req-lib>=1")
    write_extension(site, "too-old", "anya-req-lib>=2")
    write_extension(site, "absent", "anya-no-such-distribution>=1")
    assert enabled(site) == {"met": ("extra",), "too-old": (), "absent": ()}


def test_installing_the_requirement_later_switches_the_feature_on(site: Path) -> None:
    write_extension(site, "later", "anya-req-later>=1")
    assert enabled(site) == {"later": ()}
    write_library(site, "anya-req-later", "1.0")
    assert enabled(site) == {"later": ("extra",)}


def test_a_listing_looks_nothing_up(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_library(site, "anya-req-lib", "1.5")
    for number in range(3):
        write_extension(site, f"met-{number}", "anya-req-lib>=1")
    importlib.invalidate_caches()
    host = Host(path=[str(site)])
    assert len(host.extensions) == 3  # discovered: requirements decided

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a listing looked a requirement up")

    monkeypatch.setattr(importlib.metadata, "distributions", refuse)
    monkeypatch.setattr(importlib.metadata, "version", refuse)
    reports = inventory.list_extensions(host, load=False)
    assert {report.enabled_features for report in reports} == {("extra",)}


def test_a_feature_recorded_at_install_is_on_whatever_is_installed(site: Path) -> None:
    write_extension(site, "recorded", "anya-no-such-distribution>=1")
    assert enabled(site, {"anya-ext-recorded": ("extra",)}) == {"recorded": ("extra",)}


def test_doctor_names_a_requirement_missing_or_too_old_by_the_same_check(site: Path) -> None:
    write_library(site, "anya-req-lib", "1.5")
    write_extension(site, "met", "anya-req-lib>=1", in_feature=False)
    write_extension(site, "too-old", "anya-req-lib>=2", in_feature=False)
    write_extension(site, "absent", "anya-no-such-distribution>=1", in_feature=False)
    importlib.invalidate_caches()
    checks = {c.subject: c for c in inventory.doctor(Host(path=[str(site)])).checks}
    assert checks["extension met"].ok, checks["extension met"].detail
    assert checks["extension too-old"].detail == "missing requirements: anya-req-lib>=2"
    assert checks["extension absent"].detail == (
        "missing requirements: anya-no-such-distribution>=1"
    )
