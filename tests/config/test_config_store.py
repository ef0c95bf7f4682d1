from __future__ import annotations

import re
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from anya_plugins.config.layers import load_config, read_disabled
from anya_plugins.config.store import set_disabled, set_value, unset_value
from anya_plugins.errors import ConfigError

BROKEN = '[host]\ndisabled = ["foo"\n'


def leftovers(directory: Path) -> list[str]:
    """Files other than the config file itself and its lock."""
    return sorted(
        p.name for p in directory.iterdir() if not p.name.endswith((".toml", ".toml.lock"))
    )


def test_set_value_keeps_comments_and_layout(example_config: Path) -> None:
    set_value(example_config, "btc-wallet.port", "8333")
    assert example_config.read_text() == (
        "# my settings\n"
        "[host]\n"
        'disabled = ["foo"]\n'
        "\n"
        "[btc-wallet]\n"
        "port = 8333   # rpc port\n"
        'network = "signet"\n'
    )


def test_set_value_returns_the_typed_value(example_config: Path) -> None:
    assert set_value(example_config, "btc-wallet.tls", "true") is True


def test_set_value_keeps_text_for_string_typed_key(
    example_config: Path, wallet_schema: dict[str, Any]
) -> None:
    assert set_value(example_config, "btc-wallet.label", "8332", wallet_schema) == "8332"
    assert 'label = "8332"' in example_config.read_text()


def test_set_value_is_read_back_from_the_file(example_config: Path) -> None:
    set_value(example_config, "btc-wallet.rpc.user", "me")
    entry = load_config(example_config, environ={}).get("btc-wallet.rpc.user")
    assert entry is not None
    assert (entry.value, entry.origin.layer) == ("me", "file")


def test_set_value_types_host_disabled_as_a_list_of_names(example_config: Path) -> None:
    assert set_value(example_config, "host.disabled", "foo,bar") == ["foo", "bar"]
    assert read_disabled(example_config, environ={}) == {"foo", "bar"}


def test_set_value_creates_file_and_parent_directories(config_path: Path) -> None:
    set_value(config_path, "btc-wallet.port", "8332")
    assert load_config(config_path, environ={}).section("btc-wallet") == {"port": 8332}


def test_new_file_is_private_to_the_user(config_path: Path) -> None:
    set_value(config_path, "btc-wallet.port", "8332")
    assert stat.S_IMODE(config_path.stat().st_mode) == 0o600


def test_set_value_keeps_the_file_mode(example_config: Path) -> None:
    example_config.chmod(0o640)
    set_value(example_config, "btc-wallet.port", "8333")
    assert stat.S_IMODE(example_config.stat().st_mode) == 0o640


def test_set_value_writes_through_a_symlink(example_config: Path, tmp_path: Path) -> None:
    link = tmp_path / "link.toml"
    link.symlink_to(example_config)
    set_value(link, "btc-wallet.port", "8333")
    assert link.is_symlink()
    assert "port = 8333" in example_config.read_text()


def test_set_value_leaves_no_temporary_files(example_config: Path) -> None:
    set_value(example_config, "btc-wallet.port", "8333")
    unset_value(example_config, "btc-wallet.port")
    set_disabled(example_config, "bar", True)
    assert leftovers(example_config.parent) == []


def test_set_value_refuses_broken_file_and_leaves_it_byte_identical(
    write_config: Callable[[str], Path],
) -> None:
    path = write_config(BROKEN)
    before = path.read_bytes()
    with pytest.raises(ConfigError, match="^" + re.escape(f"{path}:3:1: ")):
        set_value(path, "btc-wallet.port", "8333")
    assert path.read_bytes() == before
    assert leftovers(path.parent) == []


def test_set_value_refuses_invalid_value_before_writing(
    example_config: Path, wallet_schema: dict[str, Any]
) -> None:
    before = example_config.read_bytes()
    with pytest.raises(
        ConfigError, match=re.escape("btc-wallet.port = 70000 (from cli config set)")
    ):
        set_value(example_config, "btc-wallet.port", "70000", wallet_schema)
    assert example_config.read_bytes() == before


def test_set_value_refuses_unknown_key_when_schema_forbids_it(
    example_config: Path, wallet_schema: dict[str, Any]
) -> None:
    with pytest.raises(ConfigError, match="'prot' was unexpected"):
        set_value(example_config, "btc-wallet.prot", "1", wallet_schema)


