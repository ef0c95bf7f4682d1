"""Refreshing the offline advisories: osv.dev's zip of every PyPI record, downloaded whole
(:func:`update_advisories`) or, on a machine without a network, imported from a copy
downloaded elsewhere (:func:`import_advisories`).

Either way the new zip is written beside the old one and replaces it only once every
record in it has been read as OSV (``id``, ``modified``, ``affected`` and the rest of the
schema the gate uses) and, when a maximum age is given, its newest record is recent
enough: a failed, damaged or stale copy leaves the advisories as they were.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final

from anya_plugins.audit.database import DatabaseSummary, modified_time, newer
from anya_plugins.audit.errors import (
    AdvisoriesTooOld,
    AdvisoryDatabaseError,
    AdvisoryServiceError,
)
from anya_plugins.audit.offline import read_zip_records
from anya_plugins.audit.osv import parse_advisory, pypi_names

if TYPE_CHECKING:
    from anya_plugins.audit.settings import AuditSettings

OSV_PYPI_ZIP: Final = "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip"
DEFAULT_TIMEOUT: Final = 60.0
_CHUNK = 256 * 1024
_OFFLINE_HINT = (
    "check the network; on a machine without one, download PyPI/all.zip from osv.dev "
    "elsewhere and import it with 'anya-ext audit --update --from FILE'"
)


@dataclass(frozen=True)
class AdvisoryUpdate:
    """What :func:`update_advisories` or :func:`import_advisories` stored."""

    path: str
    origin: str
    """The URL downloaded, or the file imported."""
    records: int
    size: int
    sha256: str
    newest_modified: datetime | None
    allowed_old: bool = False
    """Whether the copy was older than the maximum age and stored because of ``--allow-old``."""


def refresh_advisories(
    settings: AuditSettings,
    *,
    from_file: Path | None = None,
    allow_old: bool = False,
    url: str = OSV_PYPI_ZIP,
    timeout: float = DEFAULT_TIMEOUT,
    now: datetime | None = None,
) -> AdvisoryUpdate:
    """``anya-ext audit --update [--from FILE] [--allow-old]``: download (or import
    ``from_file``) into ``settings.advisories``, refusing a copy older than
    ``settings.max_database_age_days`` unless ``allow_old``; recorded in the audit log, its
    head anchored in the user's data directory as every other entry's is."""
    from anya_plugins.audit.anchors import anchored_log

    dest = settings.advisories
    if dest.is_dir():
        raise AdvisoryDatabaseError(
            str(dest),
            "audit.advisories is a directory of OSV files; an update writes a zip",
            hint="point audit.advisories at a file path (such as osv-pypi.zip), or update "
            "that directory yourself",
        )
    max_age = settings.max_database_age_days
    if from_file is None:
        update = update_advisories(
            dest, url=url, timeout=timeout, max_age_days=max_age, allow_old=allow_old, now=now
        )
    else:
        update = import_advisories(
            from_file, dest, max_age_days=max_age, allow_old=allow_old, now=now
        )
    anchored_log(settings.log).record(
        "advisories-update",
        source=update.origin,
        hashes={Path(update.path).name: f"sha256:{update.sha256}"},
        details={
            "path": update.path,
            "records": update.records,
            "newest_modified": (
                update.newest_modified.isoformat() if update.newest_modified else None
            ),
            "allowed_old": update.allowed_old,
        },
    )
    return update


def update_advisories(
    dest: Path,
    *,
    url: str = OSV_PYPI_ZIP,
    timeout: float = DEFAULT_TIMEOUT,
    max_age_days: int | None = None,
    allow_old: bool = False,
    now: datetime | None = None,
) -> AdvisoryUpdate:
    """Download the advisory zip at ``url`` to ``dest`` (a file path, such as the value of
    ``audit.advisories``); AdvisoryServiceError when it cannot be fetched or is not OSV,
    AdvisoriesTooOld when it is older than ``max_age_days`` (and not ``allow_old``)."""
    from anya_plugins.sources.errors import SourceError
    from anya_plugins.sources.http import HttpClient

    try:
        with HttpClient(timeout=timeout) as client, client.get(url) as response:
            if response.status != 200:
                raise AdvisoryServiceError(
                    url, f"HTTP {response.status} {response.reason}", hint=_OFFLINE_HINT
                )
            return _store(
                response.iter_bytes(), dest, url, max_age_days, allow_old=allow_old, now=now
            )
    except AdvisoriesTooOld:
        raise
    except AdvisoryDatabaseError as error:
        raise AdvisoryServiceError(
            url, f"the download is not a zip of OSV records: {error.problem}"
        ) from error
    except SourceError as error:
        raise AdvisoryServiceError(url, error.message, hint=_OFFLINE_HINT) from error
    except OSError as error:
        raise AdvisoryServiceError(
            url, f"cannot write {dest}: {error.strerror or error}", hint="check its directory"
        ) from error


def import_advisories(
    source: Path,
    dest: Path,
    *,
    max_age_days: int | None = None,
    allow_old: bool = False,
    now: datetime | None = None,
) -> AdvisoryUpdate:
    """Install ``source``, an OSV zip downloaded elsewhere (osv.dev's ``PyPI/all.zip``), as
    ``dest``. The copy is checked, not the original, so what is checked is what is stored;
    AdvisoryDatabaseError when it is not a zip of OSV records about PyPI packages,
    AdvisoriesTooOld when it is older than ``max_age_days`` (and not ``allow_old``)."""
    try:
        with source.open("rb") as incoming:
            chunks = iter(lambda: incoming.read(_CHUNK), b"")
            return _store(chunks, dest, str(source), max_age_days, allow_old=allow_old, now=now)
    except OSError as error:
        raise AdvisoryDatabaseError(
            str(source),
            f"cannot be imported into {dest}: {error.strerror or error}",
            hint="check that the file exists and is readable, and that the directory of "
            "audit.advisories is writable",
        ) from error


def _store(
    chunks: Iterable[bytes],
    dest: Path,
    origin: str,
    max_age_days: int | None,
    *,
    allow_old: bool,
    now: datetime | None,
) -> AdvisoryUpdate:
    """Write ``chunks`` beside ``dest``, check what was written, then rename it over ``dest``."""
    from anya_plugins.sources.tempfiles import temporary_file

    digest = hashlib.sha256()
    size = 0
    with temporary_file(dest.parent) as temp:
        for chunk in chunks:
            digest.update(chunk)
            size += len(chunk)
            temp.handle.write(chunk)
        temp.handle.flush()
        summary = check_advisory_zip(temp.path, origin=origin)
        too_old = False
        if max_age_days is not None and summary.is_older_than(max_age_days, now):
            if not allow_old:
                raise AdvisoriesTooOld(summary, max_age_days, now)
            too_old = True
        temp.commit(dest)
    return AdvisoryUpdate(
        path=str(dest),
        origin=origin,
        records=summary.records,
        size=size,
        sha256=digest.hexdigest(),
        newest_modified=summary.newest_modified,
        allowed_old=too_old,
    )


def check_advisory_zip(path: Path, *, origin: str) -> DatabaseSummary:
    """Read every record of the zip at ``path`` as the schema says (errors name ``origin``
    and the member): a zip, of JSON documents, each an OSV record with an ``id``, an RFC 3339
    ``modified`` and well-formed ``affected`` entries, at least one about a PyPI package."""
    if not zipfile.is_zipfile(path):
        raise AdvisoryDatabaseError(origin, "not a zip file", hint=_IMPORT_HINT)
    records = pypi_records = 0
    newest: datetime | None = None
    for named, data in read_zip_records(path, name=origin):
        if not isinstance(data, Mapping):
            raise AdvisoryDatabaseError(named, "the record is not a JSON object", hint=_IMPORT_HINT)
        parse_advisory(data, named)
        newest = newer(newest, modified_time(data, named))
        records += 1
        pypi_records += bool(pypi_names(data, named))
    if not records:
        raise AdvisoryDatabaseError(origin, "holds no OSV records (*.json)", hint=_IMPORT_HINT)
    if not pypi_records:
        raise AdvisoryDatabaseError(
            origin,
            f"none of its {records} records is about a PyPI package",
            hint="download the PyPI database (PyPI/all.zip), not another ecosystem's",
        )
    return DatabaseSummary(origin, records, newest)


_IMPORT_HINT = (
    "import osv.dev's PyPI database as downloaded: "
    "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip"
)
