from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from anya_plugins.config.layers import load_config
from anya_plugins.config.schema import check_schema, coerce, schema_digest, validate_section
from anya_plugins.errors import ConfigError

KNOWN = ["btc-wallet"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("8332", 8332),
        ("1.5", 1.5),
        ("true", True),
        ("[1, 2]", [1, 2]),
        ('"quoted"', "quoted"),
        ("signet", "signet"),
        ("", ""),
        ("1\nother = 2", "1\nother = 2"),
    ],
)
def test_coerce_without_schema_reads_toml_values_else_keeps_text(raw: str, expected: Any) -> None:
    assert coerce(raw, None, ("port",)) == expected


def _toml_or_text(raw: str) -> Any:
    """What coerce gives without a schema, by tomllib alone."""
    try:
        document = tomllib.loads(f"v = {raw}")
    except tomllib.TOMLDecodeError:
        return raw
    return document["v"] if document.keys() == {"v"} else raw


@pytest.mark.parametrize("first", [*string.ascii_letters, "é", "ß"])
def test_text_starting_with_a_letter_is_typed_as_tomllib_types_it(first: str) -> None:
    """coerce skips tomllib for text that begins with a letter no TOML value begins with:
    the shortcut must give what tomllib gives, for every letter."""
    for rest in ("", "x", "rue", "alse", "nf", "an", "rue # note", "nf # n", "://host/p", " = 1"):
        raw = first + rest
        expected = _toml_or_text(raw)
        got = coerce(raw, None, ("key",))
        assert (got, type(got)) == (expected, type(expected)) or (
            expected != expected and got != got  # nan
        ), raw


def test_coerce_keeps_text_for_string_typed_key(wallet_schema: dict[str, Any]) -> None:
    assert coerce("8332", wallet_schema, ("label",)) == "8332"


def test_coerce_reads_toml_for_non_string_typed_key(wallet_schema: dict[str, Any]) -> None:
    assert coerce("8332", wallet_schema, ("port",)) == 8332


def test_coerce_follows_nested_properties() -> None:
    schema = {"properties": {"rpc": {"properties": {"user": {"type": "string"}}}}}
    assert coerce("true", schema, ("rpc", "user")) == "true"


def test_coerce_splits_commas_for_array_of_strings() -> None:
    schema = {"properties": {"names": {"type": "array", "items": {"type": "string"}}}}
    assert coerce("a, b", schema, ("names",)) == ["a", "b"]


def test_validate_section_returns_merged_values_with_defaults(
    example_config: Path, wallet_schema: dict[str, Any]
) -> None:
    config = load_config(example_config, environ={})
    values = validate_section("btc-wallet", wallet_schema, config)
    assert values == {"port": 8332, "network": "signet", "timeout": 30}


def test_validate_section_fills_defaults_for_missing_section(
    config_path: Path, wallet_schema: dict[str, Any]
) -> None:
    config = load_config(config_path, environ={})
    assert validate_section("btc-wallet", wallet_schema, config) == {"timeout": 30}


def test_file_value_error_names_key_value_file_and_line(
    write_config: Callable[[str], Path], wallet_schema: dict[str, Any]
) -> None:
    path = write_config('[btc-wallet]\n\nport = "high"\n')
    with pytest.raises(ConfigError) as raised:
        validate_section("btc-wallet", wallet_schema, load_config(path, environ={}))
    assert f"btc-wallet.port = 'high' (from file {path}:3): " in raised.value.message


def test_env_value_error_names_the_variable(
    config_path: Path, wallet_schema: dict[str, Any]
) -> None:
    environ = {"ANYA_BTC_WALLET__PORT": "0"}
    config = load_config(config_path, environ=environ, known_extensions=KNOWN)
    with pytest.raises(
        ConfigError, match=re.escape("btc-wallet.port = 0 (from env ANYA_BTC_WALLET__PORT)")
    ):
        validate_section("btc-wallet", wallet_schema, config)


def test_every_problem_is_listed(
    write_config: Callable[[str], Path], wallet_schema: dict[str, Any]
) -> None:
    path = write_config('[btc-wallet]\nport = 0\nnetwork = "moon"\nprot = 1\n')
    with pytest.raises(ConfigError) as raised:
        validate_section("btc-wallet", wallet_schema, load_config(path, environ={}))
    problems = raised.value.message.splitlines()[1:]
    assert [line.split(" (from")[0].strip() for line in problems] == [
        "btc-wallet",
        "btc-wallet.network = 'moon'",
        "btc-wallet.port = 0",
    ]


