"""Where this user's embedded registry runs, as its state directory records it.

``anya-ext registry up --port P`` writes ``http://127.0.0.1:P`` to ``devpi-server.url`` in
the state directory (``$ANYA_REGISTRY_DIR``, else ``registry`` in the user data directory);
the default sources are built on it, so search and install follow the registry wherever it
runs. One small file is read, and only when a source has no configured ``url``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

TYPE_CHECKING = False  # typing costs the start-up milliseconds
if TYPE_CHECKING:
    from typing import Final

REGISTRY_DIR_ENV: Final = "ANYA_REGISTRY_DIR"
URL_FILE: Final = "devpi-server.url"
DEFAULT_REGISTRY_URL: Final = "http://127.0.0.1:3141"
"""Where the embedded registry runs when nothing says otherwise (devpi's own default port)."""


def registry_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The embedded registry's state directory."""
    env = os.environ if environ is None else environ
    configured = env.get(REGISTRY_DIR_ENV)
    if configured:
        return Path(configured)
    import platformdirs

    return platformdirs.user_data_path("anya") / "registry"


def registry_url(environ: Mapping[str, str] | None = None) -> str:
    """The URL the embedded registry was last started at, else the default one."""
    try:
        recorded = (registry_dir(environ) / URL_FILE).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return DEFAULT_REGISTRY_URL
    parts = urlsplit(recorded)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return DEFAULT_REGISTRY_URL
    return recorded.rstrip("/")
