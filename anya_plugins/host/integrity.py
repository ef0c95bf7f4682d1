"""Whether an extension's installed files are still the ones verified when it was installed.

At install, beside the receipt, Anya writes ``<prefix>/.anya-receipts/<name>.files``: for
each file RECORD lists with a hash, its path, a stat fingerprint (size, mtime, ctime,
inode) and its sha256, hashed then and checked against RECORD. Before the host imports an
extension (whether discovery came from its cache or not: an in-place edit changes no
directory's mtime) it stats those files and hashes only the ones whose fingerprint moved;
discovery itself does none of this, so start-up does not pay for it. ctime is in the
fingerprint because a process can put a file's mtime back but not its ctime; a ``touch``
therefore costs one hash, and the content decides.

This module is on the start-up path: os, marshal and the discovery cache's reader only;
hashlib loads when a hash is due.
"""

from __future__ import annotations

import marshal
import os

from anya_plugins.host.cache import read_marshal
from anya_plugins.metadata.names import canonical

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Container, Sequence

FORMAT = 1
RECEIPTS_DIR = ".anya-receipts"
FINGERPRINT_SUFFIX = ".files"

VERIFIED = "verified"
"""Installed by Anya, and every file is as it was verified."""
UNVERIFIED = "unverified"
"""No fingerprints for it (installed by plain pip, or at another version than Anya's receipt)."""
TAMPERED = "tampered"
"""A file differs from what was verified at install, or is gone."""

FileEntry = tuple[str, int, int, int, int, str]
"""(absolute path, size, mtime_ns, ctime_ns, inode, sha256 hex)."""


def fingerprint_file(receipts_dir: str, dist_name: str) -> str:
    return os.path.join(receipts_dir, canonical(dist_name) + FINGERPRINT_SUFFIX)


def entry(path: str, sha256: str) -> FileEntry:
    """One file's line, stat taken now."""
    stat = os.stat(path)
    return (path, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, sha256)


def write(file: str, version: str, location: str, entries: Sequence[FileEntry]) -> None:
    """Write atomically (temporary file, rename)."""
    temporary = f"{file}.{os.getpid()}.tmp"
    with open(temporary, "wb") as handle:
        marshal.dump((FORMAT, version, location, tuple(entries)), handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, file)


def read(file: str) -> tuple[str, str, tuple[FileEntry, ...]] | None:
    """(version, location, entries), or None when absent or not in this format."""
    stored = read_marshal(file)
    if not isinstance(stored, tuple) or len(stored) != 4 or stored[0] != FORMAT:
        return None
    return stored[1], stored[2], stored[3]


def fingerprint_files(receipts_dir: str) -> frozenset[str]:
    """The names of the fingerprint files in ``receipts_dir`` (none if it does not exist):
    checking many extensions, one listing instead of a stat for each."""
    try:
        names = os.listdir(receipts_dir)
    except OSError:
        return frozenset()
    return frozenset(name for name in names if name.endswith(FINGERPRINT_SUFFIX))


def check(
    receipts_dir: str,
    dist_name: str,
    version: str,
    location: str,
    present: Container[str] | None = None,
) -> tuple[str, str]:
    """(VERIFIED, ""), (UNVERIFIED, why) or (TAMPERED, which file and how).

    ``present``, from :func:`fingerprint_files`, spares looking for the fingerprint file.
    """
    base = canonical(dist_name) + FINGERPRINT_SUFFIX
    if present is not None and base not in present:
        return UNVERIFIED, _NO_RECEIPT
    file = os.path.join(receipts_dir, base)
    stored = read(file)
    if stored is None and not os.path.exists(file):  # gone, or never written
        return UNVERIFIED, _NO_RECEIPT
    if stored is None:
        return TAMPERED, f"its install fingerprints ({file}) cannot be read"
    recorded_version, recorded_location, entries = stored
    if recorded_version != version or not _same_directory(recorded_location, location):
        return UNVERIFIED, f"Anya's receipt is for {recorded_version} in {recorded_location}"
    for path, size, mtime_ns, ctime_ns, inode, sha256 in entries:
        try:
            stat = os.stat(path)
        except OSError:
            return TAMPERED, f"{path} is missing since install"
        if (
            stat.st_size == size
            and stat.st_mtime_ns == mtime_ns
            and stat.st_ctime_ns == ctime_ns
            and stat.st_ino == inode
        ):
            continue
        if stat.st_size != size or _sha256(path) != sha256:
            return TAMPERED, f"{path} changed since install"
    return VERIFIED, ""


_NO_RECEIPT = "installed without an Anya receipt"


def _same_directory(one: str, other: str) -> bool:
    if one == other:  # as the host found it where the install recorded it: no stat needed
        return True
    try:
        return os.path.samefile(one, other)
    except OSError:
        return False


def _sha256(path: str) -> str:
    import hashlib

    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as error:
        return f"unreadable ({error})"
