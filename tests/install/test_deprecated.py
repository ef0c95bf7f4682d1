"""Deprecation at install: a deprecated release (``anya-ext deprecate NAME==VERSION``) and a
deprecated project (``anya-ext deprecate NAME``, its PEP 792 status) install as before, and
the summary says so with the publisher's message. The registry marks them on its pages
(``plugin_releases``, ``plugin_project_status``); the installer reads the checked pages.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from anya_plugins.registry.devpi import Credentials
from anya_plugins.registry.releases import deprecate
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
NAME = "anya-ext-obsoletum"
ACME = Credentials("acme", PASSWORDS["acme"])


@pytest.fixture(scope="module")
def published(registry: Registry, upload: Upload, build_extension: ExtensionBuilder) -> Registry:
    """``anya-ext-obsoletum`` 1.0.0 on community/experimental."""
    wheel = build_extension(ExtensionSpec("obsoletum", category=INDEX, version="1.0.0"))
    done = upload(INDEX, wheel, user="acme")
    assert done.returncode == 0, done.stdout + done.stderr
    return registry


@pytest.fixture
def venv(published: Registry, make_venv: VenvFactory, tmp_path: Path) -> Venv:
    venv = installing_unsigned_from(make_venv(), published, tmp_path / "cache")
    venv.extra_env["ANYA_SOURCES__PRIMARY__URL"] = f"{published.url}/{INDEX}/+simple/"
    return venv


@pytest.fixture
def deprecated(published: Registry) -> Iterator[None]:
    deprecate(published.url, INDEX, NAME, ACME, message="loses data", version="1.0.0")
    deprecate(published.url, INDEX, NAME, ACME, message="use anya-ext-novum")
    yield
    deprecate(published.url, INDEX, NAME, ACME, message=None, version="1.0.0")
    deprecate(published.url, INDEX, NAME, ACME, message=None)


def test_a_deprecated_release_of_a_deprecated_project_installs_with_both_notes(
    venv: Venv, deprecated: None
) -> None:
    result = venv.anya_json("install", "obsoletum")

    assert [change["name"] for change in result["changes"]] == [NAME]
    assert venv.freeze().get(NAME) == "1.0.0"
    assert f"{NAME} 1.0.0 is deprecated on primary: loses data" in result["notes"]
    assert f"{NAME} is deprecated on its index: use anya-ext-novum" in result["notes"]


def test_without_deprecation_the_summary_has_no_such_note(venv: Venv) -> None:
    result = venv.anya_json("install", "obsoletum")

    assert venv.freeze().get(NAME) == "1.0.0"
    assert not [note for note in result["notes"] if "deprecated" in note]
