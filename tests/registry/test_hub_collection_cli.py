"""``anya-ext collection install NAME``: one verified transaction, all or nothing, into a real
venv (the collections and extensions of tests/registry/test_hub_collections.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from anya_plugins.trust.errors import MissingSignature
from tests.registry.hub_support import HUB_INDEX, HubIndex
from tests.registry.test_hub_collections import (  # noqa: F401  (hub: the fixture)
    SIGNED,
    UNSIGNED,
    curator,
    hub,
)
from tests.registry_fixtures import Registry
from tests.support import Venv, VenvFactory

pytestmark = pytest.mark.slow

MEMBERS = {f"anya-ext-{name}" for name in (*SIGNED, UNSIGNED)}


@pytest.fixture
def venv(
    hub: HubIndex,  # noqa: F811
    registry: Registry, make_venv: VenvFactory, tmp_path: Path,
) -> Venv:  # fmt: skip
    """Installing from the hub index, every file signed by the registry's publisher."""
    venv = make_venv()
    venv.extra_env.update(
        ANYA_SOURCES__PRIMARY__URL=f"{registry.url}/{HUB_INDEX}/+simple/",
        ANYA_CACHE_DIR=str(tmp_path / "cache"),
        ANYA_TRUST__REQUIRE_SIGNATURES="true",
        **registry.trust_env(),
    )
    return venv


def collection_install(venv: Venv, index: HubIndex, name: str) -> tuple[int, str]:
    done = venv.anya_ext(
        "collection", "install", name, "--url", index.registry.url, "--index", HUB_INDEX
    )
    return done.returncode, done.stdout + done.stderr


def test_one_member_failing_verification_installs_nothing(
    hub: HubIndex,  # noqa: F811
    venv: Venv,
) -> None:  # fmt: skip
    curator(hub).publish_collection(
        "koala-cli-mixed", title="One unsigned", members=[*SIGNED, UNSIGNED]
    )

    code, output = collection_install(venv, hub, "koala-cli-mixed")

    assert code == MissingSignature.exit_code, output
    assert "anya_ext_koala_stray-1.0.0" in output and "has no signature" in output
    assert not MEMBERS & set(venv.freeze())


def test_a_collection_whose_members_all_verify_is_installed_whole(
    hub: HubIndex,  # noqa: F811
    venv: Venv,
) -> None:  # fmt: skip
    curator(hub).publish_collection("koala-cli-signed", title="All signed", members=list(SIGNED))

    code, output = collection_install(venv, hub, "koala-cli-signed")

    assert code == 0, output
    assert "installed collection koala-cli-signed v1: 2 distribution(s)" in output
    installed = venv.freeze()
    assert {f"anya-ext-{name}" for name in SIGNED} <= set(installed)
    assert f"anya-ext-{UNSIGNED}" not in installed
