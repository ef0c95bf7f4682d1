"""A configuration schema is checked against the metaschema once, then remembered by its
digest in the cache directory, so later processes validate sections without checking it."""

from __future__ import annotations

from pathlib import Path

from anya_plugins import Host
from anya_plugins.config.schema import schema_digest
from anya_plugins.host import cache
from anya_plugins.host.record import ACTIVE, FAILED
from tests.host.conftest import Install

SCHEMA = {"type": "object", "properties": {"port": {"type": "integer", "default": 8332}}}


def _with_schema(schema: object) -> str:
    return (
        "from anya_plugins import hookimpl\n\n"
        f"@hookimpl\ndef anya_config_schema():\n    return {schema!r}\n"
    )


def _activated(site: Path, cache_dir: Path) -> Host:
    host = Host(path=[str(site)], cache_dir=str(cache_dir))
    host.activate_all()
    return host


def test_a_valid_schema_is_remembered_in_the_cache_directory(
    site: Path, install: Install, tmp_path: Path
) -> None:
    install("wallet", _with_schema(SCHEMA))
    host = _activated(site, tmp_path / "cache")

    assert host.get("wallet").status == ACTIVE
    stored = cache.load_digests(cache.digests_file(str(tmp_path / "cache")))
    assert schema_digest(SCHEMA) in stored
    assert len(stored) == 2, "the schema, and that its defaults pass it"


def test_digests_stored_by_another_process_are_kept(
    site: Path, install: Install, tmp_path: Path
) -> None:
    file = cache.digests_file(str(tmp_path / "cache"))
    cache.store_digests(file, {"0" * 64})
    install("wallet", _with_schema(SCHEMA))
    _activated(site, tmp_path / "cache")

    assert {"0" * 64, schema_digest(SCHEMA)} <= cache.load_digests(file)


def test_an_invalid_schema_fails_its_extension_and_is_not_remembered(
    site: Path, install: Install, tmp_path: Path
) -> None:
    install("broken", _with_schema({"type": 5}))
    install("wallet", _with_schema(SCHEMA))
    host = _activated(site, tmp_path / "cache")

    assert host.get("broken").status == FAILED
    assert "itself invalid" in host.get("broken").error
    assert host.get("wallet").status == ACTIVE
    stored = cache.load_digests(cache.digests_file(str(tmp_path / "cache")))
    assert schema_digest({"type": 5}) not in stored
    assert len(stored) == 2
