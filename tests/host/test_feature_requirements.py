"""A feature whose requirements are installed counts as enabled without a receipt (plain
pip records no extras); a listing looks each distinct requirement up once."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from anya_plugins import Host
from anya_plugins.host import inventory

KEYWORDS = (
    "anya-extension,anya-category:community/experimental,anya-host-api:>=1.0,anya-host-api:<2"
)


def write_extension(site: Path, name: str, requirement: str) -> None:
    """``anya-ext-<name>`` with one feature, ``extra``, that needs ``requirement``."""
    module = f"feat_{name.replace('-', '_')}"
    (site / f"{module}.py").write_text("")
    dist_info = site / f"anya_ext_{name.replace('-', '_')}-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: anya-ext-{name}\nVersion: 1.0\nSummary: {name}\n"
        f"Keywords: {KEYWORDS}\nProvides-Extra: extra\n"
        f'Requires-Dist: {requirement}; extra == "extra"\n'
    )
    (dist_info / "entry_points.txt").write_text(f"[anya.extensions]\n{name} = {module}\n")


def test_requirements_decide_and_each_is_looked_up_once(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number in range(3):
        write_extension(site, f"met-{number}", "pluggy>=1")
    write_extension(site, "unmet", "anya-no-such-distribution>=1")
    importlib.invalidate_caches()
    asked: list[str] = []
    real = inventory._installed

    def counting(requirement: str) -> bool:
        asked.append(requirement)
        return real(requirement)

    monkeypatch.setattr(inventory, "_installed", counting)
    reports = inventory.list_extensions(Host(path=[str(site)]), load=False)
    enabled = {report.name: report.enabled_features for report in reports}
    assert enabled == {"met-0": ("extra",), "met-1": ("extra",), "met-2": ("extra",), "unmet": ()}
    assert sorted(asked) == ["anya-no-such-distribution>=1", "pluggy>=1"]


def test_a_feature_recorded_at_install_is_not_looked_up(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_extension(site, "recorded", "anya-no-such-distribution>=1")
    importlib.invalidate_caches()
    asked: list[str] = []
    monkeypatch.setattr(inventory, "_installed", asked.append)
    recorded = {"anya-ext-recorded": ("extra",)}
    reports = inventory.list_extensions(Host(path=[str(site)]), load=False, recorded=recorded)
    assert [report.enabled_features for report in reports] == [("extra",)]
    assert asked == []
