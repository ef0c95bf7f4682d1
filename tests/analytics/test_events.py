"""The allow-list of usage events: exactly these fields, these values."""

from __future__ import annotations

import pytest

from anya_plugins.analytics.events import (
    BATCH_FIELDS,
    EVENT_FIELDS,
    InvalidEvents,
    UsageEvent,
    batch_document,
    parse_batch,
    utc_day,
)

INSTALLATION = "0123456789abcdef0123456789abcdef"
EVENT = UsageEvent(
    utc_day(), "install", "anya-ext-wallet", "1.0.0", "primary", "linux-x86_64", True
)


def test_a_batch_of_exactly_the_allowed_fields_is_read_back() -> None:
    document = batch_document(INSTALLATION, [EVENT])
    assert tuple(document) == BATCH_FIELDS
    assert tuple(document["events"][0]) == EVENT_FIELDS
    assert parse_batch(document) == (INSTALLATION, (EVENT,))


@pytest.mark.parametrize("field", ["ip", "user", "hostname", "timestamp"])
def test_an_extra_field_in_an_event_is_refused(field: str) -> None:
    document = batch_document(INSTALLATION, [EVENT])
    document["events"][0][field] = "x"
    with pytest.raises(InvalidEvents, match=f"not allowed: {field}"):
        parse_batch(document)


def test_an_extra_field_beside_the_events_is_refused() -> None:
    with pytest.raises(InvalidEvents, match="not allowed: user_name"):
        parse_batch({**batch_document(INSTALLATION, [EVENT]), "user_name": "alice"})


def test_a_missing_field_is_refused() -> None:
    document = batch_document(INSTALLATION, [EVENT])
    del document["events"][0]["platform"]
    with pytest.raises(InvalidEvents, match="lacks platform"):
        parse_batch(document)


@pytest.mark.parametrize(
    ("field", "value"),
    [("event", "launch"), ("success", 1), ("day", "2026-13-01"), ("day", "yesterday"),
     ("extension", "Not A Name"), ("version", "x" * 65), ("platform", "linux x86")],
)  # fmt: skip
def test_a_value_outside_the_schema_is_refused(field: str, value: object) -> None:
    document = batch_document(INSTALLATION, [EVENT])
    document["events"][0][field] = value
    with pytest.raises(InvalidEvents, match=field):
        parse_batch(document)


def test_the_installation_id_must_be_random_hex_not_a_name() -> None:
    with pytest.raises(InvalidEvents, match="installation_id"):
        parse_batch(batch_document("alice-laptop", [EVENT]))
