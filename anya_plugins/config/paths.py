"""Where the user configuration file lives."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

CONFIG_ENV = "ANYA_CONFIG"
FILE_NAME = "extensions.toml"


def user_config_path(environ: Mapping[str, str] | None = None) -> Path:
    """``ANYA_CONFIG`` when set (and not empty), else ``extensions.toml`` in the user config dir."""
    env = os.environ if environ is None else environ
    override = env.get(CONFIG_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs  # only here: the host imports this module at start-up

    return platformdirs.user_config_path("anya") / FILE_NAME
