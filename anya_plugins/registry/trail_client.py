"""Reading the server's audit trail from outside: ``GET /+audit-trail`` as a signed-in reader
(``security``, ``admin`` or root), and checking its hash chain."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

from anya_plugins.audit.log import LogReport
from anya_plugins.registry.audit_trail import TrailExport, verify_trail
from anya_plugins.registry.devpi import Credentials, DevpiClient

TRAIL_VIEW = "/+audit-trail"


def download_trail(
    url: str,
    credentials: Credentials,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> TrailExport:
    """The trail's entries from ``since`` to ``until`` (the whole trail without them)."""
    client = DevpiClient(url)
    client.login(credentials)
    query = {k: v.isoformat() for k, v in (("since", since), ("until", until)) if v is not None}
    lines = client.fetch(
        TRAIL_VIEW + (f"?{urlencode(query)}" if query else ""), accept="application/x-ndjson"
    )
    return TrailExport(
        path=f"{url.rstrip('/')}{TRAIL_VIEW}",
        entries=lines.count(b"\n"),
        since=since.isoformat() if since else None,
        until=until.isoformat() if until else None,
        complete=since is None and until is None,
        lines=lines,
    )


def verify_remote_trail(
    url: str, credentials: Credentials, *, expected_head: str | None = None
) -> LogReport:
    """Download the whole trail and check every hash and link of it."""
    export = download_trail(url, credentials)
    with tempfile.TemporaryDirectory(prefix="anya-trail-") as tmp:
        copy = Path(tmp) / "trail.jsonl"
        copy.write_bytes(export.lines)
        report = verify_trail(copy, expected_head=expected_head)
    return replace(report, path=export.path)
