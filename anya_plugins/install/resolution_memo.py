"""A resolution remembered: installing again what was resolved before skips the resolver.

uv's plan is a function of its inputs: the requirements and options (pre-releases,
upgrade), the target interpreter (the binary its ``python`` resolves to, and its tags) and
what is installed there, uv itself, and what it read of the index — the pages that
:class:`~anya_plugins.sources.snapshot.CheckedPages` served it, and the core metadata of
files on them. The plan is kept under a key of all but the pages; with it, the digest of
each page served (the document without this run's local URLs; a project the index lacked,
as absent). A resolution that read a core metadata file no hash ties to its page (an
index file without a metadata hash in the page) is not kept: it read more than its pages.

Next time with the same key, the same pages are fetched — fresh and checked, as the
resolver would get them — and when every digest is the same, the plan is uv's plan of last
time; any difference (a new release, a yank, a page gone) and uv resolves as always.
The plan's files are fetched while its pages still come in (each against its own fresh
page's hash, as soon as that page is there), and nothing is checked or installed before
every page was compared. Nothing else is skipped: every file is checked as before. A warm
install of an extension with 50 dependencies spares one uv process and the ~100 requests
it makes to the pages' local server.

Kept beside the verdicts and signed with the same key (:mod:`anya_plugins.trust.verdicts`):
a download cache restored from elsewhere (a CI cache) cannot choose versions for an install
(say, an older signed release). Only where verdicts are kept (a trusted root file).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path

from anya_plugins.install.resolver import Pin, Resolution, ResolveRequest
from anya_plugins.sources.snapshot import CheckedPages
from anya_plugins.trust.verdicts import Verdicts

log = logging.getLogger(__name__)

_FORMAT = 1


class KeptPlan:
    """A remembered plan and the digest of each page it was made from."""

    __slots__ = ("read", "resolution")

    def __init__(self, resolution: Resolution, read: Mapping[str, str]) -> None:
        self.resolution = resolution
        self.read = dict(read)


class ResolutionMemo:
    """Plans kept in ``store`` (the install's verdicts)."""

    def __init__(self, store: Verdicts) -> None:
        self._store = store

    def key(
        self,
        request: ResolveRequest,
        resolver: str,
        tags: tuple[str, ...],
        installed: Mapping[str, str],
    ) -> str:
        """The name of a plan with these inputs (the pages aside): the request but its
        local index URL, ``resolver`` (which one, which file), the interpreter the target's
        ``python`` resolves to, its ``tags`` and the ``installed`` versions."""
        interpreter = Path(request.python).resolve()
        stat = interpreter.stat()
        return self._store.key(
            kept="resolution",
            format=_FORMAT,
            requirements=list(request.requirements),
            prerelease=request.prerelease,
            upgrade=request.upgrade,
            resolver=resolver,
            interpreter=[str(interpreter), stat.st_size, stat.st_mtime_ns],
            tags=list(tags),
            installed=sorted(installed.items()),
        )

    def recall(self, key: str, pages: CheckedPages, tool: str) -> KeptPlan | None:
        """The plan kept under ``key``, the fetches of every page it was made from started
        (fresh and checked, through ``pages``) but not waited for: the plan is only a
        proposal until :meth:`holds` says those pages read the same now. Its files can be
        fetched meanwhile, each against its fresh page."""
        document = self._store.kept_document(key)
        if document is None:
            return None
        try:
            kept = json.loads(document)
            read = {str(name): str(digest) for name, digest in kept["pages"].items()}
            pins = tuple(Pin(str(name), str(version)) for name, version in kept["pins"])
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            log.warning("ignoring a kept resolution: %s", error)
            return None
        pages.start_pages(read)
        return KeptPlan(Resolution(pins, tool), read)

    def holds(self, plan: KeptPlan, pages: CheckedPages) -> bool:
        """Whether every page ``plan`` was made from reads the same now (waits for them)."""
        now = pages.digests(plan.read)
        if now != plan.read:
            changed = sorted(
                name for name in plan.read if now is None or now.get(name) != plan.read[name]
            )
            log.info("resolving again: %d page(s) changed (%s)", len(changed), ", ".join(changed))
            return False
        count = len(plan.read)
        log.info("resolution as kept: the %d page(s) it was made from are unchanged", count)
        return True

    def keep(self, key: str, resolution: Resolution, pages: CheckedPages) -> None:
        """Keep ``resolution`` under ``key`` with the pages served to make it (not when one
        of the core metadata files it read is not tied to its page)."""
        read = pages.served()
        if read is None:
            return
        document = {
            "pins": [[pin.name, pin.version] for pin in resolution.to_install],
            "pages": read,
        }
        self._store.keep_document(key, json.dumps(document, sort_keys=True).encode())
