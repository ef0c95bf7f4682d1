from __future__ import annotations

from pathlib import Path

import platformdirs

from anya_plugins.config.paths import user_config_path


def test_anya_config_variable_names_the_file(tmp_path: Path) -> None:
    chosen = tmp_path / "mine.toml"
    assert user_config_path({"ANYA_CONFIG": str(chosen)}) == chosen


def test_without_anya_config_the_file_is_in_the_user_config_dir() -> None:
    expected = platformdirs.user_config_path("anya") / "extensions.toml"
    assert user_config_path({}) == expected


def test_empty_anya_config_counts_as_unset() -> None:
    assert user_config_path({"ANYA_CONFIG": ""}) == user_config_path({})
