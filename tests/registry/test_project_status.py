"""The registry speaks PEP 792 (project status) and PEP 708 (alternate-locations, tracks) on
its simple pages, and the client acts on them: a quarantined project is refused at install.

Two scratch indexes: ``community/status-public`` and, with it as a base,
``community/status-private`` (private). The private index marks one project quarantined
and one archived in its ``anya_project_status`` configuration.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from anya_plugins.registry.errors import DevpiError
from anya_plugins.sources.simple import SIMPLE_HTML, parse_project_page
from tests.registry_fixtures import Registry, Upload, metadata_wheel
from tests.support import ExtensionBuilder, ExtensionSpec, VenvFactory

pytestmark = pytest.mark.slow

PUBLIC, PRIVATE = "community/status-public", "community/status-private"
STATUSES = [
    "anya-ext-quarantined quarantined malware reported",
    "status-archived archived",
    "anya-ext-retired archived moved to anya-ext-successor",
]


@pytest.fixture(scope="module")
def indexes(
    registry: Registry,
    upload: Upload,
    tmp_path_factory: pytest.TempPathFactory,
    build_extension: ExtensionBuilder,
) -> Registry:
    admin = registry.client(registry.admin.user)
    common: dict[str, Any] = {"type": "anya", "acl_upload": ["community"], "anya_extensions": False}
    if admin.index(PUBLIC) is None:
        admin.create_index(PUBLIC, {**common, "bases": []})
        admin.create_index(PRIVATE, {**common, "bases": [PUBLIC], "anya_private": True})
    wheels = tmp_path_factory.mktemp("status-wheels")
    for index, name, version in (
        (PUBLIC, "status-shared", "9.0"),
        (PUBLIC, "status-public-only", "1.0"),
        (PRIVATE, "status-shared", "0.1"),
        (PRIVATE, "anya-ext-quarantined", "1.0"),
        (PRIVATE, "status-archived", "1.0"),
    ):
        wheel = metadata_wheel(wheels, name, version=version)
        done = upload(index, wheel, user="community")
        assert done.returncode == 0, done.stdout + done.stderr
    retired = build_extension(ExtensionSpec("retired", category="community/verified"))
    done = upload(PRIVATE, retired, user="community")
    assert done.returncode == 0, done.stdout + done.stderr
    admin.modify_index(PRIVATE, {"anya_project_status": STATUSES})
    return registry


def _page(registry: Registry, index: str, project: str) -> dict[str, Any]:
    return registry.client().simple_project(index, project)


def _url(registry: Registry, index: str, project: str) -> str:
    return f"{registry.url}/{index}/+simple/{project}/"


def test_a_private_name_declares_only_the_private_index(indexes: Registry) -> None:
    page = _page(indexes, PRIVATE, "status-shared")

    assert page["alternate-locations"] == [_url(indexes, PRIVATE, "status-shared")]
    assert [entry["filename"] for entry in page["files"]] == ["status_shared-0.1-py3-none-any.whl"]
    assert page["meta"]["api-version"] == "1.4"
    assert "project-status" not in page and "tracks" not in page


def test_a_name_served_from_a_base_declares_that_base(indexes: Registry) -> None:
    page = _page(indexes, PRIVATE, "status-public-only")

    assert _url(indexes, PUBLIC, "status-public-only") in page["alternate-locations"]


def test_a_quarantined_project_is_marked_and_offers_no_files(indexes: Registry) -> None:
    page = _page(indexes, PRIVATE, "anya-ext-quarantined")

    assert page["project-status"] == {"status": "quarantined", "reason": "malware reported"}
    assert page["files"] == []


def test_an_archived_project_is_marked_and_still_offers_its_files(indexes: Registry) -> None:
    page = _page(indexes, PRIVATE, "status-archived")

    assert page["project-status"] == {"status": "archived"}
    assert len(page["files"]) == 1


def test_the_html_page_carries_the_same_markers(indexes: Registry) -> None:
    url = _url(indexes, PRIVATE, "anya-ext-quarantined")
    request = urllib.request.Request(url, headers={"Accept": "text/html"})
    with urllib.request.urlopen(request, timeout=30) as response:
        body, content_type = response.read(), response.headers["Content-Type"]

    page = parse_project_page("anya-ext-quarantined", body, content_type, url)

    assert content_type.startswith("text/html") or content_type.startswith(SIMPLE_HTML)
    assert (page.status, page.markers.status_reason) == ("quarantined", "malware reported")
    assert page.alternate_locations == (url,)
    assert page.files == ()


def test_a_page_asked_for_only_as_pep_691_html_carries_them_too(indexes: Registry) -> None:
    url = _url(indexes, PRIVATE, "anya-ext-quarantined")
    request = urllib.request.Request(url, headers={"Accept": SIMPLE_HTML})
    with urllib.request.urlopen(request, timeout=30) as response:
        body, content_type = response.read(), response.headers["Content-Type"]

    page = parse_project_page("anya-ext-quarantined", body, content_type, url)

    assert content_type.startswith("text/html")  # devpi 6.20 alone says "text_html"
    assert (page.status, page.files) == ("quarantined", ())


def test_an_archived_project_takes_no_uploads(
    indexes: Registry, upload: Upload, tmp_path: Path
) -> None:
    done = upload(
        PRIVATE, metadata_wheel(tmp_path, "status-archived", version="2.0"), user="community"
    )

    assert done.returncode != 0
    assert "archived" in done.stdout + done.stderr
    versions = indexes.client().project(PRIVATE, "status-archived")
    assert set(versions) == {"1.0"}


def test_a_status_pep_792_does_not_know_is_refused(indexes: Registry) -> None:
    admin = indexes.client(indexes.admin.user)

    with pytest.raises(DevpiError) as raised:
        admin.modify_index(PUBLIC, {"anya_project_status": ["status-public-only abandoned"]})

    assert raised.value.status == 400


def test_install_refuses_a_quarantined_project(indexes: Registry, tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ANYA_")},
        "ANYA_CONFIG": str(tmp_path / "extensions.toml"),
        "ANYA_DATA_DIR": str(tmp_path / "data"),
        "ANYA_CACHE_DIR": str(tmp_path / "cache"),
        "ANYA_SOURCES__PRIMARY__URL": f"{indexes.url}/{PRIVATE}/+simple/",
    }

    done = subprocess.run(
        [str(Path(sys.executable).parent / "anya-ext"), "install", "--dry-run", "quarantined"],
        capture_output=True, text=True, env=env, check=False, timeout=120,
    )  # fmt: skip

    assert done.returncode != 0
    assert "anya-ext-quarantined is quarantined by its index" in done.stderr, done.stderr
    assert "malware reported" in done.stderr


def test_install_warns_about_an_archived_project_and_installs_it(
    indexes: Registry, make_venv: VenvFactory, tmp_path: Path
) -> None:
    venv = make_venv()
    venv.extra_env.update(
        ANYA_SOURCES__PRIMARY__URL=f"{indexes.url}/{PRIVATE}/+simple/",
        ANYA_CACHE_DIR=str(tmp_path / "cache"),
        ANYA_TRUST__REQUIRE_SIGNATURES="false",
    )

    result = venv.anya_json("install", "--dry-run", "retired")

    assert [change["name"] for change in result["changes"]] == ["anya-ext-retired"]
    assert (
        "anya-ext-retired is archived on its index: moved to anya-ext-successor" in result["notes"]
    )


def _file_url(registry: Registry, index: str, project: str, version: str) -> str:
    links = registry.client().release(index, project, version)["+links"]
    return str(next(link["href"] for link in links if link["rel"] == "releasefile"))


def test_a_quarantined_projects_file_is_refused_when_asked_for_by_its_url(
    indexes: Registry,
) -> None:
    url = _file_url(indexes, PRIVATE, "anya-ext-quarantined", "1.0")

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=30)

    assert refused.value.code == 403
    assert json.loads(refused.value.read())["message"] == (
        "anya-ext-quarantined is quarantined on community/status-private: malware reported; "
        "its files are not served (PEP 792)"
    )


def test_an_archived_projects_file_is_still_served_by_its_url(indexes: Registry) -> None:
    url = _file_url(indexes, PRIVATE, "status-archived", "1.0")

    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200
        assert response.read()[:2] == b"PK"


def test_pip_cannot_download_a_quarantined_projects_file_by_its_url(
    indexes: Registry, tmp_path: Path
) -> None:
    url = _file_url(indexes, PRIVATE, "anya-ext-quarantined", "1.0")

    done = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--no-cache-dir",
         "--disable-pip-version-check", "--dest", str(tmp_path), url],
        capture_output=True, text=True, check=False, timeout=120,
        env={**os.environ, "PIP_CONFIG_FILE": os.devnull},
    )  # fmt: skip

    assert done.returncode != 0
    assert "403" in done.stdout + done.stderr
    assert list(tmp_path.iterdir()) == []
