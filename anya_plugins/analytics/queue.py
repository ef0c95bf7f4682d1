"""Events waiting to be sent: a JSON-lines file beside the consent state, under a file lock
(two terminals may install at once). It holds at most :data:`MAX_QUEUED` events (the oldest
go first), so a machine that is never online does not grow it without end.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from anya_plugins.analytics.events import InvalidEvents, UsageEvent, parse_event
from anya_plugins.flock import exclusive

QUEUE_FILE: Final = "queue.jsonl"
MAX_QUEUED: Final = 1000
LOCK_SECONDS: Final = 10.0


@dataclass(frozen=True)
class EventQueue:
    path: Path

    @classmethod
    def of(cls, environ: Mapping[str, str] | None = None) -> EventQueue:
        from anya_plugins.analytics.consent import analytics_dir

        return cls(analytics_dir(environ) / QUEUE_FILE)

    def add(self, events: Sequence[UsageEvent]) -> None:
        with self._locked():
            kept = [*self._read(), *events][-MAX_QUEUED:]
            self._write(kept)

    def peek(self, limit: int) -> tuple[UsageEvent, ...]:
        with self._locked():
            return tuple(self._read()[:limit])

    def drop(self, count: int) -> None:
        """Remove the ``count`` oldest events (those just sent)."""
        with self._locked():
            self._write(self._read()[count:])

    def clear(self) -> None:
        with self._locked():
            self.path.unlink(missing_ok=True)

    def __len__(self) -> int:
        with self._locked():
            return len(self._read())

    def _locked(self) -> AbstractContextManager[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return exclusive(Path(f"{self.path}.lock"), LOCK_SECONDS)

    def _read(self) -> list[UsageEvent]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        events = []
        for line in lines:
            try:
                events.append(parse_event(json.loads(line)))
            except (ValueError, InvalidEvents):
                continue  # a line cut by a crash, or from an older schema: never sent
        return events

    def _write(self, events: Sequence[UsageEvent]) -> None:
        from anya_plugins.config.atomic import write_atomic

        if not events:
            self.path.unlink(missing_ok=True)
            return
        write_atomic(
            self.path, "".join(json.dumps(e.as_json(), sort_keys=True) + "\n" for e in events)
        )
