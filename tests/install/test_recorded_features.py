"""The features column's reading of receipts: right after every kind of receipt change,
and from its cache only where the receipt file is the one the cache saw."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from anya_plugins.install.environment import TargetEnvironment
from anya_plugins.install.receipts import Receipt, receipts_dir, remove_receipt, write_receipt
from anya_plugins.install.recorded_features import CACHE_FILE, recorded_features

OLD_NS = 1_000_000_000_000_000_000  # 2001: far outside the racy window


def environment(prefix: Path) -> TargetEnvironment:
    return TargetEnvironment(Path(sys.executable), prefix, prefix, prefix, prefix, ())


def receipt(name: str, version: str, features: tuple[str, ...]) -> Receipt:
    return Receipt(name, version, f"{name}-{version}.whl", "0" * 64, "u", "s", "i", features)


def settle(env: TargetEnvironment) -> None:
    """Age every receipt's mtime past the racy window, as hours after an install."""
    for file in receipts_dir(env).glob("*.json"):
        os.utime(file, ns=(OLD_NS, OLD_NS))


@pytest.fixture
def env(tmp_path: Path) -> TargetEnvironment:
    return environment(tmp_path / "venv")


def features(env: TargetEnvironment, installed: dict[str, str], cache: Path) -> dict[str, object]:
    return dict(recorded_features(str(receipts_dir(env)), installed, str(cache)))


def test_features_of_the_installed_version_only(env: TargetEnvironment, tmp_path: Path) -> None:
    write_receipt(env, receipt("anya-ext-a", "1.0", ("tor", "metrics")))
    write_receipt(env, receipt("anya-ext-b", "2.0", ("gpu",)))
    installed = {"anya-ext-a": "1.0", "anya-ext-b": "3.0", "anya-ext-c": "1.0"}
    assert features(env, installed, tmp_path) == {"anya-ext-a": ("tor", "metrics")}


def test_the_cache_answers_without_reading_the_receipt(
    env: TargetEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_receipt(env, receipt("anya-ext-a", "1.0", ("tor",)))
    settle(env)
    assert features(env, {"anya-ext-a": "1.0"}, tmp_path) == {"anya-ext-a": ("tor",)}
    assert (tmp_path / CACHE_FILE).is_file()
    opened: list[str] = []
    real_open = open

    def spying_open(file: str, *args: object, **kwargs: object) -> object:
        opened.append(str(file))
        return real_open(file, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr("builtins.open", spying_open)
    assert features(env, {"anya-ext-a": "1.0"}, tmp_path) == {"anya-ext-a": ("tor",)}
    assert opened == [str(tmp_path / CACHE_FILE)]


@pytest.mark.parametrize("settled", [True, False], ids=["settled", "just written"])
def test_a_rewritten_receipt_is_read_again(
    env: TargetEnvironment, tmp_path: Path, settled: bool
) -> None:
    """Same size, and (settled) the same mtime as the cached one: the rename still shows."""
    write_receipt(env, receipt("anya-ext-a", "1.0", ("aa",)))
    settle(env)
    assert features(env, {"anya-ext-a": "1.0"}, tmp_path) == {"anya-ext-a": ("aa",)}
    write_receipt(env, receipt("anya-ext-a", "1.0", ("bb",)))
    if settled:
        settle(env)
    assert features(env, {"anya-ext-a": "1.0"}, tmp_path) == {"anya-ext-a": ("bb",)}


def test_an_edit_in_place_is_read_again(env: TargetEnvironment, tmp_path: Path) -> None:
    write_receipt(env, receipt("anya-ext-a", "1.0", ("aa",)))
    settle(env)
    assert features(env, {"anya-ext-a": "1.0"}, tmp_path) == {"anya-ext-a": ("aa",)}
    file = receipts_dir(env) / "anya-ext-a.json"
    file.write_text(file.read_text().replace('"aa"', '"bb"'))
    os.utime(file, ns=(OLD_NS, OLD_NS))  # mtime put back: the ctime still moved
    assert features(env, {"anya-ext-a": "1.0"}, tmp_path) == {"anya-ext-a": ("bb",)}


def test_a_just_written_receipt_is_not_kept(env: TargetEnvironment, tmp_path: Path) -> None:
    write_receipt(env, receipt("anya-ext-a", "1.0", ("aa",)))
    assert features(env, {"anya-ext-a": "1.0"}, tmp_path) == {"anya-ext-a": ("aa",)}
    assert not (tmp_path / CACHE_FILE).exists()


def test_removed_and_upgraded_receipts(env: TargetEnvironment, tmp_path: Path) -> None:
    write_receipt(env, receipt("anya-ext-a", "1.0", ("aa",)))
    write_receipt(env, receipt("anya-ext-b", "1.0", ("bb",)))
    settle(env)
    installed = {"anya-ext-a": "1.0", "anya-ext-b": "1.0"}
    assert features(env, installed, tmp_path) == {"anya-ext-a": ("aa",), "anya-ext-b": ("bb",)}
    remove_receipt(env, "anya-ext-a")
    write_receipt(env, replace(receipt("anya-ext-b", "2.0", ("cc",)), installed_at=time.time()))
    settle(env)
    assert features(env, installed, tmp_path) == {}
    assert features(env, {"anya-ext-b": "2.0"}, tmp_path) == {"anya-ext-b": ("cc",)}


def test_a_broken_cache_is_read_past(env: TargetEnvironment, tmp_path: Path) -> None:
    write_receipt(env, receipt("anya-ext-a", "1.0", ("aa",)))
    settle(env)
    (tmp_path / CACHE_FILE).write_bytes(b"\x00not marshal")
    assert features(env, {"anya-ext-a": "1.0"}, tmp_path) == {"anya-ext-a": ("aa",)}
    assert features(env, {"anya-ext-a": "1.0"}, tmp_path) == {"anya-ext-a": ("aa",)}


@pytest.mark.parametrize("text", ["{", "[1]", ""], ids=["torn", "not an object", "empty"])
def test_an_unreadable_receipt_counts_as_none_and_the_others_still_answer(
    env: TargetEnvironment, tmp_path: Path, text: str
) -> None:
    write_receipt(env, receipt("anya-ext-a", "1.0", ("aa",)))
    write_receipt(env, receipt("anya-ext-b", "1.0", ("bb",)))
    (receipts_dir(env) / "anya-ext-b.json").write_text(text)
    installed = {"anya-ext-a": "1.0", "anya-ext-b": "1.0"}
    assert features(env, installed, tmp_path) == {"anya-ext-a": ("aa",)}