def test_section_level_problem_points_at_the_section_header(
    write_config: Callable[[str], Path],
) -> None:
    path = write_config("# comment\n[btc-wallet]\nport = 1\n")
    schema = {"type": "object", "required": ["network"]}
    with pytest.raises(ConfigError) as raised:
        validate_section("btc-wallet", schema, load_config(path, environ={}))
    assert f"btc-wallet (from file {path}:2): 'network' is a required property" in (
        raised.value.message
    )


def test_invalid_schema_is_reported_as_the_extensions_fault(config_path: Path) -> None:
    with pytest.raises(ConfigError, match="schema of 'btc-wallet' is itself invalid"):
        validate_section("btc-wallet", {"type": 5}, load_config(config_path, environ={}))


def test_a_schema_that_passed_the_metaschema_has_its_digest_remembered(
    wallet_schema: dict[str, Any], config_path: Path
) -> None:
    checked: set[str] = set()
    config = load_config(config_path, environ={})
    validate_section("btc-wallet", wallet_schema, config, checked=checked)
    assert schema_digest(wallet_schema) in checked


def test_an_unset_section_passing_on_defaults_alone_is_remembered_once(config_path: Path) -> None:
    schema = {"type": "object", "properties": {"port": {"type": "integer", "default": 8332}}}
    checked: set[str] = set()
    config = load_config(config_path, environ={})
    assert validate_section("btc-wallet", schema, config, checked=checked) == {"port": 8332}
    remembered = set(checked)
    assert len(remembered) == 2, "the schema, and that its defaults pass it"
    assert validate_section("btc-wallet", schema, config, checked=checked) == {"port": 8332}
    assert checked == remembered


def test_defaults_that_fail_their_schema_are_reported_every_time(config_path: Path) -> None:
    schema = {"type": "object", "properties": {"port": {"type": "integer", "default": "x"}}}
    checked: set[str] = set()
    config = load_config(config_path, environ={})
    for _ in range(2):
        with pytest.raises(ConfigError, match="'x' is not of type 'integer'"):
            validate_section("btc-wallet", schema, config, checked=checked)
    assert checked == {schema_digest(schema)}


def test_defaults_with_a_format_are_validated_every_time(config_path: Path) -> None:
    at = {"type": "string", "format": "date", "default": "2026-01-01"}
    schema = {"type": "object", "properties": {"at": at}}
    checked: set[str] = set()
    validate_section("btc-wallet", schema, load_config(config_path, environ={}), checked=checked)
    assert checked == {schema_digest(schema)}


def test_a_section_someone_set_is_validated_despite_remembered_defaults(
    write_config: Callable[[str], Path], config_path: Path
) -> None:
    schema = {"type": "object", "properties": {"port": {"type": "integer", "default": 8332}}}
    checked: set[str] = set()
    validate_section("btc-wallet", schema, load_config(config_path, environ={}), checked=checked)
    path = write_config('[btc-wallet]\nport = "eight"\n')
    with pytest.raises(ConfigError, match="'eight' is not of type 'integer'"):
        validate_section("btc-wallet", schema, load_config(path, environ={}), checked=checked)


def test_a_schema_whose_digest_is_remembered_is_not_checked_again() -> None:
    invalid = {"type": 5}
    check_schema("btc-wallet", invalid, {str(schema_digest(invalid))})


def test_a_changed_schema_is_checked_anew(wallet_schema: dict[str, Any]) -> None:
    checked = {str(schema_digest(wallet_schema))}
    changed = {**wallet_schema, "type": 5}
    with pytest.raises(ConfigError, match="itself invalid"):
        check_schema("btc-wallet", changed, checked)
    assert schema_digest(changed) not in checked


def test_an_invalid_schema_is_never_remembered(config_path: Path) -> None:
    checked: set[str] = set()
    config = load_config(config_path, environ={})
    with pytest.raises(ConfigError):
        validate_section("btc-wallet", {"type": 5}, config, checked=checked)
    assert checked == set()
