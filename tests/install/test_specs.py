"""Extension specs as users type them, translated to PEP 440 / 508."""

from __future__ import annotations

import pytest

from anya_plugins.errors import UsageError
from anya_plugins.install.specs import parse_spec, requirement_text


@pytest.mark.parametrize(
    ("typed", "requirement"),
    [
        ("lightning", "anya-ext-lightning"),
        ("anya-ext-lightning", "anya-ext-lightning"),
        ("Lightning_Watch", "anya-ext-lightning-watch"),
        ("lightning@1.2.3", "anya-ext-lightning==1.2.3"),
        ("lightning@^1.2", "anya-ext-lightning<2,>=1.2"),
        ("lightning@^1.2.3", "anya-ext-lightning<2,>=1.2.3"),
        ("lightning@^0.2.3", "anya-ext-lightning<0.3,>=0.2.3"),
        ("lightning@^0.0.3", "anya-ext-lightning<0.0.4,>=0.0.3"),
        ("lightning@~1.2", "anya-ext-lightning<1.3,>=1.2"),
        ("lightning@~1.2.3", "anya-ext-lightning<1.3,>=1.2.3"),
        ("lightning@~1", "anya-ext-lightning<2,>=1"),
        ("lightning@>=1,<3", "anya-ext-lightning<3,>=1"),
        ("lightning[tor,metrics]", "anya-ext-lightning[metrics,tor]"),
        ("lightning[tor]@^1.2", "anya-ext-lightning[tor]<2,>=1.2"),
        ("lightning@^1.2[tor]", "anya-ext-lightning[tor]<2,>=1.2"),
    ],
)
def test_typed_spec_becomes_a_requirement(typed: str, requirement: str) -> None:
    assert requirement_text(parse_spec(typed)) == requirement


@pytest.mark.parametrize("typed", ["", "@1.0", "lightning@", "lightning@^x", "light ning"])
def test_unreadable_spec_is_a_usage_error(typed: str) -> None:
    with pytest.raises(UsageError):
        parse_spec(typed)
