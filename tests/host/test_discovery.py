"""Discovery reads metadata only, is cached per environment, and the cache follows installs."""

from __future__ import annotations

import json
import os
import textwrap
import time
from pathlib import Path

import pytest

from tests.support import ExtensionBuilder, ExtensionSpec, Venv, VenvFactory

pytestmark = pytest.mark.slow

RAISES_ON_IMPORT = 'raise RuntimeError("imported!")\n'

DISCOVER = textwrap.dedent(
    """
    import json, sys
    from anya_plugins import Host
    host = Host()
    print(json.dumps({
        "names": sorted(e.name for e in host.extensions),
        "statuses": {e.name: e.status for e in host.extensions},
        "cache_hit": host.cache_hit,
        "imported": sorted(m for m in sys.modules if m.startswith("anya_ext_")),
        "heavy": sorted(m for m in ("pluggy", "packaging", "importlib.metadata", "tomllib")
                        if m in sys.modules),
    }))
    """
)


def _discover(venv: Venv, **env: str) -> dict[str, object]:
    done = venv.python_code(DISCOVER, **env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def _age(directory: Path, seconds: int = 3600) -> None:
    """Move a directory's mtime into the past, past the cache's racy window."""
    past = time.time() - seconds
    os.utime(directory, (past, past))


@pytest.fixture
def venv(build_extension: ExtensionBuilder, make_venv: VenvFactory) -> Venv:
    booby_trap = build_extension(ExtensionSpec("trap", plugin_source=RAISES_ON_IMPORT))
    return make_venv(booby_trap)


def test_discovery_imports_no_extension_code(venv: Venv) -> None:
    result = _discover(venv)
    assert result["names"] == ["trap"]
    assert result["statuses"] == {"trap": "enabled"}
    assert result["imported"] == []


def test_warm_cache_is_hit_and_imports_nothing_heavy(venv: Venv) -> None:
    _age(venv.site_packages)
    first = _discover(venv)
    second = _discover(venv)
    assert first["cache_hit"] is False
    assert second["cache_hit"] is True
    assert second["names"] == ["trap"]
    assert second["heavy"] == []


def test_cache_written_right_after_an_install_is_not_trusted(venv: Venv) -> None:
    # "just installed": changed no earlier than the scan starts, however slowly the first
    # discovery's process starts on a busy machine (now + a minute; "now" raced process start-up)
    changed = time.time() + 60
    os.utime(venv.site_packages, (changed, changed))
    _discover(venv)
    assert _discover(venv)["cache_hit"] is False


def test_installing_an_extension_invalidates_the_cache(
    venv: Venv, build_extension: ExtensionBuilder
) -> None:
    _age(venv.site_packages)
    _discover(venv)
    assert _discover(venv)["cache_hit"] is True
    venv.install(build_extension(ExtensionSpec("newcomer")))
    after = _discover(venv)
    assert after["cache_hit"] is False
    assert after["names"] == ["newcomer", "trap"]


def test_removing_an_extension_invalidates_the_cache(venv: Venv) -> None:
    _age(venv.site_packages)
    _discover(venv)
    assert _discover(venv)["cache_hit"] is True
    venv.uninstall("anya-ext-trap")
    after = _discover(venv)
    assert after["cache_hit"] is False
    assert after["names"] == []


def test_disabling_takes_effect_with_a_warm_cache(venv: Venv) -> None:
    _age(venv.site_packages)
    _discover(venv)
    assert venv.anya_ext("disable", "trap").returncode == 0
    result = _discover(venv)
    assert result["cache_hit"] is True
    assert result["statuses"] == {"trap": "disabled"}


def test_cache_can_be_switched_off(venv: Venv) -> None:
    _age(venv.site_packages)
    _discover(venv)
    assert _discover(venv, ANYA_NO_DISCOVERY_CACHE="1")["cache_hit"] is False


def test_activation_imports_only_the_extension_asked_for(
    build_extension: ExtensionBuilder, make_venv: VenvFactory
) -> None:
    venv = make_venv(
        build_extension(ExtensionSpec("alpha")), build_extension(ExtensionSpec("beta"))
    )
    done = venv.python_code(
        textwrap.dedent(
            """
            import json, sys
            from anya_plugins import Host
            host = Host()
            host.activate("alpha")
            print(json.dumps({
                "imported": sorted(m for m in sys.modules if m.startswith("anya_ext_")),
                "statuses": {e.name: e.status for e in host.extensions},
            }))
            """
        )
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["imported"] == ["anya_ext_alpha", "anya_ext_alpha.plugin"]
    assert result["statuses"] == {"alpha": "active", "beta": "enabled"}
