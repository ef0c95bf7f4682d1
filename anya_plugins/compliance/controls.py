"""The controls table (``controls.toml``, kept with the code): for each standard, each control's
title and the evidence kinds that support it."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from anya_plugins.compliance.errors import ComplianceError

STANDARDS = ("SOC2", "ISO27001", "PCI-DSS")


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class Standard:
    id: str
    name: str
    controls: tuple[Control, ...]


@cache
def controls_table() -> dict[str, Standard]:
    """Every standard of the table, by id."""
    data = tomllib.loads(files(__package__).joinpath("controls.toml").read_text("utf-8"))
    return {
        standard_id: Standard(
            standard_id,
            str(table["name"]),
            tuple(
                Control(control_id, str(control["title"]), tuple(control["evidence"]))
                for control_id, control in table["controls"].items()
            ),
        )
        for standard_id, table in data.items()
    }


def standard(standard_id: str) -> Standard:
    table = controls_table()
    found = table.get(standard_id.upper())
    if found is None:
        raise ComplianceError(
            f"unknown standard {standard_id!r}", hint=f"choose one of {', '.join(table)}"
        )
    return found
