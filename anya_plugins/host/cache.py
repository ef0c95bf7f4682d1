"""The discovery cache: a marshal file per environment, valid while nothing on sys.path changed.

Start-up cost is the product's tax on every Anya process, so a warm start reads one
file and stats the sys.path entries: no importlib.metadata, no packaging, no TOML.
The key is what can change discovery: the interpreter, the host API, the entry-point
group and, for every sys.path entry, the directory's mtime, inode and link count
(installing or removing a distribution adds or removes a ``.dist-info`` directory).
As git does for its index, a cache written less than RACY_WINDOW_NS after the newest
of those mtimes is not trusted, since a change within the same clock tick would not
move the mtime.
"""

from __future__ import annotations

import marshal
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

FORMAT = 1
RACY_WINDOW_NS = 2_000_000_000
_ENV_INPUTS = ("ANYA_CONFIG", "HOME", "XDG_CONFIG_HOME", "APPDATA", "LOCALAPPDATA")


def fingerprint(path: Sequence[str]) -> tuple[tuple[str, int, int, int], ...]:
    """What each sys.path entry looks like now (zeros for an entry that does not exist)."""
    stamps = []
    for entry in path:
        try:
            stat = os.stat(entry or ".")
        except OSError:
            stamps.append((entry, 0, 0, 0))
        else:
            stamps.append((entry, stat.st_mtime_ns, stat.st_ino, stat.st_nlink))
    return tuple(stamps)


def cache_key(group: str, host_api: str, path: Sequence[str]) -> tuple[Any, ...]:
    environment = tuple(os.environ.get(name, "") for name in _ENV_INPUTS)
    return (FORMAT, sys.version, sys.executable, host_api, group, environment, fingerprint(path))


def default_cache_dir() -> str:
    """ANYA_CACHE_DIR, else a directory inside the environment, else the user cache."""
    configured = os.environ.get("ANYA_CACHE_DIR")
    if configured:
        return configured
    if os.access(sys.prefix, os.W_OK):
        return os.path.join(sys.prefix, ".anya-cache")
    import platformdirs

    return platformdirs.user_cache_dir("anya")


def cache_file(directory: str, group: str) -> str:
    return os.path.join(directory, f"discovery-{group}.marshal")


def load(file: str, key: tuple[Any, ...]) -> dict[str, Any] | None:
    """The cached payload if the key matches and the cache is not racy, else None."""
    try:
        with open(file, "rb") as handle:
            stored_key, written_ns, payload = marshal.load(handle)
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if stored_key != key:
        return None
    newest = max((stamp[1] for stamp in key[-1]), default=0)
    if written_ns - newest < RACY_WINDOW_NS:
        return None
    return payload  # type: ignore[no-any-return]


def store(file: str, key: tuple[Any, ...], payload: dict[str, Any]) -> None:
    """Write atomically; a cache that cannot be written only costs speed, never correctness."""
    import time

    temporary = f"{file}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(file), exist_ok=True)
        with open(temporary, "wb") as handle:
            marshal.dump((key, time.time_ns(), payload), handle)
        os.replace(temporary, file)
    except OSError:
        import contextlib

        with contextlib.suppress(OSError):
            os.unlink(temporary)
