from __future__ import annotations

from pathlib import Path

import pytest

from anya_plugins.config.atomic import write_atomic


def test_write_atomic_replaces_the_content(tmp_path: Path) -> None:
    path = tmp_path / "extensions.toml"
    path.write_text("old\n")
    write_atomic(path, "new\n")
    assert path.read_text() == "new\n"


def test_failed_write_keeps_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "extensions.toml"
    path.write_text("old\n")
    with pytest.raises(UnicodeEncodeError):
        write_atomic(path, "half written \ud800 text\n")
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["extensions.toml"]


def test_write_atomic_keeps_windows_line_endings(tmp_path: Path) -> None:
    path = tmp_path / "extensions.toml"
    write_atomic(path, "[host]\r\n")
    assert path.read_bytes() == b"[host]\r\n"
