"""Install receipts: what was installed, from where, with which hash and features.

pip records none of this; the receipts are what ``lock``, ``verify``, ``outdated``,
``update`` (each extension is updated from the source it came from) and the
enabled-features column read. One JSON file per distribution, kept inside
the environment, written atomically.

Beside each receipt, ``<name>.files`` holds the fingerprints of the distribution's installed
files, checked against RECORD when written (:mod:`anya_plugins.host.integrity`): the host
refuses an extension whose files changed after install.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from anya_plugins.errors import AnyaError
from anya_plugins.host import integrity
from anya_plugins.install.recorded_features import receipt_file

if TYPE_CHECKING:
    from importlib.metadata import Distribution

    from anya_plugins.install.environment import TargetEnvironment

_RECEIPTS_DIR = integrity.RECEIPTS_DIR

PRIVATE_SOURCE_PREFIX = "enterprise."
"""Sources named ``enterprise.<org>`` are private: what they installed is never replaced
from anywhere else."""


def is_private_source(source: str) -> bool:
    return source.startswith(PRIVATE_SOURCE_PREFIX)


@dataclass(frozen=True)
class Receipt:
    name: str
    version: str
    filename: str
    sha256: str
    url: str
    source: str
    index_url: str
    features: tuple[str, ...] = ()
    requested: bool = False
    installed_at: float = field(default_factory=time.time)
    provenance: str | None = None
    """The PEP 740 provenance the file was verified with (JSON text), for ``anya-ext verify``."""
    signer: str | None = None
    """The identity that signed it, or None for a file let in unsigned."""
    issuer: str | None = None
    """The OIDC issuer that vouched for :attr:`signer`."""
    download_receipt: str | None = None
    """The registry's signed receipt for this file fetched by a signed-in user (the proof a
    hub review's "verified install" rests on; :mod:`anya_plugins.registry.download_receipts`)."""

    @property
    def private(self) -> bool:
        """Installed from an enterprise source: only that source may ever replace it."""
        return is_private_source(self.source)


def receipts_dir(env: TargetEnvironment) -> Path:
    return env.prefix / _RECEIPTS_DIR


def write_receipt(env: TargetEnvironment, receipt: Receipt) -> Path:
    directory = receipts_dir(env)
    directory.mkdir(parents=True, exist_ok=True)
    target = Path(receipt_file(str(directory), receipt.name))
    temporary = target.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(asdict(receipt), indent=2, sort_keys=True))
    temporary.replace(target)
    return target


def read_receipts(
    env: TargetEnvironment, installed: Mapping[str, str] | None = None
) -> dict[str, Receipt]:
    """Receipts of distributions that are still installed at the recorded version;
    ``installed`` (name -> version), when the caller knows it, spares reading every
    distribution's metadata."""
    found: dict[str, Receipt] = {}
    directory = receipts_dir(env)
    if not directory.is_dir():
        return found
    if installed is None:
        installed = env.installed_versions()
    for file in sorted(directory.glob("*.json")):
        data = json.loads(file.read_text())
        data["features"] = tuple(data.get("features", ()))
        receipt = Receipt(**data)
        if installed.get(receipt.name) == receipt.version:
            found[receipt.name] = receipt
    return found


def remove_receipt(env: TargetEnvironment, name: str) -> None:
    Path(receipt_file(str(receipts_dir(env)), name)).unlink(missing_ok=True)
    Path(integrity.fingerprint_file(str(receipts_dir(env)), name)).unlink(missing_ok=True)


class InstalledFilesDiffer(AnyaError):
    """Right after installing, a distribution's files are not the ones its RECORD lists."""

    exit_code = 11


def write_all_fingerprints(env: TargetEnvironment, names: Sequence[str]) -> list[Path]:
    """Fingerprint every file the installed RECORD of each of ``names`` lists with a hash,
    after hashing each and checking it against RECORD; raises InstalledFilesDiffer for the
    first that differs, before any is written.

    Each file is stat-ed before it is hashed, so a change made after the hash moves its
    ctime away from the fingerprint and the host hashes it again. Each distribution is
    looked up by its name (importlib.metadata lists the library directories once for all
    of them), not the whole environment read; they are written one after another, in this
    thread (the work is short system calls, which threads would only queue up for the GIL
    between).
    """
    from importlib.metadata import distributions

    from anya_plugins.metadata.core_headers import name_and_version

    libraries = [str(path) for path in env.library_dirs]
    found = []
    for name in names:
        dist = next(iter(distributions(name=name, path=libraries)), None)
        if dist is None:
            raise InstalledFilesDiffer(
                f"{name}: the installer did not install it",
                hint="the environment was rolled back; install again",
            )
        found.append(_fingerprints(name, dist, name_and_version(dist)[1]))
    directory = receipts_dir(env)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, version, location, entries in found:
        target = integrity.fingerprint_file(str(directory), name)
        integrity.write(target, version, location, entries)
        written.append(Path(target))
    return written


def _fingerprints(
    name: str, dist: Distribution, version: str
) -> tuple[str, str, str, list[integrity.FileEntry]]:
    """(name, version, location, entries) of the installed ``dist``, checked against RECORD."""
    from anya_plugins.trust.installed import check_listed, record_files

    location = str(dist.locate_file(""))
    # One resolve of site-packages, not one per file: RECORD's paths are relative to it.
    root = os.path.realpath(location)
    files = record_files(dist)
    if files is None:
        raise InstalledFilesDiffer(
            f"{name}: the installer wrote no RECORD",
            hint="the environment was rolled back; install again",
        )
    listed = [(os.path.normpath(f"{root}/{f.path}"), f.hash) for f in files if f.hash]
    try:
        stats = [integrity.entry(path, "") for path, _hash in listed]
    except OSError:
        stats = []
    # Each file stat-ed, then hashed and compared with RECORD. A file added beside the
    # listed ones never kept a fingerprint from being written.
    wrong = [str(f) for f in check_listed(files)]
    if wrong or len(stats) != len(listed):
        raise InstalledFilesDiffer(
            f"{name}: the installed files are not what RECORD lists "
            f"({', '.join(wrong) or 'a file vanished'})",
            hint="the environment was rolled back; install again",
        )
    entries = [
        (*stat[:5], _sha256_hex(path, recorded.mode, recorded.value))
        for stat, (path, recorded) in zip(stats, listed, strict=True)
    ]
    return name, version, location, entries


def _sha256_hex(path: str, mode: str, value: str) -> str:
    if mode == "sha256":
        import base64

        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).hex()
    import hashlib

    with Path(path).open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
