from __future__ import annotations

import pytest

from anya_plugins.config.keys import env_key_path, env_sections, split_key
from anya_plugins.errors import ConfigError


def test_env_name_with_underscores_maps_to_extension_with_dashes() -> None:
    sections = env_sections(["btc-wallet"])
    assert env_key_path("ANYA_BTC_WALLET__PORT", sections) == ("btc-wallet", "port")


def test_env_name_maps_to_reserved_host_section() -> None:
    assert env_key_path("ANYA_HOST__DISABLED", env_sections([])) == ("host", "disabled")


def test_env_name_of_unknown_section_becomes_lower_case_with_underscores() -> None:
    assert env_key_path("ANYA_MY_EXT__X", env_sections([])) == ("my_ext", "x")


def test_env_name_double_underscores_nest_keys_lower_cased() -> None:
    sections = env_sections(["btc-wallet"])
    path = env_key_path("ANYA_BTC_WALLET__RPC__User", sections)
    assert path == ("btc-wallet", "rpc", "user")


@pytest.mark.parametrize("variable", ["ANYA_CONFIG", "ANYA_CACHE_DIR", "HOME", "XANYA_A__B"])
def test_variables_without_prefix_and_separator_are_not_values(variable: str) -> None:
    assert env_key_path(variable, env_sections([])) is None


def test_env_name_of_two_extensions_spelled_alike_is_refused() -> None:
    sections = env_sections(["foo-bar", "foo_bar"])
    with pytest.raises(ConfigError, match="ANYA_FOO_BAR__X"):
        env_key_path("ANYA_FOO_BAR__X", sections)


def test_env_name_with_empty_key_is_refused() -> None:
    with pytest.raises(ConfigError, match="ANYA_HOST__"):
        env_key_path("ANYA_HOST__", env_sections([]))


def test_split_key_gives_section_and_key_parts() -> None:
    assert split_key("btc-wallet.rpc.port") == ("btc-wallet", "rpc", "port")


@pytest.mark.parametrize("key", ["", "  ", "btc-wallet", "btc-wallet.", ".port", "a..b"])
def test_split_key_refuses_keys_without_section_and_key(key: str) -> None:
    with pytest.raises(ConfigError):
        split_key(key)
