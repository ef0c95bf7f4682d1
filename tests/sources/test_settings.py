"""The [sources] section: defaults for the local registry, typed keys, errors naming the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from anya_plugins.config.layers import load_config
from anya_plugins.errors import ConfigError
from anya_plugins.sources.errors import SourcesConfigError
from anya_plugins.sources.settings import (
    DEFAULT_MAX_SIZE_MB,
    DEFAULT_PAGE_TTL_SECONDS,
    DEFAULT_TIMEOUT,
    DEFAULT_URLS,
    SourceSettings,
    load_sources,
    parse_sources,
)

ENV = {"ANYA_CACHE_DIR": "/var/cache/anya-test"}


def test_an_empty_section_points_at_the_local_registry() -> None:
    settings = parse_sources({}, environ=ENV)

    assert settings.primary == SourceSettings("primary", DEFAULT_URLS["primary"])
    assert settings.community == SourceSettings("community", DEFAULT_URLS["community"])
    assert settings.primary.url.startswith("http://127.0.0.1:3141/")
    assert settings.enterprise == ()
    assert settings.timeout == DEFAULT_TIMEOUT
    assert settings.cache.dir == Path("/var/cache/anya-test/downloads")
    assert settings.cache.max_size_mb == DEFAULT_MAX_SIZE_MB
    assert settings.cache.page_ttl_seconds == DEFAULT_PAGE_TTL_SECONDS


def test_every_key_is_read() -> None:
    settings = parse_sources(
        {
            "timeout": 3,
            "primary": {
                "url": "https://primary.example/anya/primary/+simple",
                "mirrors": ["https://replica.example/anya/primary/+simple/"],
            },
            "community": {"url": "https://community.example/simple/"},
            "enterprise": {
                "zeta": {"url": "https://zeta.example/simple/"},
                "acme": {
                    "url": "https://acme.example/simple/",
                    "mirrors": ["https://acme-eu.example/simple/"],
                },
            },
            "cache": {"dir": "/tmp/anya-cache", "max_size_mb": 10, "page_ttl_seconds": 0},
        },
        environ=ENV,
    )

    assert settings.timeout == 3
    assert settings.primary.urls == (
        "https://primary.example/anya/primary/+simple/",
        "https://replica.example/anya/primary/+simple/",
    )
    assert settings.community.url == "https://community.example/simple/"
    assert [source.name for source in settings.enterprise] == ["enterprise.acme", "enterprise.zeta"]
    assert settings.source("enterprise.acme").mirrors == ("https://acme-eu.example/simple/",)
    assert settings.cache.dir == Path("/tmp/anya-cache")
    assert settings.cache.max_bytes == 10 * 1024 * 1024
    assert settings.cache.page_ttl_seconds == 0


def test_mirrors_from_the_environment_are_comma_separated() -> None:
    settings = parse_sources(
        {"primary": {"mirrors": "http://a.example/simple/, http://b.example/simple/"}}, environ=ENV
    )

    assert settings.primary.mirrors == ("http://a.example/simple/", "http://b.example/simple/")


def test_a_mirror_equal_to_the_url_is_not_tried_twice() -> None:
    url = DEFAULT_URLS["primary"]

    settings = parse_sources({"primary": {"mirrors": [url, url]}}, environ=ENV)

    assert settings.primary.urls == (url,)


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"timeout": "soon"}, r"^sources\.timeout: must be a number, not 'soon'"),
        ({"timeout": 0}, r"^sources\.timeout: must be above 0"),
        ({"timeout": True}, r"^sources\.timeout: must be a number"),
        ({"primary": {"url": "ftp://x/simple/"}}, r"^sources\.primary\.url: 'ftp://x/simple/'"),
        ({"primary": {"mirrors": [1]}}, r"^sources\.primary\.mirrors\[0\]: must be a non-empty"),
        ({"primary": {"mirror": []}}, r"^sources\.primary\.mirror: unknown key"),
        ({"primary": "http://x/"}, r"^sources\.primary: must be a table"),
        ({"enterprise": {"acme": {}}}, r"^sources\.enterprise\.acme: has no url"),
        ({"cache": {"max_size_mb": 1.5}}, r"^sources\.cache\.max_size_mb: must be a whole number"),
        ({"cache": {"page_ttl_seconds": -1}}, r"^sources\.cache\.page_ttl_seconds: must be at"),
        ({"cache": {"dir": ""}}, r"^sources\.cache\.dir: must be a non-empty string"),
        ({"mirrors": []}, r"^sources\.mirrors: unknown key"),
    ],
)
def test_a_wrong_value_is_an_error_naming_its_key(section: dict[str, Any], message: str) -> None:
    with pytest.raises(SourcesConfigError, match=message) as caught:
        parse_sources(section, environ=ENV)

    assert isinstance(caught.value, ConfigError)
    assert caught.value.exit_code == ConfigError.exit_code


def test_an_unknown_key_error_lists_the_known_keys() -> None:
    with pytest.raises(SourcesConfigError) as caught:
        parse_sources({"primary": {"urls": []}}, environ=ENV)

    assert caught.value.hint == "keys allowed here: url, mirrors, tuf_root"


def test_a_source_s_tuf_root_is_a_path_with_the_home_expanded() -> None:
    settings = parse_sources(
        {"primary": {"url": "http://a/x/y/+simple/", "tuf_root": "~/acme-root.json"}}, environ=ENV
    )

    assert settings.primary.tuf_root == Path.home() / "acme-root.json"
    assert settings.community.tuf_root is None


def test_an_unknown_source_name_lists_the_configured_ones() -> None:
    settings = parse_sources({"enterprise": {"acme": {"url": "http://a/simple/"}}}, environ=ENV)

    with pytest.raises(SourcesConfigError, match=r"^sources\.enterprise\.zeta: no such source"):
        settings.source("enterprise.zeta")


def test_values_from_layers_are_read_and_errors_say_where_they_came_from(tmp_path: Path) -> None:
    config_file = tmp_path / "extensions.toml"
    config_file.write_text('[sources]\ntimeout = "x"\n\n[sources.primary]\nurl = "http://a/s/"\n')
    config = load_config(config_file, environ={"ANYA_SOURCES__TIMEOUT": "4"})

    assert load_sources(config, environ=ENV).timeout == 4
    assert load_sources(config, environ=ENV).primary.url == "http://a/s/"
    broken = load_config(config_file, environ={})
    with pytest.raises(SourcesConfigError, match=r"\(from file .*extensions\.toml:2\)"):
        load_sources(broken, environ=ENV)
