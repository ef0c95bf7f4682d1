"""Checking an installed distribution's files against the hashes its RECORD lists.

What this finds: a file edited, replaced or deleted after installation, and a file dropped
into one of the distribution's own directories (a new module beside its code). What it cannot
find alone: RECORD rewritten along with the files it lists. So :attr:`InstalledReport.
record_sha256` is reported, for the caller to compare with the hash it stored at install time
in the install receipt, next to the signature bundle of the wheel that was installed (which
:func:`anya_plugins.trust.verification.verify_digest` re-checks from the receipt).

Files RECORD lists without a hash (RECORD itself, byte code compiled by the installer) are
skipped, and so is everything under ``__pycache__``: Python rewrites those on its own.

RECORD is read here, not through ``Distribution.files``: the ``importlib_metadata`` backport
leaves out of ``files`` every listed file that no longer exists, and once any module in the
process imports it (keyring does) it replaces the standard library's distribution finder, so
``importlib.metadata.distributions()`` hands out its distributions. Through ``files``, a deleted
file would go unreported in exactly those processes.
"""

from __future__ import annotations

import base64
import csv
import hashlib
from dataclasses import dataclass
from enum import StrEnum
from importlib.metadata import Distribution, FileHash
from pathlib import Path

from anya_plugins.trust.errors import InstalledFilesUnverifiable

BYTECODE_DIR = "__pycache__"


class Tampering(StrEnum):
    """How an installed file differs from what RECORD says."""

    CHANGED = "changed"
    """Its hash is not the one RECORD lists."""
    MISSING = "missing"
    """RECORD lists it, and it is gone."""
    ADDED = "added"
    """It sits in one of the distribution's directories and RECORD does not list it."""
    UNVERIFIABLE = "unverifiable"
    """RECORD lists it with a hash algorithm this Python does not have."""


@dataclass(frozen=True)
class FileFinding:
    """One installed file that is not as RECORD says."""

    path: str
    """The path as RECORD spells it (relative to site-packages) or, for an added file, the
    same way."""
    location: Path
    kind: Tampering
    expected: str | None = None
    """``<algorithm>=<urlsafe base64 digest>`` from RECORD."""
    found: str | None = None
    """The same for the file on disk, when it could be hashed."""

    def __str__(self) -> str:
        return f"{self.kind.value}: {self.path}"


@dataclass(frozen=True)
class InstalledReport:
    """The result of checking one installed distribution's files."""

    dist_name: str
    version: str
    checked: int
    """Files hashed and compared."""
    skipped: tuple[str, ...]
    """Files RECORD lists without a hash."""
    findings: tuple[FileFinding, ...]
    record_sha256: str | None
    """The hex sha256 of RECORD as it is now, None if it could not be read."""

    @property
    def intact(self) -> bool:
        return not self.findings

    def of_kind(self, kind: Tampering) -> tuple[FileFinding, ...]:
        return tuple(finding for finding in self.findings if finding.kind is kind)


@dataclass(frozen=True)
class ListedFile:
    """One line of RECORD."""

    path: str
    """As RECORD spells it (relative to site-packages)."""
    location: Path
    hash: FileHash | None


def record_files(dist: Distribution) -> list[ListedFile] | None:
    """Every file ``dist``'s RECORD lists, whether or not it still exists; None without RECORD.

    Use this, never ``dist.files``, to check installed files (see the module's docstring).
    """
    text = dist.read_text("RECORD")
    if text is None:
        return None
    return [
        ListedFile(
            row[0],
            Path(str(dist.locate_file(row[0]))),
            FileHash(row[1]) if len(row) > 1 and row[1] else None,
        )
        for row in csv.reader(text.splitlines())
        if row and row[0]
    ]


def verify_installed(dist: Distribution, *, look_for_added: bool = True) -> InstalledReport:
    """Hash every file ``dist``'s RECORD lists and compare; look for files added beside them
    (unless not ``look_for_added``: right after an install, which writes only listed files).

    Raises :class:`InstalledFilesUnverifiable` when the distribution has no RECORD.
    """
    name = dist.metadata["Name"] or "unknown distribution"
    files = record_files(dist)
    if files is None:
        location = dist.locate_file("")
        raise InstalledFilesUnverifiable(name, Path(str(location)))
    findings = check_listed(files)
    skipped = [listed.path for listed in files if listed.hash is None]
    checked = len(files) - len(skipped)
    if look_for_added:
        findings.extend(_added(dist, files))
    return InstalledReport(
        dist_name=name,
        version=dist.version,
        checked=checked,
        skipped=tuple(skipped),
        findings=tuple(findings),
        record_sha256=_record_sha256(files),
    )


def check_listed(files: list[ListedFile]) -> list[FileFinding]:
    """Each of ``files`` (from :func:`record_files`) that RECORD lists with a hash, hashed and
    compared: the ones that differ."""
    return [
        finding
        for listed in files
        if listed.hash is not None and (finding := _check(listed, listed.hash)) is not None
    ]


def _check(listed: ListedFile, recorded: FileHash) -> FileFinding | None:
    location = listed.location
    expected = f"{recorded.mode}={recorded.value}"
    if recorded.mode not in hashlib.algorithms_available:
        return FileFinding(listed.path, location, Tampering.UNVERIFIABLE, expected)
    try:
        with location.open("rb") as handle:
            digest = hashlib.file_digest(handle, recorded.mode).digest()
    except FileNotFoundError:
        return FileFinding(listed.path, location, Tampering.MISSING, expected)
    except OSError as error:
        found = f"unreadable ({error.strerror or error})"
        return FileFinding(listed.path, location, Tampering.CHANGED, expected, found)
    value = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    if value == recorded.value:
        return None
    return FileFinding(
        listed.path, location, Tampering.CHANGED, expected, f"{recorded.mode}={value}"
    )


def _added(dist: Distribution, files: list[ListedFile]) -> list[FileFinding]:
    """Files in the directories that hold the distribution's files, which RECORD does not list.

    Only directories inside site-packages (not site-packages itself, shared by every
    distribution, nor the scripts directory) and not byte-code caches.
    """
    root = Path(str(dist.locate_file(""))).resolve()
    listed = {entry.location.resolve() for entry in files}
    directories = {
        location.parent
        for location in listed
        if location.parent != root
        and location.parent.is_relative_to(root)
        and BYTECODE_DIR not in location.parent.relative_to(root).parts
    }
    return [
        FileFinding(candidate.relative_to(root).as_posix(), candidate, Tampering.ADDED)
        for directory in sorted(directories)
        if directory.is_dir()
        for candidate in sorted(directory.iterdir())
        if candidate not in listed and not candidate.is_dir()
    ]


def _record_sha256(files: list[ListedFile]) -> str | None:
    record = next(
        (
            entry
            for entry in files
            if entry.location.name == "RECORD" and entry.location.parent.name.endswith(".dist-info")
        ),
        None,
    )
    if record is None:
        return None
    try:
        with record.location.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError:
        return None
