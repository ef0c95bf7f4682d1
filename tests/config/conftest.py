"""Real user files in a temporary directory, and a schema like an extension would declare."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

EXAMPLE = """\
# my settings
[host]
disabled = ["foo"]

[btc-wallet]
port = 8332   # rpc port
network = "signet"
"""


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    """Where the user file goes; nothing is written there yet."""
    return tmp_path / "anya" / "extensions.toml"


@pytest.fixture
def write_config(config_path: Path) -> Callable[[str], Path]:
    """Write the user file with the given text and return its path."""

    def write(text: str) -> Path:
        config_path.parent.mkdir(parents=True, exist_ok=True)
        config_path.write_text(text, encoding="utf-8")
        return config_path

    return write


@pytest.fixture
def example_config(write_config: Callable[[str], Path]) -> Path:
    return write_config(EXAMPLE)


@pytest.fixture
def wallet_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "port": {"type": "integer", "minimum": 1, "maximum": 65535},
            "network": {"type": "string", "enum": ["main", "signet", "regtest"]},
            "label": {"type": "string"},
            "timeout": {"type": "number", "default": 30},
        },
        "additionalProperties": False,
    }
