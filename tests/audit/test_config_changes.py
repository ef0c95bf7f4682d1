"""``config set``/``unset`` and ``enable``/``disable`` are in the audit log: the key and the
change, never the value, anchored in the user's data directory; no install code involved."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from anya_plugins.audit.anchors import USER_ANCHOR
from anya_plugins.audit.config_changes import record_config_change
from anya_plugins.config.layers import load_config


def _entries(log: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_a_change_records_the_key_never_the_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANYA_DATA_DIR", str(tmp_path / "data"))
    log = tmp_path / "audit.jsonl"
    config = load_config(tmp_path / "extensions.toml", environ={}, overrides=[f"audit.log={log}"])

    record_config_change(config, "btc-wallet.rpc_password", "set")

    (entry,) = _entries(log)
    assert entry["action"] == "config-change"
    file = str(tmp_path / "extensions.toml")
    assert entry["details"] == {"key": "btc-wallet.rpc_password", "change": "set", "file": file}
    assert (tmp_path / "data" / USER_ANCHOR).exists()


def test_config_set_is_recorded_and_anchored(tmp_path: Path) -> None:
    environ = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "ANYA_CONFIG": str(tmp_path / "extensions.toml"),
        "ANYA_DATA_DIR": str(tmp_path / "data"),
        "ANYA_AUDIT_LOG": str(tmp_path / "audit.jsonl"),
    }

    done = subprocess.run(
        [sys.executable, "-m", "anya_plugins.cli.main", "config", "set",
         "host.require_verified", "true"],
        capture_output=True, text=True, check=False, env=environ,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    (entry,) = _entries(tmp_path / "audit.jsonl")
    assert (entry["action"], entry["details"]["key"]) == ("config-change", "host.require_verified")  # type: ignore[index]
    assert "true" not in json.dumps(entry["details"])
    assert (tmp_path / "data" / USER_ANCHOR).exists()
