"""Pages fetched ahead: an install starts fetching the project pages the last install of the
same request read, while the rest of the program is still being imported.

A warm install spends its first ~150 ms importing, and then waits on the index for every
page its plan was made from (~50 pages, fetched fresh each time). Here that wait starts at
the beginning: :func:`fetch_ahead` reads the names the last install of the same request
(same specs, same source URL) left in the cache (:func:`remember`), and fetches those pages
in daemon threads through the very call a transaction makes
(``SimpleIndex.project_page(name, refresh=True)``: fresh, with the same checks — TUF, limits,
mirrors). :class:`~anya_plugins.sources.snapshot.CheckedPages` takes such a page
(:func:`take`) in place of fetching it again, once, within :data:`FRESH_SECONDS`; anything
not taken is simply not used.

A source checked against TUF (``tuf_root``) has one verifier per process, which keeps the
trusted TUF state of this machine: the client made here makes it (its import and refresh
start here, hint or not), checks the pages fetched ahead with it, and leaves it for the
transaction's client to take over (:func:`~anya_plugins.sources.tuf_client.verifier_for`).

The list of names is a hint and nothing more: a wrong or forged one costs requests for pages
nobody reads (of the configured source, and only project names are asked for); it chooses
nothing (the plan and every check are what they were). A fetch
ahead that failed as a fetch fails (the index's answer, an unreachable source) is that
fetch's failure, not waited for twice; one that failed otherwise is fetched again.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING

from anya_plugins import logs

if TYPE_CHECKING:
    from anya_plugins.sources.settings import SourcesSettings
    from anya_plugins.sources.simple import ProjectPage, SimpleIndex

HINTS_DIR = "pages-ahead"
"""Under the download cache's directory: one file of names per request."""
FETCHERS = 6
FRESH_SECONDS = 60.0
"""A page fetched ahead longer ago than this is not taken (a command that waited on a
prompt, or a lock, fetches its pages again)."""
MAX_NAMES = 1000
_PROJECT_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")
"""A canonical project name (PEP 503): nothing else in a hint is asked for."""

_lock = threading.Lock()
_ahead: dict[tuple[str, str], tuple[float, Future[ProjectPage]]] = {}
"""(primary URL, canonical project name) -> (when started, the fetch)."""


def hint_file(cache_dir: Path, primary: str, requested: Sequence[str]) -> Path:
    """Where the names read for this request from this source are kept."""
    key = json.dumps([primary, sorted(requested)]).encode()
    return cache_dir / HINTS_DIR / hashlib.sha256(key).hexdigest()


def remember(cache_dir: Path, primary: str, requested: Sequence[str], names: Sequence[str]) -> None:
    """Keep the names of the pages this request read (best effort: only speed depends on it)."""
    from anya_plugins.sources.tempfiles import temporary_file

    path = hint_file(cache_dir, primary, requested)
    data = json.dumps(sorted(set(names))[:MAX_NAMES]).encode()
    try:
        if path.read_bytes() == data:
            return
    except OSError:
        pass
    try:
        with temporary_file(path.parent) as temp:
            temp.handle.write(data)
            temp.handle.close()  # closed: renamed without a sync (a torn hint reads as none)
            temp.commit(path)
    except OSError as error:
        logs.debug(__name__, "pages ahead: cannot keep %s: %s", path, error)


def fetch_ahead(settings: SourcesSettings, source: str, requested: Sequence[str]) -> int:
    """Start fetching the pages the last install of ``requested`` from ``source`` read; how
    many. Never raises: without a hint, or with an unusable one, nothing is fetched."""
    try:
        from anya_plugins.sources.simple import SimpleIndex

        # made ahead: a TUF source's check starts now, and the transaction takes it over
        index = SimpleIndex.from_settings(settings, source, ahead=True)
        path = hint_file(settings.cache.dir, index.mirrors.primary, requested)
        names = json.loads(path.read_bytes())
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            return 0
        count = _start(index, names[:MAX_NAMES])
    except Exception as error:  # only speed depends on it: any failure means no pages ahead
        logs.debug(__name__, "pages ahead: none (%s)", error)
        return 0
    logs.info(__name__, "fetching %d page(s) ahead", count)
    return count


def take(primary: str, project: str) -> Future[ProjectPage] | None:
    """The fetch ahead of ``project``'s page from the source at ``primary``, once, if it
    was started less than :data:`FRESH_SECONDS` ago."""
    with _lock:
        found = _ahead.pop((primary, project), None)
    if found is None or time.monotonic() - found[0] > FRESH_SECONDS:
        return None
    return found[1]


def _start(index: SimpleIndex, names: list[str]) -> int:
    """Fetch the pages of ``names`` (those that are project names) in daemon threads (an exit
    never waits for them), each thread with its own copy of the client; how many."""
    from packaging.utils import canonicalize_name

    canonical = {str(canonicalize_name(name)) for name in names}
    queue: list[tuple[str, Future[ProjectPage]]] = [
        (name, Future()) for name in sorted(canonical) if _PROJECT_NAME.fullmatch(name)
    ]
    started = time.monotonic()
    with _lock:
        for name, future in queue:
            _ahead[index.mirrors.primary, name] = (started, future)
    remaining = iter(queue)

    def work() -> None:
        client = index.for_another_thread()
        while True:
            with _lock:
                item = next(remaining, None)
            if item is None:
                return
            name, future = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(client.project_page(name, refresh=True))
            except BaseException as error:  # handed to whoever takes it
                future.set_exception(error)

    for number in range(min(FETCHERS, len(queue))):
        threading.Thread(target=work, name=f"anya-pages-ahead_{number}", daemon=True).start()
    return len(queue)
