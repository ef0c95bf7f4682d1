"""Deprecation has two scopes, each with one home: a release (``anya-ext deprecate NAME==VER``,
a version attribute marked on the files of every page that lists them) and a project
(``anya-ext deprecate NAME``: its PEP 792 status, kept with ``archived`` and ``quarantined`` in
the index's ``anya_project_status``). Pages, search and ``info`` show both the same way.

All project names here contain "obsoleta", which no other test module uses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from anya_plugins.registry.devpi import Credentials
from anya_plugins.registry.releases import (
    DEPRECATED_KEY,
    ReleaseChangeRefused,
    deprecate,
    set_project_status,
)
from anya_plugins.sources.simple import SIMPLE_HTML, SIMPLE_JSON, parse_project_page
from tests.registry_fixtures import PASSWORDS, Registry, Upload, metadata_wheel

pytestmark = pytest.mark.slow

INDEX = "community/experimental"
PROJECT = "anya-ext-obsoleta"
OLD_WHEEL = "anya_ext_obsoleta-1.0-py3-none-any.whl"
NEW_WHEEL = "anya_ext_obsoleta-2.0-py3-none-any.whl"
ACME = Credentials("acme", PASSWORDS["acme"])


@pytest.fixture(scope="module")
def published(
    registry: Registry, upload: Upload, tmp_path_factory: pytest.TempPathFactory
) -> Registry:
    """``anya-ext-obsoleta`` 1.0 and 2.0 on community/experimental, uploaded by acme."""
    wheels = tmp_path_factory.mktemp("obsoleta")
    files = [
        metadata_wheel(wheels, PROJECT, version=v, summary=f"Obsoleta {v}") for v in ("1.0", "2.0")
    ]
    done = upload(INDEX, *files, user="acme")
    assert done.returncode == 0, done.stdout + done.stderr
    return registry


@pytest.fixture
def old_release_deprecated(published: Registry) -> Iterator[None]:
    deprecate(published.url, INDEX, PROJECT, ACME, message="1.0 loses data", version="1.0")
    yield
    deprecate(published.url, INDEX, PROJECT, ACME, message=None, version="1.0")


@pytest.fixture
def project_deprecated(published: Registry) -> Iterator[None]:
    deprecate(published.url, INDEX, PROJECT, ACME, message="use anya-ext-novella")
    yield
    deprecate(published.url, INDEX, PROJECT, ACME, message=None)


def _page(registry: Registry, accept: str) -> Any:
    url = f"{registry.url}/{INDEX}/+simple/{PROJECT}/"
    request = urllib.request.Request(url, headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=30) as response:
        body, content_type = response.read(), response.headers["Content-Type"]
    return parse_project_page(PROJECT, body, content_type, url)


def _statuses(registry: Registry) -> list[str]:
    config = registry.client().index(INDEX)
    assert config is not None
    return [e for e in config.get("anya_project_status", []) if e.startswith(f"{PROJECT} ")]


@pytest.mark.parametrize("accept", [SIMPLE_JSON, SIMPLE_HTML])
def test_a_deprecated_release_is_marked_on_its_files_in_both_page_formats(
    published: Registry, old_release_deprecated: None, accept: str
) -> None:
    page = _page(published, accept)

    assert {link.filename: link.deprecated for link in page.files} == {
        OLD_WHEEL: "1.0 loses data",
        NEW_WHEEL: None,
    }
    assert page.status == "active"


def test_a_deprecated_release_is_an_attribute_of_that_version_only(
    published: Registry, old_release_deprecated: None
) -> None:
    client = published.client()

    assert client.release(INDEX, PROJECT, "1.0")[DEPRECATED_KEY] == "1.0 loses data"
    assert DEPRECATED_KEY not in client.release(INDEX, PROJECT, "2.0")
    assert _statuses(published) == []


@pytest.mark.parametrize("accept", [SIMPLE_JSON, SIMPLE_HTML])
def test_a_deprecated_project_is_its_pep_792_status(
    published: Registry, project_deprecated: None, accept: str
) -> None:
    page = _page(published, accept)

    assert (page.status, page.markers.status_reason) == ("deprecated", "use anya-ext-novella")
    assert len(page.files) == 2
    assert {link.deprecated for link in page.files} == {None}


def test_the_project_status_is_kept_in_one_place_and_undo_makes_it_active(
    published: Registry,
) -> None:
    deprecate(published.url, INDEX, PROJECT, ACME, message="use anya-ext-novella")
    assert _statuses(published) == [f"{PROJECT} deprecated use anya-ext-novella"]
    assert DEPRECATED_KEY not in published.client().release(INDEX, PROJECT, "2.0")

    deprecate(published.url, INDEX, PROJECT, ACME, message=None)

    assert _statuses(published) == []
    assert _page(published, SIMPLE_JSON).status == "active"


def test_search_shows_the_project_status_and_the_shown_releases_deprecation(
    published: Registry, project_deprecated: None
) -> None:
    deprecate(published.url, INDEX, PROJECT, ACME, message="2.0 is slow", version="2.0")
    try:
        (hit,) = published.client().search(INDEX, "obsoleta")
    finally:
        deprecate(published.url, INDEX, PROJECT, ACME, message=None, version="2.0")

    assert (hit["version"], hit["deprecated"]) == ("2.0", "2.0 is slow")
    assert (hit["status"], hit["status_reason"]) == ("deprecated", "use anya-ext-novella")


def test_an_uploader_cannot_quarantine_a_project(published: Registry) -> None:
    with pytest.raises(ReleaseChangeRefused) as refused:
        set_project_status(published.url, INDEX, PROJECT, "quarantined", ACME, reason="rival")

    assert "HTTP 403" in refused.value.message
    assert _statuses(published) == []


def test_an_administrator_quarantines_then_releases_a_project(published: Registry) -> None:
    admin = published.admin
    set_project_status(published.url, INDEX, PROJECT, "quarantined", admin, reason="malware")
    try:
        page = _page(published, SIMPLE_JSON)
        found = published.client().search(INDEX, "obsoleta")
        with pytest.raises(ReleaseChangeRefused) as refused:
            deprecate(published.url, INDEX, PROJECT, ACME, message="lifting it by the back door")
    finally:
        set_project_status(published.url, INDEX, PROJECT, "active", admin)

    assert (page.status, page.files) == ("quarantined", ())
    assert found == []
    assert "HTTP 403" in refused.value.message
    assert len(_page(published, SIMPLE_JSON).files) == 2


def _anya_ext(registry: Registry, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "anya_plugins.cli.main", *args],
        capture_output=True, text=True, check=False, timeout=120,
        env={**os.environ, "HOME": str(tmp_path), "ANYA_CACHE_DIR": str(tmp_path / "cache"),
             "ANYA_PUBLISH_PASSWORD": PASSWORDS["acme"],
             "ANYA_SOURCES__PRIMARY__URL": f"{registry.url}/{INDEX}/+simple/"},
    )  # fmt: skip


def test_info_shows_the_project_status_and_the_deprecated_releases(
    published: Registry, project_deprecated: None, old_release_deprecated: None, tmp_path: Path
) -> None:
    done = _anya_ext(published, tmp_path, "--json", "info", "--remote", PROJECT)

    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    assert (info["status"], info["status_reason"]) == ("deprecated", "use anya-ext-novella")
    assert info["deprecated"] == {"1.0": "1.0 loses data"}


def test_the_cli_deprecates_a_release_or_the_project_by_its_argument(
    published: Registry, tmp_path: Path
) -> None:
    options = ("--url", published.url, "--index", INDEX, "--user", "acme")
    release = _anya_ext(
        published, tmp_path, "deprecate", f"{PROJECT}==1.0", "--message", "old", *options
    )
    project = _anya_ext(published, tmp_path, "deprecate", PROJECT, "--message", "gone", *options)
    try:
        page = _page(published, SIMPLE_JSON)
    finally:
        deprecate(published.url, INDEX, PROJECT, ACME, message=None, version="1.0")
        deprecate(published.url, INDEX, PROJECT, ACME, message=None)

    assert release.returncode == 0, release.stderr
    assert f"{PROJECT}==1.0 deprecated on {INDEX}: old" in release.stdout
    assert project.returncode == 0, project.stderr
    assert f"{PROJECT} deprecated on {INDEX}: gone" in project.stdout
    assert (page.status, page.markers.status_reason) == ("deprecated", "gone")
    assert {link.filename: link.deprecated for link in page.files} == {
        OLD_WHEEL: "old",
        NEW_WHEEL: None,
    }
