"""A name that is not installed: the error says so, and its hint helps find the right one —
every installed name when there are few, the close ones and where to see all when many."""

from __future__ import annotations

from pathlib import Path

import pytest

from anya_plugins.errors import ExtensionNotFound
from anya_plugins.host.host import Host

from .conftest import Install

SOURCE = "VALUE = 1\n"


def test_a_few_installed_extensions_are_all_named(site: Path, install: Install) -> None:
    for name in ("lightning", "ordinals", "nostr"):
        install(name, SOURCE)
    with pytest.raises(ExtensionNotFound) as refused:
        Host(path=[str(site)], use_cache=False).get("lightnin")
    assert refused.value.message == "no extension named 'lightnin' is installed"
    assert refused.value.hint == "installed extensions: lightning, nostr, ordinals"


def test_many_installed_extensions_are_counted_and_the_close_names_offered(
    site: Path, install: Install
) -> None:
    for number in range(25):
        install(f"oracle{number:02d}", SOURCE)
    install("lightning", SOURCE)
    with pytest.raises(ExtensionNotFound) as refused:
        Host(path=[str(site)], use_cache=False).get("lightnig")
    assert refused.value.hint == (
        "did you mean lightning? 26 extensions are installed: 'anya-ext list' shows them all"
    )


def test_many_installed_and_nothing_close(site: Path, install: Install) -> None:
    for number in range(12):
        install(f"oracle{number:02d}", SOURCE)
    with pytest.raises(ExtensionNotFound) as refused:
        Host(path=[str(site)], use_cache=False).get("zzz")
    assert refused.value.hint == "12 extensions are installed: 'anya-ext list' shows them all"
