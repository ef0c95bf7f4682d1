"""The layout file: the shipped one reads as intended, a broken one says where it is broken."""

from __future__ import annotations

from pathlib import Path

import pytest

from anya_plugins.registry.errors import LayoutError
from anya_plugins.registry.layout import (
    EnvPassword,
    LiteralPassword,
    load_layout,
    parse_layout,
    resolve_password,
)
from tests.registry_fixtures import LAYOUT_FILE

MINIMAL = """
[users.acme]
password = "pw"

[indexes."acme/base"]

[indexes."acme/private"]
bases = ["acme/base"]
private = true
"""


def test_shipped_layout_declares_core_community_and_private_indexes() -> None:
    layout = load_layout(LAYOUT_FILE)

    assert [index.name for index in layout.indexes] == [
        "anya/host",
        "anya/primary",
        "community/verified",
        "community/experimental",
        "acme/private",
    ]
    assert [index.name for index in layout.private_indexes] == ["acme/private"]
    assert layout.index("community/experimental").volatile
    assert not layout.index("anya/primary").volatile
    assert layout.index("anya/primary").categories == ("core/bitcoin", "core/web5", "core/ml")
    assert layout.user("acme").password == EnvPassword("ANYA_REGISTRY_ACME_PASSWORD")


def test_index_without_acl_upload_lets_only_its_owner_upload() -> None:
    layout = parse_layout(MINIMAL)

    assert layout.index("acme/base").acl_upload == ("acme",)


def test_defaults_are_non_volatile_public_extension_indexes() -> None:
    index = parse_layout(MINIMAL).index("acme/base")

    assert (index.volatile, index.private, index.extensions) == (False, False, True)


def test_creation_order_puts_bases_first() -> None:
    text = """
    [users.u]
    password = "pw"
    [indexes."u/top"]
    bases = ["u/middle"]
    [indexes."u/middle"]
    bases = ["u/bottom"]
    [indexes."u/bottom"]
    """
    order = [index.name for index in parse_layout(text).creation_order()]

    assert order == ["u/bottom", "u/middle", "u/top"]


def test_literal_password_is_not_shown_in_repr() -> None:
    layout = parse_layout(MINIMAL)

    assert layout.user("acme").password == LiteralPassword("pw")
    assert "pw" not in repr(layout.user("acme"))


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(LayoutError, match=r"nope\.toml: no such file"):
        load_layout(tmp_path / "nope.toml")


def test_invalid_toml_names_the_file_and_the_line(tmp_path: Path) -> None:
    path = tmp_path / "layout.toml"
    path.write_text('[users.acme]\npassword = "unterminated\n')

    with pytest.raises(LayoutError, match=r"layout\.toml: not valid TOML: .*line 2"):
        load_layout(path)


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ('[users.acme]\npassword = "a"\n[indexes."acme/x"]\nbases = ["acme/gone"]',
         'indexes."acme/x".bases[0]', "unknown index 'acme/gone'"),
        ('[users.acme]\npassword = "a"\n[indexes."acme/x"]\nacl_upload = ["mallory"]',
         'indexes."acme/x".acl_upload[0]', "unknown user 'mallory'"),
        ('[users.acme]\npassword = "a"\n[indexes."acme/x"]\nvolatile = "yes"',
         'indexes."acme/x".volatile', "must be true or false, not a string"),
        ('[users.acme]\npassword = "a"\n[indexes."acme/x"]\ncategories = ["core/gold"]',
         'indexes."acme/x".categories[0]', "unknown category 'core/gold'"),
        ('[users.acme]\npassword = "a"\n[indexes."acme/x"]\nmirror_url = "https://x"',
         'indexes."acme/x".mirror_url', "unknown key"),
        ('[users.acme]\npassword = "a"\n[indexes."bob/x"]',
         'indexes."bob/x"', "owner 'bob' is not declared"),
        ('[users.acme]\npassword = "a"\n[indexes."acme"]',
         'indexes."acme"', "an index is named user/index"),
        ('[users.acme]\npassword = "a"\npassword_env = "B"',
         "users.acme", "needs exactly one of 'password' and 'password_env'"),
        ('[users.root]\npassword = "a"', "users.root", "devpi's administrator"),
        ('[users."a b"]\npassword = "a"', "users.a b", "invalid user name 'a b'"),
        ("users = 3", "users", "must be a table, not an integer"),
        ("[groups.x]", "groups", "unknown key"),
    ],
)  # fmt: skip
def test_broken_layout_names_the_key_and_the_problem(text: str, key: str, problem: str) -> None:
    with pytest.raises(LayoutError) as raised:
        parse_layout(text, source="layout.toml")

    assert raised.value.key == key
    assert problem in raised.value.problem
    assert str(raised.value).startswith(f"layout.toml: {key}: ")


def test_cycle_in_bases_is_shown_as_a_path() -> None:
    text = """
    [users.u]
    password = "pw"
    [indexes."u/a"]
    bases = ["u/b"]
    [indexes."u/b"]
    bases = ["u/a"]
    """
    with pytest.raises(LayoutError, match=r"bases form a cycle: u/a -> u/b -> u/a"):
        parse_layout(text)


def test_unset_password_variable_names_user_and_variable() -> None:
    layout = load_layout(LAYOUT_FILE)

    with pytest.raises(LayoutError) as raised:
        resolve_password(layout, layout.user("acme"), environ={})

    assert raised.value.key == "users.acme.password_env"
    assert "ANYA_REGISTRY_ACME_PASSWORD is not set" in str(raised.value)
    assert raised.value.hint is not None and "export" in raised.value.hint
