"""Advisories from disk: a directory of OSV JSON files (one record a file, at any depth) or a zip
of them, as osv.dev publishes ``PyPI/all.zip``. Nothing here touches the network."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path

from packaging.version import Version

from anya_plugins.audit.database import DatabaseSummary, newer, parse_timestamp
from anya_plugins.audit.errors import AdvisoryDatabaseError
from anya_plugins.audit.osv import Advisory, parse_advisory, pypi_names
from anya_plugins.audit.vulnerabilities import AdvisoryService, Finding, Package

_MISSING_HINT = (
    "set audit.advisories to a directory of OSV JSON files or to a zip of them, "
    "or download osv.dev's PyPI advisories with 'anya-ext audit --update' "
    "(or import a downloaded copy with 'anya-ext audit --update --from FILE')"
)


@dataclass(frozen=True)
class _Catalog:
    """Every record's PyPI names, read in one pass, and the newest ``modified`` among them."""

    by_name: Mapping[str, list[tuple[str, object]]]
    records: int
    newest_modified: datetime | None


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
                parse_advisory(data, source)
                for source, data in self._catalog.by_name.get(canonical_name, ())
            )
        return self._parsed[canonical_name]

    def summary(self) -> DatabaseSummary:
        """How many records the database holds and how old the newest is (reads it all)."""
        return DatabaseSummary(str(self.path), self._catalog.records, self._catalog.newest_modified)

    @cached_property
    def _catalog(self) -> _Catalog:
        index: dict[str, list[tuple[str, object]]] = {}
        records = 0
        newest: datetime | None = None
        for source, data in read_records(self.path):
            records += 1
            for name in pypi_names(data, source):
                index.setdefault(name, []).append((source, data))
            if isinstance(data, Mapping):
                # Leniently: a record with a malformed date still warns of a vulnerability,
                # it only cannot date the database (an import checks dates strictly).
                newest = newer(newest, parse_timestamp(data.get("modified")))
        return _Catalog(index, records, newest)


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
        yield from read_zip_records(path)
    else:
        raise AdvisoryDatabaseError(str(path), "no such directory or file", hint=_MISSING_HINT)


def read_zip_records(path: Path, *, name: str | None = None) -> Iterator[tuple[str, object]]:
    """Every JSON member of the zip at ``path`` in name order, each with where it came from
    (``zip!member``, the zip called ``name`` when given: a copy is named for its original)."""
    label = name or str(path)
    try:
        with zipfile.ZipFile(path) as archive:
            for member in sorted(archive.namelist()):
                if member.endswith(".json"):
                    source = f"{label}!{member}"
                    yield source, _decode(archive.read(member), source)
    except zipfile.BadZipFile as error:
        raise AdvisoryDatabaseError(
            label, f"not a zip of OSV records: {error}", hint=_MISSING_HINT
        ) from None
    except OSError as error:
        raise AdvisoryDatabaseError(label, f"cannot be read: {error}") from None


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
