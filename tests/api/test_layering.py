"""Imports point downwards: cli -> api -> install/registry -> trust/audit/sources ->
config/metadata. Read from the source (every ``import`` of every module, lazy ones too)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import anya_plugins

PACKAGE = Path(anya_plugins.__file__).parent

MAY_IMPORT = {
    "metadata": {"errors"},
    "config": {"errors", "metadata"},
    "host": {"errors", "metadata", "config"},
    "sources": {"errors", "metadata", "config"},
    "trust": {"errors", "metadata", "config", "sources"},
    "audit": {"errors", "metadata", "config", "sources"},
}
"""The lower layers and all they may import of ours (besides themselves)."""


def _imports() -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE).parts
        layer = relative[0] if len(relative) > 1 else "(top)"
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [node.module]
                if isinstance(node, ast.ImportFrom) and node.module
                else [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            for name in names:
                parts = name.split(".")
                if parts[0] == "anya_plugins" and len(parts) > 1 and parts[1] != layer:
                    found[layer].add(parts[1])
    return found


def test_lower_layers_import_only_what_is_below_them() -> None:
    imports = _imports()

    assert {layer: imports[layer] - allowed for layer, allowed in MAY_IMPORT.items()} == {
        layer: set() for layer in MAY_IMPORT
    }


def test_only_the_cli_imports_the_cli_and_only_the_cli_and_the_package_import_the_api() -> None:
    imports = _imports()

    assert sorted(layer for layer, names in imports.items() if "cli" in names) == []
    assert sorted(layer for layer, names in imports.items() if "api" in names) == ["(top)", "cli"]
