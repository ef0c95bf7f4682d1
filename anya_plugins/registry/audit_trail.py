"""The registry server's audit trail: who uploaded, downloaded, failed to sign in, was refused or
changed the configuration, when and from where.

The trail is an audit log (:mod:`anya_plugins.audit.log`): the same hash chain, the same
``verify_log``, one canonical JSON line per entry. An entry's ``user`` is the devpi user who
asked (``anonymous`` when nobody signed in; for a failed sign-in, the name that was tried, in
``details.attempted_user``), its ``host`` the address the request came from, ``source`` the
index, ``extension``/``version`` the project and version when the request names them; the
request's method, path and status and the file name are in ``details``.

The trail is an append-only file in the server directory (:func:`trail_path`), outside devpi's
keyfs: it survives restarts and is exported as it is (JSON lines), but devpi's replication does
not copy it — each server keeps the trail of the requests it answered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final, Literal

from anya_plugins.audit.log import AuditLog, LogEntry, LogReport, read_log, verify_log

TRAIL_FILE: Final = Path("anya-audit") / "trail.jsonl"
"""Where the trail lives, under devpi's ``--serverdir``."""
ANONYMOUS: Final = "anonymous"

ServerAction = Literal[
    "upload", "download", "sign-in-failure", "permission-refused", "config-change"
]
SERVER_ACTIONS: Final[tuple[ServerAction, ...]] = (
    "upload",
    "download",
    "sign-in-failure",
    "permission-refused",
    "config-change",
)


@dataclass(frozen=True)
class ServerEvent:
    """One request worth recording, as the server saw it."""

    action: ServerAction
    actor: str
    remote: str
    method: str
    path: str
    status: int
    index: str | None = None
    project: str | None = None
    version: str | None = None
    filename: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TrailExport:
    """Entries of the trail between two times, as JSON lines byte-identical to the trail's."""

    path: str
    entries: int
    since: str | None
    until: str | None
    complete: bool
    """Whether this is the whole trail (then :func:`verify_trail` can check the chain)."""
    lines: bytes = field(repr=False)


def trail_path(serverdir: Path) -> Path:
    return serverdir / TRAIL_FILE


def record_event(trail: Path, event: ServerEvent) -> LogEntry:
    """Append ``event`` to the trail at ``trail``; synced to disk when this returns."""
    details: dict[str, Any] = {
        "method": event.method,
        "path": event.path,
        "status": event.status,
        **({"filename": event.filename} if event.filename else {}),
        **event.details,
    }
    return AuditLog(trail).record(
        event.action,
        extension=event.project,
        version=event.version,
        source=event.index,
        result="ok" if event.status < 400 else "refused",
        details=details,
        user=event.actor,
        host=event.remote,
    )


def export_trail(
    trail: Path, *, since: datetime | None = None, until: datetime | None = None
) -> TrailExport:
    """The entries written at or after ``since`` and before ``until`` (both optional, aware
    datetimes), each line exactly as the trail holds it, so hashes still match."""
    import rfc8785

    entries = read_log(trail) if trail.exists() else ()
    chosen = [entry for entry in entries if _within(entry, since, until)]
    return TrailExport(
        path=str(trail),
        entries=len(chosen),
        since=since.isoformat() if since else None,
        until=until.isoformat() if until else None,
        complete=len(chosen) == len(entries),
        lines=b"".join(rfc8785.dumps(asdict(entry)) + b"\n" for entry in chosen),
    )


def verify_trail(trail: Path, *, expected_head: str | None = None) -> LogReport:
    """Every hash and link of the trail (or of a complete export of it)."""
    return verify_log(trail, expected_head=expected_head)


def _within(entry: LogEntry, since: datetime | None, until: datetime | None) -> bool:
    time = datetime.fromisoformat(entry.time)
    return (since is None or time >= since) and (until is None or time < until)
