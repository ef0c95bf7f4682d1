"""Who signs for a signed index: its own publishers, else those ``registry up`` was given."""

from __future__ import annotations

from pathlib import Path

import pytest

from anya_plugins.errors import UsageError
from anya_plugins.registry.layout import IndexPublisher, load_layout, parse_layout
from anya_plugins.registry.publishers import (
    publishers_from_options,
    remember,
    remembered,
    with_publishers,
    without_publishers,
)
from tests.registry_fixtures import LAYOUT_FILE

ISSUER = "https://issuer.example"
RELEASER = IndexPublisher("release@site.example", ISSUER)

LAYOUT = f"""
[users.anya]
password = "x"
[indexes."anya/signed"]
require_signatures = true
[indexes."anya/own"]
require_signatures = true
publishers = [{{identity = "own@site.example", issuer = "{ISSUER}"}}]
[indexes."anya/open"]
"""


def test_one_issuer_serves_every_publisher() -> None:
    assert publishers_from_options(["a@x.example", "b@x.example"], [ISSUER]) == (
        IndexPublisher("a@x.example", ISSUER),
        IndexPublisher("b@x.example", ISSUER),
    )


def test_issuers_pair_with_publishers_in_order() -> None:
    other = "https://other.example"
    assert publishers_from_options(["a@x.example", "b@x.example"], [ISSUER, other]) == (
        IndexPublisher("a@x.example", ISSUER),
        IndexPublisher("b@x.example", other),
    )


def test_no_options_name_no_publisher() -> None:
    assert publishers_from_options([], []) == ()


@pytest.mark.parametrize(
    ("identities", "issuers", "problem"),
    [
        (["a@x.example"], [], "1 --publisher but 0 --issuer"),
        (["a@x.example", "b@x.example", "c@x.example"], [ISSUER, ISSUER], "3 --publisher"),
        ([], [ISSUER], "--issuer without --publisher"),
        (["a@x.example"], ["accounts.example"], "is not an OIDC issuer URL"),
    ],
)
def test_publishers_and_issuers_that_do_not_pair_are_refused(
    identities: list[str], issuers: list[str], problem: str
) -> None:
    with pytest.raises(UsageError, match=problem):
        publishers_from_options(identities, issuers)


def test_the_registry_publishers_go_to_signed_indexes_that_name_none() -> None:
    layout = with_publishers(parse_layout(LAYOUT), [RELEASER])

    assert layout.index("anya/signed").publishers == (RELEASER,)
    assert layout.index("anya/own").publishers == (IndexPublisher("own@site.example", ISSUER),)
    assert layout.index("anya/open").publishers == ()
    assert without_publishers(layout) == ()


def test_without_registry_publishers_the_signed_indexes_that_name_none_are_listed() -> None:
    assert without_publishers(with_publishers(parse_layout(LAYOUT), [])) == ("anya/signed",)


def test_the_shipped_layout_leaves_its_signed_indexes_to_the_registry() -> None:
    assert without_publishers(load_layout(LAYOUT_FILE)) == ("anya/primary", "community/verified")


def test_publishers_are_remembered_per_state_directory(tmp_path: Path) -> None:
    assert remembered(tmp_path) == ()

    remember(tmp_path, [RELEASER])

    assert remembered(tmp_path) == (RELEASER,)
