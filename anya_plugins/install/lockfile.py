"""The lock file: every distribution of an environment's extensions, file by file.

```json
{
  "lock-version": 2,
  "environment": {"python_full_version": "3.11.7", "sys_platform": "linux", ...},
  "packages": [
    {"name": "anya-ext-lightning", "version": "1.2.0", "requested": true, "features": ["tor"],
     "filename": "anya_ext_lightning-1.2.0-py3-none-any.whl", "sha256": "...",
     "source": "primary", "index_url": "http://.../+simple/", "url": "http://.../+f/...",
     "signer": "release@anya.example", "issuer": "https://token.actions.githubusercontent.com"}
  ],
  "unlocked": [
    {"name": "anya-plugins", "version": "0.1.0", "reason": "installed without anya-ext ..."}
  ]
}
```

``packages`` are installable from their source by hash; ``unlocked`` are distributions of
the closure that no source is known for (installed by plain pip, from a path, editable):
``sync`` cannot install them and says so. ``environment`` is the marker environment the
closure was evaluated for.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from anya_plugins.config.atomic import write_atomic
from anya_plugins.errors import AnyaError
from anya_plugins.install.transaction import InstallRefused, LockedFile

LOCK_FORMAT = 2


class LockError(AnyaError):
    """The lock file cannot be written, read, or does not describe an installable set."""

    exit_code = 4


class UnlockedMissing(InstallRefused):
    """A distribution locked without a source is not installed here at the locked version:
    sync cannot fetch it, so it changes nothing."""


@dataclass(frozen=True)
class UnlockedDistribution:
    """A distribution the closure needs that no index is known to serve."""

    name: str
    version: str
    reason: str


@dataclass(frozen=True)
class LockDocument:
    packages: tuple[LockedFile, ...]
    unlocked: tuple[UnlockedDistribution, ...] = ()
    environment: Mapping[str, str] = field(default_factory=dict)


def dump_lock(path: Path, document: LockDocument) -> None:
    """Write atomically: a reader sees the old lock or the new one."""
    data = {
        "lock-version": LOCK_FORMAT,
        "environment": dict(document.environment),
        "packages": [asdict(entry) for entry in document.packages],
        "unlocked": [asdict(entry) for entry in document.unlocked],
    }
    try:
        write_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n")
    except OSError as error:
        raise LockError(f"cannot write the lock file {path}: {error}") from error


def load_lock(path: Path) -> LockDocument:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise LockError(f"{path} is not a readable Anya lock file: {error}") from error
    version = data.get("lock-version") if isinstance(data, dict) else None
    if version == 1:
        raise LockError(
            f"{path} is a lock-version 1 file: it lists only the extensions, not every "
            "distribution they need, so it cannot reproduce an environment",
            hint="write it again with 'anya-ext lock' where the extensions are installed",
        )
    if version != LOCK_FORMAT:
        raise LockError(
            f"{path}: unsupported lock-version {version!r} (this anya-ext reads {LOCK_FORMAT})"
        )
    try:
        return LockDocument(
            packages=tuple(_locked_file(entry) for entry in data["packages"]),
            unlocked=tuple(UnlockedDistribution(**entry) for entry in data.get("unlocked", [])),
            environment={str(k): str(v) for k, v in data.get("environment", {}).items()},
        )
    except (KeyError, TypeError, AttributeError) as error:
        raise LockError(f"{path} is not a readable Anya lock file: {error}") from error


def _locked_file(entry: Mapping[str, Any]) -> LockedFile:
    return LockedFile(**{**entry, "features": tuple(entry.get("features", ()))})
