"""Publisher pins as stored: one file per environment, read back as written, a change of
signer (or a file now unsigned) told apart from the pinned one; the policy's
``on_publisher_change`` key is checked like every other."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anya_plugins.trust.errors import TrustPolicyError
from anya_plugins.trust.pins import PinsError, PinStore, publisher_change
from anya_plugins.trust.policy import parse_trust_policy

ISSUER = "https://issuer.anya.example"


def test_a_pin_is_read_back_by_its_normalised_name(tmp_path: Path) -> None:
    store = PinStore(tmp_path / "env" / ".anya-trust" / "pins.json")
    pin = store.pin("Anya_Ext.Lightning", "alice@anya.example", ISSUER)
    assert pin.name == "anya-ext-lightning"
    assert store.get("anya-ext-lightning") == pin
    assert store.pins() == {"anya-ext-lightning": pin}


def test_repinning_replaces_only_that_pin(tmp_path: Path) -> None:
    store = PinStore(tmp_path / "pins.json")
    store.pin("anya-ext-a", "alice@anya.example", ISSUER)
    other = store.pin("anya-ext-b", "alice@anya.example", ISSUER)
    store.pin("anya-ext-a", "bob@anya.example", ISSUER)
    pins = store.pins()
    assert pins["anya-ext-a"].identity == "bob@anya.example"
    assert pins["anya-ext-b"] == other


def test_another_identity_or_issuer_or_no_signature_is_a_change(tmp_path: Path) -> None:
    pin = PinStore(tmp_path / "pins.json").pin("anya-ext-a", "alice@anya.example", ISSUER)
    assert publisher_change(pin, "a.whl", "alice@anya.example", ISSUER) is None
    assert publisher_change(None, "a.whl", "bob@anya.example", ISSUER) is None
    bob = publisher_change(pin, "a.whl", "bob@anya.example", ISSUER)
    assert bob is not None and "alice@anya.example" in bob.warning()
    assert "bob@anya.example" in bob.warning()
    assert publisher_change(pin, "a.whl", "alice@anya.example", "https://other.example")
    unsigned = publisher_change(pin, "a.whl", None, None)
    assert unsigned is not None and unsigned.found_text == "unsigned"


def test_an_unreadable_pins_file_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "pins.json"
    path.write_text(json.dumps({"pins-version": 1, "pins": {"anya-ext-a": {"issuer": ISSUER}}}))
    with pytest.raises(PinsError, match=r"pins\.json: a pin is incomplete"):
        PinStore(path).pins()


def test_on_publisher_change_defaults_to_refuse_and_takes_warn() -> None:
    assert parse_trust_policy({}).on_publisher_change == "refuse"
    assert parse_trust_policy({"on_publisher_change": "warn"}).on_publisher_change == "warn"


def test_on_publisher_change_of_another_value_is_refused() -> None:
    with pytest.raises(TrustPolicyError, match=r"on_publisher_change: must be \"refuse\""):
        parse_trust_policy({"on_publisher_change": "ignore"})
