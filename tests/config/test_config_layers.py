from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from anya_plugins.config.layers import Origin, load_config, read_disabled
from anya_plugins.errors import ConfigError

WALLET_ENV = {"ANYA_BTC_WALLET__PORT": "8333"}
KNOWN = ["btc-wallet"]


def test_file_values_carry_their_line(example_config: Path) -> None:
    entry = load_config(example_config, environ={}).get("btc-wallet.port")
    assert entry is not None
    assert (entry.value, entry.origin) == (8332, Origin("file", str(example_config), 6))


def test_env_wins_over_file(example_config: Path) -> None:
    config = load_config(example_config, environ=WALLET_ENV, known_extensions=KNOWN)
    entry = config.get("btc-wallet.port")
    assert entry is not None
    assert (entry.value, str(entry.origin)) == (8333, "env ANYA_BTC_WALLET__PORT")


def test_cli_wins_over_env_and_file(example_config: Path) -> None:
    config = load_config(
        example_config,
        environ=WALLET_ENV,
        overrides=["btc-wallet.port=8334"],
        known_extensions=KNOWN,
    )
    entry = config.get("btc-wallet.port")
    assert entry is not None
    assert (entry.value, str(entry.origin)) == (8334, "cli --config")


def test_later_override_wins_over_earlier_one(example_config: Path) -> None:
    config = load_config(example_config, environ={}, overrides=["a.b=1", "a.b=2"])
    assert config.section("a") == {"b": 2}


def test_file_origin_reads_as_file_path_and_line(example_config: Path) -> None:
    assert str(load_config(example_config, environ={}).origin("btc-wallet.network")) == (
        f"file {example_config}:7"
    )


def test_entries_list_every_leaf_sorted_with_winning_origin(example_config: Path) -> None:
    config = load_config(example_config, environ=WALLET_ENV, known_extensions=KNOWN)
    assert [(e.key, e.origin.layer) for e in config.entries()] == [
        ("btc-wallet.network", "file"),
        ("btc-wallet.port", "env"),
        ("host.disabled", "file"),
    ]


def test_section_merges_nested_keys_from_all_layers(write_config: Callable[[str], Path]) -> None:
    path = write_config('[btc-wallet.rpc]\nuser = "me"\n')
    config = load_config(
        path,
        environ={"ANYA_BTC_WALLET__RPC__PORT": "1"},
        overrides=["btc-wallet.rpc.tls=true"],
        known_extensions=KNOWN,
    )
    assert config.section("btc-wallet") == {"rpc": {"user": "me", "port": 1, "tls": True}}


def test_value_replaces_a_whole_table_of_a_lower_layer(write_config: Callable[[str], Path]) -> None:
    path = write_config('[btc-wallet.rpc]\nuser = "me"\n')
    config = load_config(path, environ={}, overrides=["btc-wallet.rpc=5"])
    assert config.section("btc-wallet") == {"rpc": 5}


def test_section_is_a_copy(example_config: Path) -> None:
    config = load_config(example_config, environ={})
    config.section("host")["disabled"].append("bar")
    assert config.section("host") == {"disabled": ["foo"]}


def test_missing_file_is_an_empty_layer(config_path: Path) -> None:
    config = load_config(config_path, environ={})
    assert (config.entries(), config.path, config.disabled) == ([], config_path, frozenset())


def test_path_defaults_to_anya_config_variable(example_config: Path) -> None:
    config = load_config(environ={"ANYA_CONFIG": str(example_config)})
    assert config.path == example_config
    assert config.get("btc-wallet.port") is not None


def test_anya_config_variable_is_not_a_value(example_config: Path) -> None:
    config = load_config(example_config, environ={"ANYA_CONFIG": str(example_config)})
    assert all(entry.origin.layer == "file" for entry in config.entries())


@pytest.mark.parametrize("item", ["btc-wallet.port", "=1", "port=1", "btc-wallet.=1"])
def test_malformed_override_is_refused_naming_it(config_path: Path, item: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(config_path, environ={}, overrides=[item])
    assert repr(item) in raised.value.message


def test_broken_toml_names_file_line_and_column(write_config: Callable[[str], Path]) -> None:
    path = write_config('[host]\ndisabled = ["foo"\n\n[btc-wallet]\nport = \n')
    with pytest.raises(ConfigError) as raised:
        load_config(path, environ={})
    assert raised.value.message.startswith(f"{path}:4:1: ")
    assert raised.value.hint


def test_value_outside_any_section_is_refused_with_its_line(
    write_config: Callable[[str], Path],
) -> None:
    path = write_config("# top\nport = 1\n")
    with pytest.raises(
        ConfigError, match="^" + re.escape(f"{path}:2: port is a value outside any section")
    ):
        load_config(path, environ={})


def test_host_disabled_of_wrong_type_names_file_line_and_key(
    write_config: Callable[[str], Path],
) -> None:
    path = write_config('[host]\n\ndisabled = "foo"\n')
    with pytest.raises(ConfigError) as raised:
        load_config(path, environ={})
    assert raised.value.message == (
        f"host.disabled = 'foo' (from file {path}:3): must be a list of extension names"
    )


def test_host_disabled_with_non_string_names_is_refused(
    write_config: Callable[[str], Path],
) -> None:
    path = write_config("[host]\ndisabled = [1, 2]\n")
    with pytest.raises(ConfigError, match=re.escape("host.disabled")):
        read_disabled(path, environ={})


def test_read_disabled_reads_the_file(example_config: Path) -> None:
    assert read_disabled(example_config, environ={}) == {"foo"}


def test_read_disabled_of_missing_file_is_empty(config_path: Path) -> None:
    assert read_disabled(config_path, environ={}) == frozenset()


@pytest.mark.parametrize("raw", ['["a", "b"]', "a,b", " a , b ,"])
def test_read_disabled_env_takes_toml_array_or_comma_list(example_config: Path, raw: str) -> None:
    assert read_disabled(example_config, environ={"ANYA_HOST__DISABLED": raw}) == {"a", "b"}


def test_with_defaults_puts_schema_defaults_lowest(example_config: Path) -> None:
    schema = {"properties": {"port": {"default": 1}, "timeout": {"default": 30}}}
    config = load_config(example_config, environ={}).with_defaults("btc-wallet", schema)
    timeout, port = config.get("btc-wallet.timeout"), config.get("btc-wallet.port")
    assert timeout is not None and port is not None
    assert (timeout.value, str(timeout.origin)) == (30, "default (schema)")
    assert (port.value, port.origin.layer) == (8332, "file")


def test_with_defaults_retypes_env_strings_by_the_schema(config_path: Path) -> None:
    environ = {"ANYA_BTC_WALLET__LABEL": "1234"}
    config = load_config(config_path, environ=environ, known_extensions=KNOWN)
    schema = {"properties": {"label": {"type": "string"}}}
    assert config.section("btc-wallet") == {"label": 1234}
    assert config.with_defaults("btc-wallet", schema).section("btc-wallet") == {"label": "1234"}


def test_schemas_given_to_load_config_type_env_strings_and_add_defaults(
    config_path: Path,
) -> None:
    schema = {"properties": {"label": {"type": "string"}, "timeout": {"default": 30}}}
    config = load_config(
        config_path,
        environ={"ANYA_BTC_WALLET__LABEL": "1234"},
        known_extensions=KNOWN,
        schemas={"btc-wallet": schema},
    )
    assert config.section("btc-wallet") == {"label": "1234", "timeout": 30}
