"""Pinning the first signers of one install in one write."""

from __future__ import annotations

from pathlib import Path

from anya_plugins.trust.pins import PinStore

ISSUER = "https://issuer.anya.example"


def test_several_pins_are_written_at_once_and_others_kept(tmp_path: Path) -> None:
    store = PinStore(tmp_path / "pins.json")
    kept = store.pin("anya-ext-a", "alice@anya.example", ISSUER)

    made = store.pin_all(
        {"Anya_Ext.B": ("bob@anya.example", ISSUER), "dep-c": ("carol@anya.example", None)}
    )

    assert sorted(made) == ["anya-ext-b", "dep-c"]
    assert made["dep-c"].identity == "carol@anya.example" and made["dep-c"].issuer is None
    assert store.pins() == {"anya-ext-a": kept, **made}
