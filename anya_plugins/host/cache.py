"""The discovery cache: a marshal file per environment, valid while nothing on sys.path changed.

Start-up cost is the product's tax on every Anya process, so a warm start reads one
file and looks at the sys.path entries: no importlib.metadata, packaging or TOML.
The key is what can change discovery: the interpreter, the host API, the entry-point
group, the environment variables that locate the configuration, and each sys.path
entry. A directory that holds distributions (site-packages) is watched by its mtime,
inode and link count, since installing or removing one adds or removes a
``.dist-info`` directory; any other directory (the script's own, the standard library)
by the names of the distributions in it, so that working in the current directory
does not throw the cache away. As git does for its index, a cache whose scan started
less than RACY_WINDOW_NS after the newest watched mtime is not trusted, since a change
within the same clock tick would not move the mtime.
"""

from __future__ import annotations

import marshal
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Collection, Sequence
    from typing import Any

FORMAT = 4
RACY_WINDOW_NS = 2_000_000_000
_ENV_INPUTS = ("ANYA_CONFIG", "HOME", "XDG_CONFIG_HOME", "APPDATA", "LOCALAPPDATA")
_DIST_SUFFIXES = (".dist-info", ".egg-info")


def static_key(group: str, host_api: str) -> tuple[Any, ...]:
    """What the cache depends on besides the sys.path entries."""
    environment = tuple(os.environ.get(name, "") for name in _ENV_INPUTS)
    return (FORMAT, sys.version, sys.executable, host_api, group, environment)


def fingerprint(path: Sequence[str], site_dirs: Collection[str]) -> tuple[Any, ...]:
    """What each sys.path entry looks like now (see the module docstring)."""
    stamps: list[Any] = []
    for entry in path:
        normalized = os.path.normpath(entry)
        try:
            stat = os.stat(normalized)
        except OSError:
            stamps.append((entry,))
            continue
        if normalized in site_dirs:
            stamps.append((entry, stat.st_mtime_ns, stat.st_ino, stat.st_nlink))
        elif os.path.isdir(normalized):
            stamps.append((entry, _distribution_names(normalized)))
        else:
            stamps.append((entry, stat.st_mtime_ns, stat.st_size))
    return tuple(stamps)


def _distribution_names(directory: str) -> tuple[str, ...]:
    try:
        names = os.listdir(directory)
    except OSError:
        return ()
    return tuple(sorted(name for name in names if name.endswith(_DIST_SUFFIXES)))


def default_cache_dir() -> str:
    """ANYA_CACHE_DIR, else a directory inside the environment, else the user cache."""
    configured = os.environ.get("ANYA_CACHE_DIR")
    if configured:
        return configured
    if os.access(sys.prefix, os.W_OK):
        return os.path.join(sys.prefix, ".anya-cache")
    import platformdirs

    return platformdirs.user_cache_dir("anya")


def cache_file(directory: str, group: str, path: Sequence[str]) -> str:
    """One file per group and sys.path, so that a script and ``python -c`` do not take turns."""
    import zlib

    path_id = zlib.crc32("\0".join(path).encode("utf-8", "surrogateescape"))
    return os.path.join(directory, f"discovery-{group}-{path_id:08x}.marshal")


def load(file: str, key: tuple[Any, ...], path: Sequence[str]) -> dict[str, Any] | None:
    """The cached payload if nothing it depends on changed and it is not racy, else None."""
    stored = read_marshal(file)
    if not isinstance(stored, tuple) or len(stored) != 3:
        return None
    stored_key, stored_print, payload = stored
    if stored_key != key:
        return None
    site_dirs = payload["site_dirs"]
    if fingerprint(path, site_dirs) != stored_print:
        return None
    newest = max((stamp[1] for stamp in stored_print if len(stamp) == 4), default=0)
    if payload["scanned_ns"] - newest < RACY_WINDOW_NS:
        return None
    return payload  # type: ignore[no-any-return]


def store(file: str, key: tuple[Any, ...], path: Sequence[str], payload: dict[str, Any]) -> None:
    """Write atomically; a cache that cannot be written only costs speed, never correctness.

    ``payload["scanned_ns"]`` is when the scan started, for the racy check.
    """
    write_atomically(file, (key, fingerprint(path, payload["site_dirs"]), payload))


def read_marshal(file: str) -> object:
    """What ``file`` holds, or None when it is missing, unreadable or not marshal data; the
    caller checks its shape (a file of another format or version reads as None there)."""
    try:
        with open(file, "rb") as handle:
            # loads(read()) is 15x faster than load() on a buffered file
            return marshal.loads(handle.read())
    except (OSError, EOFError, ValueError, TypeError):
        return None


def write_atomically(file: str, value: tuple[Any, ...]) -> None:
    """marshal ``value`` into ``file`` atomically; an error only costs speed, so it passes."""
    temporary = f"{file}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(file), exist_ok=True)
        with open(temporary, "wb") as handle:
            marshal.dump(value, handle)
        os.replace(temporary, file)
    except OSError:
        import contextlib

        with contextlib.suppress(OSError):
            os.unlink(temporary)


DIGESTS_FILE = "valid-schemas.marshal"
"""Beside the discovery caches: digests of configuration schemas that passed the metaschema
(:func:`anya_plugins.config.schema.check_schema`), so each is checked once, not in every
process. A digest is of the schema's whole content: a changed schema is checked anew."""


def digests_file(directory: str) -> str:
    return os.path.join(directory, DIGESTS_FILE)


def load_digests(file: str) -> set[str]:
    """The digests stored in ``file`` (none if it is missing or unreadable)."""
    stored = read_marshal(file)
    if not isinstance(stored, tuple) or len(stored) != 2 or stored[0] != FORMAT:
        return set()
    return {digest for digest in stored[1] if isinstance(digest, str)}


def store_digests(file: str, digests: Collection[str]) -> None:
    """Write atomically; failing to write only costs speed."""
    write_atomically(file, (FORMAT, tuple(sorted(digests))))
