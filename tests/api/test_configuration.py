"""Configuration: layers the caller chooses, origins, sources in order, per-extension values."""

from __future__ import annotations

from pathlib import Path

import pytest

from anya_plugins import Configuration
from anya_plugins.errors import ConfigError


def test_a_configuration_built_in_code_reads_nothing_of_the_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "user.toml"
    broken.write_text("this is not toml")
    monkeypatch.setenv("ANYA_CONFIG", str(broken))
    monkeypatch.setenv("ANYA_SOURCES__TIMEOUT", "99")

    configuration = Configuration(values={"sources.timeout": 5})

    assert configuration.sources_settings().timeout == 5
    with pytest.raises(ConfigError):
        Configuration.from_user().items()


def test_each_value_says_which_layer_set_it(tmp_path: Path) -> None:
    file = tmp_path / "extensions.toml"
    file.write_text('[btc-wallet]\nnetwork = "mainnet"\nport = 8333\n')

    configuration = Configuration(
        file=file,
        environ={"ANYA_BTC_WALLET__PORT": "18333"},
        overrides=("btc-wallet.rpc=true",),
        values={"btc-wallet.network": "signet"},
    )

    assert configuration.extension("anya-ext-btc-wallet") == {
        "network": "signet", "port": 18333, "rpc": True,
    }  # fmt: skip
    network, port = configuration.get("btc-wallet.network"), configuration.get("btc-wallet.port")
    assert network is not None and port is not None
    assert (network.origin.layer, port.origin.layer) == ("cli", "env")
    assert str(Configuration(file=file).origin("btc-wallet.port")) == f"file {file}:3"


def test_sources_come_in_the_order_they_are_consulted() -> None:
    configuration = Configuration(
        values={
            "sources": {
                "primary": {"url": "https://a.example/simple/", "mirrors": ["https://m.example/s/"]},
                "community": {"url": "https://c.example/simple/"},
                "enterprise": {"zeta": {"url": "https://z.example/s/"},
                               "acme": {"url": "https://acme.example/s/"}},
            }
        }
    )  # fmt: skip

    sources = configuration.sources()

    names = [s.name for s in sources]
    assert names == ["primary", "community", "enterprise.acme", "enterprise.zeta"]
    assert sources[0].urls == ("https://a.example/simple/", "https://m.example/s/")


def test_a_wrong_value_names_its_origin() -> None:
    with pytest.raises(ConfigError, match=r"Configuration\.values"):
        Configuration(values={"sources.primary.url": "ftp://nowhere"}).sources()


def test_with_values_layers_over_a_copy() -> None:
    base = Configuration(values={"sources.timeout": 5})

    faster = base.with_values({"sources.timeout": 1})

    assert (base.sources_settings().timeout, faster.sources_settings().timeout) == (5, 1)


def test_set_and_unset_store_in_the_file_and_record_the_key_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANYA_DATA_DIR", str(tmp_path / "data"))
    log = tmp_path / "audit.jsonl"
    file = tmp_path / "extensions.toml"
    file.write_text(f'# mine\n[audit]\nlog = "{log}"\n')
    configuration = Configuration(file=file)

    assert configuration.set("btc-wallet.rpc_password", "hunter2") == "hunter2"
    assert configuration.extension("btc-wallet") == {"rpc_password": "hunter2"}
    assert configuration.set_disabled("btc-wallet", True) and configuration.layered().disabled
    assert configuration.unset("btc-wallet.rpc_password")
    assert not configuration.unset("btc-wallet.rpc_password")

    assert file.read_text().startswith("# mine\n")
    entries = log.read_text()
    assert entries.count('"config-change"') == 3 and "hunter2" not in entries


def test_a_configuration_without_a_file_stores_nothing() -> None:
    from anya_plugins.errors import UsageError

    with pytest.raises(UsageError, match="no file"):
        Configuration().set("btc-wallet.port", "1")
