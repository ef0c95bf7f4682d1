"""Yanked releases (PEP 592) at install: skipped unless pinned exactly, then installed with a
warning in the summary. The registry marks them (``anya_plugins.registry.plugin_releases``);
the resolver (uv or pip) reads the mark from the checked pages the installer serves it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from anya_plugins.registry.devpi import Credentials
from anya_plugins.registry.releases import unyank, yank
from tests.registry_fixtures import PASSWORDS, Registry, Upload
from tests.support import (
    ExtensionBuilder,
    ExtensionSpec,
    Venv,
    VenvFactory,
    installing_unsigned_from,
)

pytestmark = pytest.mark.slow

INDEX = "community/experimental"
ACME = Credentials("acme", PASSWORDS["acme"])
BOTH_TOOLS = pytest.mark.parametrize("venv", ["uv", "pip"], indirect=True)


@pytest.fixture(scope="module")
def published(registry: Registry, upload: Upload, build_extension: ExtensionBuilder) -> Registry:
    """``anya-ext-yankee`` 1.0.0 and 2.0.0, with 2.0.0 yanked."""
    for version in ("1.0.0", "2.0.0"):
        wheel = build_extension(ExtensionSpec("yankee", category=INDEX, version=version))
        done = upload(INDEX, wheel, user="acme")
        assert done.returncode == 0, done.stdout + done.stderr
    yank(registry.url, INDEX, "anya-ext-yankee", "2.0.0", ACME, reason="corrupts the wallet db")
    return registry


@pytest.fixture
def venv(
    request: pytest.FixtureRequest, published: Registry, make_venv: VenvFactory, tmp_path: Path
) -> Venv:
    venv = installing_unsigned_from(
        make_venv(), published, tmp_path / "cache",
        ANYA_INSTALL__TOOL=getattr(request, "param", "uv"),
    )  # fmt: skip
    venv.extra_env["ANYA_SOURCES__PRIMARY__URL"] = f"{published.url}/{INDEX}/+simple/"
    return venv


@BOTH_TOOLS
def test_a_yanked_release_is_not_chosen_for_a_range(venv: Venv) -> None:
    done = venv.anya_ext("install", "yankee")

    assert done.returncode == 0, done.stderr
    assert venv.freeze().get("anya-ext-yankee") == "1.0.0"
    assert "yanked" not in done.stdout + done.stderr


@BOTH_TOOLS
def test_a_yanked_release_pinned_exactly_is_installed_with_a_warning(venv: Venv) -> None:
    done = venv.anya_ext("install", "yankee@2.0.0")

    assert done.returncode == 0, done.stderr
    assert venv.freeze().get("anya-ext-yankee") == "2.0.0"
    output = " ".join((done.stdout + done.stderr).split())
    assert "warning: anya-ext-yankee 2.0.0 is yanked on primary: corrupts the wallet db" in output


def test_an_unyanked_release_is_chosen_again(published: Registry, venv: Venv) -> None:
    unyank(published.url, INDEX, "anya-ext-yankee", "2.0.0", ACME)
    try:
        done = venv.anya_ext("install", "yankee")
    finally:
        yank(
            published.url, INDEX, "anya-ext-yankee", "2.0.0", ACME, reason="corrupts the wallet db"
        )

    assert done.returncode == 0, done.stderr
    assert venv.freeze().get("anya-ext-yankee") == "2.0.0"
    assert "yanked" not in done.stdout + done.stderr
