"""A resolution remembered (install/resolution_memo.py): used again while every page it was
made from reads the same, made again as soon as one changes, ignored unless signed with this
user's key. Real devpi, real uv, signatures really verified."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anya_plugins.registry.releases import delete
from anya_sigstore_local import LocalSigstore
from tests.install.test_signed_install import RELEASER, _publish
from tests.registry_fixtures import Registry
from tests.support import (
    ExtensionBuilder,
    ExtensionSpec,
    Venv,
    VenvFactory,
    installing_signed_from,
)

pytestmark = pytest.mark.slow

INDEX = "anya/primary"
KEPT = "resolution as kept"
RESOLVER_RAN = "info: resolver: "


@pytest.fixture(scope="module")
def published(
    registry: Registry, local_sigstore: LocalSigstore, build_extension: ExtensionBuilder
) -> Registry:
    """memo-app 0.1.0, which needs memo-lib >= 1: 1.0.0 is there."""
    lib = build_extension(ExtensionSpec("memo-lib", category="core/web5", version="1.0.0"))
    _publish(registry, local_sigstore, lib, RELEASER)
    app = ExtensionSpec("memo-app", category="core/web5", dependencies=("anya-ext-memo-lib>=1",))
    _publish(registry, local_sigstore, build_extension(app), RELEASER)
    return registry


@pytest.fixture
def venv(
    published: Registry, local_sigstore: LocalSigstore, make_venv: VenvFactory, tmp_path: Path
) -> Venv:
    index_url = published.simple_url(INDEX)
    return installing_signed_from(
        make_venv(), local_sigstore, RELEASER, index_url, tmp_path / "cache"
    )


def _install_afresh(venv: Venv) -> str:
    """``-v install memo-app`` into the venv as it was before any install (what a plan is
    kept for); its stderr."""
    venv.uninstall("anya-ext-memo-app", "anya-ext-memo-lib")
    done = venv.anya_ext("-v", "install", "memo-app")
    assert done.returncode == 0, done.stderr
    return done.stderr


def _installed(venv: Venv) -> dict[str, str]:
    done = venv.python_code(
        "import json, importlib.metadata as m;"
        "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))"
    )
    found: dict[str, str] = json.loads(done.stdout)
    return {name: version for name, version in found.items() if "memo" in name}


def test_a_kept_plan_is_used_while_its_pages_are_unchanged_and_made_again_after_a_release(
    venv: Venv, registry: Registry, local_sigstore: LocalSigstore, build_extension: ExtensionBuilder
) -> None:
    _install_afresh(venv)

    again = _install_afresh(venv)

    # the pages of memo-app, memo-lib, and of what the venv's own packages need (absent)
    assert f"{KEPT}: the " in again
    assert RESOLVER_RAN not in again
    assert _installed(venv) == {"anya-ext-memo-app": "0.1.0", "anya-ext-memo-lib": "1.0.0"}
    assert venv.anya_json("verify", "memo-app")[0]["ok"] is True

    newer = build_extension(ExtensionSpec("memo-lib", category="core/web5", version="1.1.0"))
    _publish(registry, local_sigstore, newer, RELEASER)  # memo-lib's page changes

    after_release = _install_afresh(venv)

    assert "resolving again: 1 page(s) changed (anya-ext-memo-lib)" in after_release
    assert RESOLVER_RAN in after_release
    assert _installed(venv) == {"anya-ext-memo-app": "0.1.0", "anya-ext-memo-lib": "1.1.0"}
    assert KEPT in _install_afresh(venv)  # and the new plan is kept in its turn


def test_a_plan_kept_under_another_users_key_is_not_used(venv: Venv) -> None:
    """A download cache restored from elsewhere cannot choose the versions of an install."""
    _install_afresh(venv)
    assert KEPT in _install_afresh(venv)

    (venv.home / "data" / "verdict-key").write_text("00" * 32)
    elsewhere = _install_afresh(venv)

    assert KEPT not in elsewhere
    assert RESOLVER_RAN in elsewhere
    assert "not signed with this user's key" in elsewhere


def test_a_kept_plan_whose_release_was_deleted_is_made_again(
    registry: Registry,
    local_sigstore: LocalSigstore,
    build_extension: ExtensionBuilder,
    make_venv: VenvFactory,
    tmp_path: Path,
) -> None:
    """The kept plan's files are fetched before its pages are compared: a pinned release
    gone from its page fails that fetch, and the install resolves again instead of failing."""
    index = "anya/memo-deleted"
    admin = registry.client(registry.admin.user)
    admin.create_index(
        index, {"type": "stage", "bases": [], "volatile": True, "acl_upload": ["anya"]}
    )
    lib = ExtensionSpec("memo-gone-lib", category="core/web5", version="1.0.0")
    _publish(registry, local_sigstore, build_extension(lib), RELEASER, index)
    app = ExtensionSpec(
        "memo-gone-app", category="core/web5", dependencies=("anya-ext-memo-gone-lib>=1",)
    )
    _publish(registry, local_sigstore, build_extension(app), RELEASER, index)
    venv = installing_signed_from(
        make_venv(), local_sigstore, RELEASER, registry.simple_url(index), tmp_path / "c"
    )

    def install_afresh() -> str:
        venv.uninstall("anya-ext-memo-gone-app", "anya-ext-memo-gone-lib")
        done = venv.anya_ext("-v", "install", "memo-gone-app")
        assert done.returncode == 0, done.stderr
        return done.stderr

    install_afresh()
    assert KEPT in install_afresh()
    newer = build_extension(ExtensionSpec("memo-gone-lib", category="core/web5", version="1.1.0"))
    _publish(registry, local_sigstore, newer, RELEASER, index)
    delete(registry.url, index, "anya-ext-memo-gone-lib", "1.0.0", registry.credentials("anya"))

    after_delete = install_afresh()

    assert "resolving again: 1 page(s) changed (anya-ext-memo-gone-lib)" in after_delete
    assert RESOLVER_RAN in after_delete
    versions = venv.python_code(
        "import importlib.metadata as m; print(m.version('anya-ext-memo-gone-lib'))"
    )
    assert versions.stdout.strip() == "1.1.0"
