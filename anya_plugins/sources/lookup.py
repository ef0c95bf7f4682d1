"""The library calls behind ``anya-ext search`` and ``info`` of an extension not installed:
light on purpose (no installer, no trust), since they are answered from the index alone."""

from __future__ import annotations

from collections.abc import Sequence

from anya_plugins.config.layers import load_config
from anya_plugins.config.paths import user_config_path
from anya_plugins.sources.search import RemoteExtension, SearchHit, describe_remote, search
from anya_plugins.sources.settings import load_sources
from anya_plugins.sources.simple import SimpleIndex


def _index(source: str, config_overrides: Sequence[str]) -> SimpleIndex:
    config = load_config(user_config_path(), overrides=config_overrides)
    return SimpleIndex.from_settings(load_sources(config), source)


def search_extensions(
    query: str,
    *,
    source: str = "primary",
    category: str | None = None,
    config_overrides: Sequence[str] = (),
) -> list[SearchHit]:
    """Extensions on the source's index matching every term of ``query``."""
    return search(_index(source, config_overrides), query, category=category)


def remote_extension(
    name: str, *, source: str = "primary", config_overrides: Sequence[str] = ()
) -> RemoteExtension:
    """The index's view of an extension: versions, category, features, platforms, source."""
    from anya_plugins.install.specs import distribution_name

    return describe_remote(_index(source, config_overrides), distribution_name(name), source)
