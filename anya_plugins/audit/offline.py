"""Advisories from disk: a directory of OSV JSON files (one record a file, at any depth) or a zip
of them, as osv.dev publishes ``PyPI/all.zip``. Nothing here touches the network."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator, Mapping
from functools import cached_property
from pathlib import Path

from packaging.version import Version

from anya_plugins.audit.errors import AdvisoryDatabaseError
from anya_plugins.audit.osv import Advisory, parse_advisory, pypi_names
from anya_plugins.audit.vulnerabilities import AdvisoryService, Finding, Package

_MISSING_HINT = (
    "set audit.advisories to a directory of OSV JSON files or to a zip of them, "
    "or download osv.dev's PyPI advisories with update_advisories (anya-ext audit update)"
)


class OfflineOsvService(AdvisoryService):
    """An :class:`AdvisoryService` over OSV records on disk.

    Every record is read and indexed by package name on first use; a record is parsed in
    full only when one of its packages is asked about.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._parsed: dict[str, tuple[Advisory, ...]] = {}

    @property
    def description(self) -> str:
        return str(self.path)

    def query(self, package: Package, version: Version) -> list[Finding]:
        return [
            Finding(
                package=package.name,
                version=package.version,
                advisory=advisory.id,
                aliases=tuple(sorted(set(advisory.aliases) - {advisory.id})),
                summary=advisory.summary,
                severity=advisory.severity_for(package.name),
                fixed_versions=advisory.fixed_versions(package.name, version),
                published=advisory.published,
            )
            for advisory in self.advisories_for(package.canonical_name)
            if advisory.withdrawn is None and advisory.affects(package.name, version)
        ]

    def advisories_for(self, canonical_name: str) -> tuple[Advisory, ...]:
        """Every record that names the PyPI package ``canonical_name``, withdrawn ones too."""
        if canonical_name not in self._parsed:
            self._parsed[canonical_name] = tuple(
                parse_advisory(data, source) for source, data in self._index.get(canonical_name, ())
            )
        return self._parsed[canonical_name]

    @cached_property
    def _index(self) -> Mapping[str, list[tuple[str, object]]]:
        index: dict[str, list[tuple[str, object]]] = {}
        for source, data in read_records(self.path):
            for name in pypi_names(data, source):
                index.setdefault(name, []).append((source, data))
        return index


def load_advisories(path: Path) -> Iterator[Advisory]:
    """Every OSV record under ``path``, parsed in full."""
    for source, data in read_records(path):
        yield parse_advisory(data, source)


def read_records(path: Path) -> Iterator[tuple[str, object]]:
    """Every JSON document under ``path`` (a directory or a ``.zip``) in name order, each with
    where it came from (a file, or ``zip!member``)."""
    if path.is_dir():
        for file in sorted(path.rglob("*.json")):
            yield str(file), _decode(_read(file), str(file))
    elif path.is_file():
        yield from _from_zip(path)
    else:
        raise AdvisoryDatabaseError(str(path), "no such directory or file", hint=_MISSING_HINT)


def _from_zip(path: Path) -> Iterator[tuple[str, object]]:
    try:
        with zipfile.ZipFile(path) as archive:
            for member in sorted(archive.namelist()):
                if member.endswith(".json"):
                    source = f"{path}!{member}"
                    yield source, _decode(archive.read(member), source)
    except zipfile.BadZipFile as error:
        raise AdvisoryDatabaseError(
            str(path), f"not a zip of OSV records: {error}", hint=_MISSING_HINT
        ) from None
    except OSError as error:
        raise AdvisoryDatabaseError(str(path), f"cannot be read: {error}") from None


def _read(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except OSError as error:
        raise AdvisoryDatabaseError(str(file), f"cannot be read: {error.strerror}") from None


def _decode(data: bytes, source: str) -> object:
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise AdvisoryDatabaseError(
            source,
            f"not JSON: {error}",
            hint="fix or remove that file, or download the advisories again",
        ) from None
