"""Releases over time: yank (PEP 592) and un-yank, deprecate, delete, on the running registry.
(Deprecation's two scopes in detail: test_deprecation.py.)

All project names here contain "tempus", which no other test module uses.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from anya_plugins.registry.devpi import Credentials
from anya_plugins.registry.releases import (
    ReleaseChange,
    ReleaseChangeRefused,
    delete,
    deprecate,
    unyank,
    yank,
)
from tests.registry_fixtures import PASSWORDS, Registry, Upload, metadata_wheel

pytestmark = pytest.mark.slow

VERIFIED, EXPERIMENTAL = "community/verified", "community/experimental"
PROJECT = "anya-ext-tempus-clock"
COMMUNITY = Credentials("community", PASSWORDS["community"])


@pytest.fixture(scope="module")
def published(
    registry: Registry, upload: Upload, tmp_path_factory: pytest.TempPathFactory
) -> Registry:
    """``anya-ext-tempus-clock`` 1.0 and 2.0 on community/verified (not volatile)."""
    wheels = tmp_path_factory.mktemp("tempus")
    files = [
        metadata_wheel(wheels, PROJECT, version=v, category=VERIFIED, summary=f"Clock {v}")
        for v in ("1.0", "2.0")
    ]
    done = upload(VERIFIED, *files, user="community")
    assert done.returncode == 0, done.stdout + done.stderr
    return registry


@pytest.fixture
def yanked(published: Registry) -> Iterator[ReleaseChange]:
    change = yank(published.url, VERIFIED, PROJECT, "2.0", COMMUNITY, reason="clock skew")
    yield change
    unyank(published.url, VERIFIED, PROJECT, "2.0", COMMUNITY)


def simple_files(registry: Registry, index: str) -> dict[str, object]:
    page = registry.client().simple_project(index, PROJECT)
    return {entry["filename"]: entry.get("yanked") for entry in page["files"]}


def simple_html(registry: Registry, index: str) -> str:
    with urllib.request.urlopen(f"{registry.url}/{index}/+simple/{PROJECT}/") as answer:
        return str(answer.read().decode())


def test_yanked_release_is_marked_with_its_reason_on_the_json_simple_page(
    published: Registry, yanked: ReleaseChange
) -> None:
    assert simple_files(published, VERIFIED) == {
        "anya_ext_tempus_clock-1.0-py3-none-any.whl": None,
        "anya_ext_tempus_clock-2.0-py3-none-any.whl": "clock skew",
    }


def test_yanked_release_is_marked_on_the_html_simple_page(
    published: Registry, yanked: ReleaseChange
) -> None:
    page = simple_html(published, VERIFIED)

    anchor = re.search(r"<a [^>]*>anya_ext_tempus_clock-2\.0-py3-none-any\.whl</a>", page)
    assert anchor is not None and ' data-yanked="clock skew"' in anchor.group(0)
    assert page.count("data-yanked") == 1


def test_index_that_inherits_the_release_marks_it_too(
    published: Registry, yanked: ReleaseChange
) -> None:
    assert (
        simple_files(published, EXPERIMENTAL)["anya_ext_tempus_clock-2.0-py3-none-any.whl"]
        == "clock skew"
    )


def test_search_shows_the_latest_release_not_yanked(
    published: Registry, yanked: ReleaseChange
) -> None:
    (hit,) = published.client().search(VERIFIED, "tempus")

    assert (hit["version"], hit["summary"], hit["yanked"]) == ("1.0", "Clock 1.0", None)


def test_unyanked_release_is_served_and_found_again(published: Registry) -> None:
    yank(published.url, VERIFIED, PROJECT, "2.0", COMMUNITY, reason="")
    assert simple_files(published, VERIFIED)["anya_ext_tempus_clock-2.0-py3-none-any.whl"] is True

    unyank(published.url, VERIFIED, PROJECT, "2.0", COMMUNITY)

    assert set(simple_files(published, VERIFIED).values()) == {None}
    assert published.client().search(VERIFIED, "tempus")[0]["version"] == "2.0"


def test_a_deprecated_project_is_shown_by_search_until_lifted(published: Registry) -> None:
    deprecate(published.url, VERIFIED, PROJECT, COMMUNITY, message="use anya-ext-chronos")
    (hit,) = published.client().search(VERIFIED, "tempus")
    assert (hit["status"], hit["status_reason"]) == ("deprecated", "use anya-ext-chronos")

    deprecate(published.url, VERIFIED, PROJECT, COMMUNITY, message=None)

    (hit,) = published.client().search(VERIFIED, "tempus")
    assert (hit["status"], hit["status_reason"], hit["deprecated"]) == ("active", None, None)


def test_a_user_who_may_not_upload_cannot_yank(published: Registry) -> None:
    acme = Credentials("acme", PASSWORDS["acme"])

    with pytest.raises(ReleaseChangeRefused) as refused:
        yank(published.url, VERIFIED, PROJECT, "1.0", acme, reason="sabotage")

    assert "HTTP 403" in refused.value.message
    assert set(simple_files(published, VERIFIED).values()) == {None}


def test_a_wrong_password_cannot_yank(published: Registry) -> None:
    with pytest.raises(ReleaseChangeRefused) as refused:
        yank(published.url, VERIFIED, PROJECT, "1.0", Credentials("community", "nope"), reason="")

    assert "HTTP 401" in refused.value.message


def test_yanking_a_version_that_does_not_exist_is_refused(published: Registry) -> None:
    with pytest.raises(ReleaseChangeRefused) as refused:
        yank(published.url, VERIFIED, PROJECT, "9.9", COMMUNITY, reason="")

    assert "HTTP 404" in refused.value.message


def test_delete_is_refused_on_an_index_that_is_not_volatile(published: Registry) -> None:
    with pytest.raises(ReleaseChangeRefused) as refused:
        delete(published.url, VERIFIED, PROJECT, "1.0", COMMUNITY)

    assert "HTTP 403" in refused.value.message
    assert "1.0" in published.client().project(VERIFIED, PROJECT)


def test_delete_removes_a_release_from_a_volatile_index(
    registry: Registry, upload: Upload, tmp_path: Path
) -> None:
    wheels = [
        metadata_wheel(tmp_path, "anya-ext-tempus-scratch", version=v) for v in ("0.3", "0.4")
    ]
    assert upload(EXPERIMENTAL, *wheels, user="acme").returncode == 0
    acme = Credentials("acme", PASSWORDS["acme"])

    delete(registry.url, EXPERIMENTAL, "anya-ext-tempus-scratch", "0.3", acme)

    assert set(registry.client().project(EXPERIMENTAL, "anya-ext-tempus-scratch")) == {"0.4"}


def test_cli_yanks_and_unyanks_with_the_publish_password(published: Registry) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "anya_plugins.cli.main", *args, "--url", published.url,
             "--index", VERIFIED],
            capture_output=True, text=True, check=False,
            env={**os.environ, "ANYA_PUBLISH_PASSWORD": PASSWORDS["community"]},
        )  # fmt: skip

    done = cli("yank", f"{PROJECT}==1.0", "--reason", "drifts")
    assert done.returncode == 0, done.stderr
    assert f"{PROJECT}==1.0 yanked on {VERIFIED}: drifts" in done.stdout
    assert simple_files(published, VERIFIED)["anya_ext_tempus_clock-1.0-py3-none-any.whl"] == (
        "drifts"
    )

    assert cli("unyank", f"{PROJECT}==1.0").returncode == 0
    assert set(simple_files(published, VERIFIED).values()) == {None}


def test_cli_refuses_a_release_that_is_not_one_exact_version() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "anya_plugins.cli.main", "yank", f"{PROJECT}>=1", "--url", "x"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip

    assert done.returncode == 2
    assert "is not NAME==VERSION" in done.stderr


def anya_ext_json(registry: Registry, tmp_path: Path, *args: str) -> Any:
    done = subprocess.run(
        [sys.executable, "-m", "anya_plugins.cli.main", "--json", *args],
        capture_output=True, text=True, check=False,
        env={**os.environ, "HOME": str(tmp_path), "ANYA_CACHE_DIR": str(tmp_path / "cache"),
             "ANYA_SOURCES__PRIMARY__URL": f"{registry.url}/{VERIFIED}/+simple/"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_info_from_the_index_lists_yanked_versions_and_skips_them_for_latest(
    published: Registry, yanked: ReleaseChange, tmp_path: Path
) -> None:
    info = anya_ext_json(published, tmp_path, "info", "--remote", PROJECT)

    assert (info["latest"], info["versions"], info["yanked"]) == ("1.0", ["1.0", "2.0"], ["2.0"])


def test_search_command_shows_the_deprecation(published: Registry, tmp_path: Path) -> None:
    deprecate(published.url, VERIFIED, PROJECT, COMMUNITY, message="use anya-ext-chronos")
    try:
        (hit,) = anya_ext_json(published, tmp_path, "search", "tempus")
    finally:
        deprecate(published.url, VERIFIED, PROJECT, COMMUNITY, message=None)

    assert (hit["name"], hit["status"], hit["status_reason"]) == (
        PROJECT,
        "deprecated",
        "use anya-ext-chronos",
    )
