"""Imports point downwards: cli -> api -> install/registry -> trust/audit/sources ->
config/metadata. Read from the source (every ``import`` of every module, lazy ones too)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import anya_plugins

PACKAGE = Path(anya_plugins.__file__).parent

BOTTOM = {"errors", "flock"}
"""Modules of the package's top that import nothing of ours: any layer may use them."""
MAY_IMPORT = {
    "metadata": BOTTOM,
    "config": {*BOTTOM, "metadata"},
    "host": {*BOTTOM, "metadata", "config"},
    "sources": {*BOTTOM, "metadata", "config"},
    "trust": {*BOTTOM, "metadata", "config", "sources"},
    "audit": {*BOTTOM, "metadata", "config", "sources"},
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


def test_the_bottom_modules_import_nothing_of_ours() -> None:
    imports = _imports()
    for name in BOTTOM:
        tree = ast.parse((PACKAGE / f"{name}.py").read_text())
        imported = [
            *(n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)),
            *(a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names),
        ]
        ours = [module for module in imported if module.startswith("anya_plugins")]
        assert ours == [], name
    assert "(top)" in imports  # the scan saw the package's top


def test_only_the_cli_imports_the_cli_and_only_the_cli_and_the_package_import_the_api() -> None:
    imports = _imports()

    assert sorted(layer for layer, names in imports.items() if "cli" in names) == []
    assert sorted(layer for layer, names in imports.items() if "api" in names) == ["(top)", "cli"]
