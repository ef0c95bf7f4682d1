"""The usage event and the exact allow-list both sides check.

A batch is ``{"installation_id": ID, "events": [EVENT, ...]}`` and an event is exactly
:data:`EVENT_FIELDS`: nothing else is sent, and the registry refuses a batch or an event with
any other key (an address, a user or host name cannot ride along). The installation id is 32
random hex digits (:func:`uuid.uuid4`), made on the client and replaceable by its user.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Final, Literal

from anya_plugins.errors import AnyaError

EventKind = Literal["install", "uninstall", "update"]
EVENT_KINDS: Final[tuple[EventKind, ...]] = ("install", "uninstall", "update")
EVENT_FIELDS: Final = ("day", "event", "extension", "version", "source", "platform", "success")
BATCH_FIELDS: Final = ("installation_id", "events")
MAX_BATCH: Final = 500
"""Events one request may carry."""
_INSTALLATION_ID = re.compile(r"[0-9a-f]{32}")
_NAME = re.compile(r"[a-z0-9]([a-z0-9._-]{0,98}[a-z0-9])?")
_SHORT_TEXT = re.compile(r"[A-Za-z0-9._+!*/-]{0,64}")
_DAY_SLACK = datetime.timedelta(days=1)


class InvalidEvents(AnyaError):
    """A batch of usage events that is not exactly what the schema allows."""

    exit_code = 2


@dataclass(frozen=True)
class UsageEvent:
    """One install, uninstall or update of one extension, as it is sent and stored."""

    day: str
    """The UTC day (``YYYY-MM-DD``): no finer time is sent."""
    event: EventKind
    extension: str
    """The canonical distribution name."""
    version: str
    source: str
    """The configured source name (``primary``, ``community``, ``enterprise.<org>``)."""
    platform: str
    """The platform name (:func:`anya_plugins.metadata.platforms.platform_name`)."""
    success: bool

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def utc_day() -> str:
    """Today in UTC, as events carry it."""
    return datetime.datetime.now(datetime.UTC).date().isoformat()


def batch_document(installation_id: str, events: Sequence[UsageEvent]) -> dict[str, Any]:
    return {"installation_id": installation_id, "events": [e.as_json() for e in events]}


def parse_batch(document: object) -> tuple[str, tuple[UsageEvent, ...]]:
    """The installation id and events of a batch; InvalidEvents names the first thing wrong."""
    if not isinstance(document, Mapping):
        raise InvalidEvents("a batch must be a JSON object")
    _exact_keys(document, BATCH_FIELDS, "the batch")
    installation = document["installation_id"]
    if not isinstance(installation, str) or not _INSTALLATION_ID.fullmatch(installation):
        raise InvalidEvents("installation_id must be 32 lower-case hex digits (a random id)")
    events = document["events"]
    if not isinstance(events, list) or not 0 < len(events) <= MAX_BATCH:
        raise InvalidEvents(f"events must be a list of 1 to {MAX_BATCH} events")
    return installation, tuple(parse_event(event, n) for n, event in enumerate(events))


def parse_event(item: object, position: int = 0) -> UsageEvent:
    where = f"event {position}"
    if not isinstance(item, Mapping):
        raise InvalidEvents(f"{where} must be a JSON object")
    _exact_keys(item, EVENT_FIELDS, where)
    day, kind, success = item["day"], item["event"], item["success"]
    if kind not in EVENT_KINDS:
        raise InvalidEvents(f"{where}: event must be one of {', '.join(EVENT_KINDS)}")
    if not isinstance(success, bool):
        raise InvalidEvents(f"{where}: success must be true or false")
    if not isinstance(day, str) or not _plausible_day(day):
        raise InvalidEvents(f"{where}: day must be a UTC date (YYYY-MM-DD) not in the future")
    if not isinstance(item["extension"], str) or not _NAME.fullmatch(item["extension"]):
        raise InvalidEvents(f"{where}: extension must be a canonical distribution name")
    for name in ("version", "source", "platform"):
        if not isinstance(item[name], str) or not _SHORT_TEXT.fullmatch(item[name]):
            raise InvalidEvents(
                f"{where}: {name} must be up to 64 characters of [A-Za-z0-9._+!*/-]"
            )
    return UsageEvent(
        day=day, event=kind, extension=item["extension"], version=item["version"],
        source=item["source"], platform=item["platform"], success=success,
    )  # fmt: skip


def _exact_keys(item: Mapping[Any, Any], allowed: Sequence[str], where: str) -> None:
    extra = sorted(str(key) for key in item if key not in allowed)
    if extra:
        raise InvalidEvents(
            f"{where} carries fields that are not allowed: {', '.join(extra)}",
            hint=f"send exactly {', '.join(allowed)}",
        )
    missing = [key for key in allowed if key not in item]
    if missing:
        raise InvalidEvents(f"{where} lacks {', '.join(missing)}")


def _plausible_day(text: str) -> bool:
    try:
        day = datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10 and day <= (datetime.datetime.now(datetime.UTC) + _DAY_SLACK).date()