def test_set_value_is_not_blocked_by_problems_the_section_already_had(
    example_config: Path,
) -> None:
    schema = {"type": "object", "required": ["user", "password"]}
    set_value(example_config, "btc-wallet.user", "me", schema)
    assert 'user = "me"' in example_config.read_text()


@pytest.mark.parametrize("key", ["", "btc-wallet", "btc-wallet."])
def test_set_value_refuses_key_without_section_and_key(config_path: Path, key: str) -> None:
    with pytest.raises(ConfigError):
        set_value(config_path, key, "1")
    assert not config_path.exists()


def test_set_value_refuses_to_replace_a_table_with_a_value(
    write_config: Callable[[str], Path],
) -> None:
    path = write_config('[btc-wallet.rpc]\nuser = "me"\n')
    with pytest.raises(ConfigError, match="^" + re.escape(f"{path}:1: btc-wallet.rpc is a table")):
        set_value(path, "btc-wallet.rpc", "5")


def test_set_value_refuses_to_set_inside_a_value(example_config: Path) -> None:
    with pytest.raises(ConfigError, match=re.escape("btc-wallet.port is a value")):
        set_value(example_config, "btc-wallet.port.low", "1")


def test_concurrent_writers_lose_no_change(config_path: Path) -> None:
    keys = [f"btc-wallet.key{number}" for number in range(8)]
    threads = [threading.Thread(target=set_value, args=(config_path, key, "1")) for key in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    section = load_config(config_path, environ={}).section("btc-wallet")
    assert sorted(section) == sorted(key.split(".")[1] for key in keys)


def test_unset_value_keeps_comments_of_other_lines(example_config: Path) -> None:
    assert unset_value(example_config, "btc-wallet.network") is True
    assert example_config.read_text() == (
        '# my settings\n[host]\ndisabled = ["foo"]\n\n[btc-wallet]\nport = 8332   # rpc port\n'
    )


def test_unset_value_of_absent_key_is_false_and_changes_nothing(example_config: Path) -> None:
    before = example_config.read_bytes()
    assert unset_value(example_config, "btc-wallet.nothing") is False
    assert example_config.read_bytes() == before


def test_unset_value_without_file_is_false(config_path: Path) -> None:
    assert unset_value(config_path, "btc-wallet.port") is False
    assert not config_path.parent.exists()


def test_unset_value_removes_a_dotted_key(write_config: Callable[[str], Path]) -> None:
    path = write_config('[btc-wallet]\nrpc.user = "me"\nrpc.port = 1\n')
    unset_value(path, "btc-wallet.rpc.user")
    assert load_config(path, environ={}).section("btc-wallet") == {"rpc": {"port": 1}}


def test_unset_value_refuses_broken_file(write_config: Callable[[str], Path]) -> None:
    path = write_config(BROKEN)
    with pytest.raises(ConfigError, match=re.escape(str(path))):
        unset_value(path, "host.disabled")
    assert path.read_text() == BROKEN


def test_set_disabled_adds_the_name(example_config: Path) -> None:
    assert set_disabled(example_config, "bar", True) is True
    assert read_disabled(example_config, environ={}) == {"foo", "bar"}


def test_set_disabled_twice_changes_nothing_the_second_time(example_config: Path) -> None:
    set_disabled(example_config, "bar", True)
    after_first = example_config.read_bytes()
    assert set_disabled(example_config, "bar", True) is False
    assert example_config.read_bytes() == after_first


def test_set_disabled_false_removes_the_name(example_config: Path) -> None:
    assert set_disabled(example_config, "foo", False) is True
    assert read_disabled(example_config, environ={}) == frozenset()


def test_set_disabled_false_for_enabled_name_changes_nothing(example_config: Path) -> None:
    before = example_config.read_bytes()
    assert set_disabled(example_config, "bar", False) is False
    assert example_config.read_bytes() == before


def test_set_disabled_creates_host_table_in_new_file(config_path: Path) -> None:
    assert set_disabled(config_path, "foo", True) is True
    assert read_disabled(config_path, environ={}) == {"foo"}


def test_set_disabled_refuses_wrong_type_host_disabled(
    write_config: Callable[[str], Path],
) -> None:
    path = write_config('[host]\ndisabled = "foo"\n')
    with pytest.raises(ConfigError, match=re.escape(f"host.disabled = 'foo' (from file {path}:2)")):
        set_disabled(path, "bar", True)
