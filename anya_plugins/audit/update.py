"""Refreshing the offline advisories: osv.dev's zip of every PyPI record, downloaded whole.

The new zip replaces the old one only once every record in it has been read as OSV, so a
failed or damaged download leaves the advisories as they were.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from anya_plugins.audit.errors import AdvisoryDatabaseError, AdvisoryServiceError
from anya_plugins.audit.offline import load_advisories

OSV_PYPI_ZIP: Final = "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip"
DEFAULT_TIMEOUT: Final = 60.0
_OFFLINE_HINT = (
    "check the network; on a machine without one, copy PyPI/all.zip from osv.dev over and "
    "point audit.advisories at it"
)


@dataclass(frozen=True)
class AdvisoryUpdate:
    """What :func:`update_advisories` stored."""

    path: str
    url: str
    records: int
    size: int
    sha256: str


def update_advisories(
    dest: Path, *, url: str = OSV_PYPI_ZIP, timeout: float = DEFAULT_TIMEOUT
) -> AdvisoryUpdate:
    """Download the advisory zip at ``url`` to ``dest`` (a file path, such as the value of
    ``audit.advisories``); AdvisoryServiceError when it cannot be fetched or is not OSV."""
    from anya_plugins.sources.errors import SourceError
    from anya_plugins.sources.http import HttpClient
    from anya_plugins.sources.tempfiles import temporary_file

    digest = hashlib.sha256()
    size = 0
    try:
        with (
            HttpClient(timeout=timeout) as client,
            client.get(url) as response,
            temporary_file(dest.parent) as temp,
        ):
            if response.status != 200:
                raise AdvisoryServiceError(
                    url, f"HTTP {response.status} {response.reason}", hint=_OFFLINE_HINT
                )
            for chunk in response.iter_bytes():
                digest.update(chunk)
                size += len(chunk)
                temp.handle.write(chunk)
            temp.handle.flush()
            records = _count_records(temp.path, url)
            temp.commit(dest)
    except SourceError as error:
        raise AdvisoryServiceError(url, error.message, hint=_OFFLINE_HINT) from error
    except OSError as error:
        raise AdvisoryServiceError(
            url, f"cannot write {dest}: {error.strerror or error}", hint="check its directory"
        ) from error
    return AdvisoryUpdate(
        path=str(dest), url=url, records=records, size=size, sha256=digest.hexdigest()
    )


def _count_records(download: Path, url: str) -> int:
    try:
        return sum(1 for _ in load_advisories(download))
    except AdvisoryDatabaseError as error:
        raise AdvisoryServiceError(
            url, f"the download is not a zip of OSV records: {error.problem}"
        ) from error
