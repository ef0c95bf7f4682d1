"""A private index never serves a public release of a name it holds itself.

``acme/private`` holds ``anya-ext-shadow 0.1.0``; someone publishes ``anya-ext-shadow 9.0``
on ``community/verified``, a base of ``acme/private``. Plain devpi would merge the two
and installers would pick 9.0; the Anya index type serves 0.1.0 only.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import urljoin

import pytest

from anya_plugins.registry.errors import DevpiError
from tests.registry_fixtures import Registry, Upload
from tests.support import ExtensionBuilder, ExtensionSpec

pytestmark = pytest.mark.slow

PROJECT = "anya-ext-shadow"
PRIVATE, PUBLIC = "acme/private", "community/verified"


@pytest.fixture(scope="module")
def shadowed(registry: Registry, upload: Upload, build_extension: ExtensionBuilder) -> None:
    """The public 9.0 is uploaded first, as an attacker who saw the name would."""
    public = build_extension(
        ExtensionSpec(
            "shadow",
            category="community/verified",
            keywords_edit=("anya_ext_shadow.__version__", "anya_ext_shadow.plugin.VERSION"),
            plugin_source='VERSION = "9.0"\n',
        )
    )
    private = build_extension(ExtensionSpec("shadow", category="enterprise/custody"))
    inherited = build_extension(ExtensionSpec("public-only", category="community/verified"))
    for index, wheel, user in (
        (PUBLIC, public, "community"),
        (PUBLIC, inherited, "community"),
        (PRIVATE, private, "acme"),
    ):
        done = upload(index, wheel, user=user)
        assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.usefixtures("shadowed")
def test_simple_json_of_private_index_lists_only_the_private_files(registry: Registry) -> None:
    page = registry.client("acme").simple_project(PRIVATE, PROJECT)

    page_url = f"{registry.url}/{PRIVATE}/+simple/{PROJECT}/"
    files = {entry["filename"]: urljoin(page_url, entry["url"]) for entry in page["files"]}
    assert list(files) == ["anya_ext_shadow-0.1.0-py3-none-any.whl"]
    assert files["anya_ext_shadow-0.1.0-py3-none-any.whl"].startswith(
        f"{registry.url}/{PRIVATE}/+f/"
    )


@pytest.mark.usefixtures("shadowed")
def test_devpi_json_of_private_index_lists_only_the_private_version(registry: Registry) -> None:
    versions = registry.client("acme").project(PRIVATE, PROJECT)

    assert set(versions) == {"0.1.0"}


@pytest.mark.usefixtures("shadowed")
def test_public_version_page_is_not_found_through_the_private_index(registry: Registry) -> None:
    with pytest.raises(DevpiError) as raised:
        registry.client("acme").release(PRIVATE, PROJECT, "9.0")

    assert raised.value.status == 404


@pytest.mark.usefixtures("shadowed")
def test_public_index_still_serves_the_public_release(registry: Registry) -> None:
    page = registry.client().simple_project(PUBLIC, PROJECT)

    assert [entry["filename"] for entry in page["files"]] == [
        "anya_ext_shadow-9.0-py3-none-any.whl"
    ]


@pytest.mark.usefixtures("shadowed")
def test_names_the_private_index_does_not_hold_are_inherited(registry: Registry) -> None:
    page = registry.client("acme").simple_project(PRIVATE, "anya-ext-public-only")

    assert [entry["filename"] for entry in page["files"]] == [
        "anya_ext_public_only-0.1.0-py3-none-any.whl"
    ]


@pytest.mark.usefixtures("shadowed")
def test_pip_downloads_the_private_release(registry: Registry, tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-cache-dir",
            "--disable-pip-version-check", "--dest", str(tmp_path),
            "--index-url", registry.simple_url(PRIVATE, "acme"), PROJECT,
        ],
        capture_output=True, text=True, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["anya_ext_shadow-0.1.0-py3-none-any.whl"]


@pytest.mark.usefixtures("shadowed")
def test_without_the_private_flag_devpi_would_serve_the_public_release(registry: Registry) -> None:
    root = registry.client("root")
    root.modify_index(PRIVATE, {"anya_private": False})
    try:
        page = registry.client("acme").simple_project(PRIVATE, PROJECT)
    finally:
        root.modify_index(PRIVATE, {"anya_private": True})

    assert "anya_ext_shadow-9.0-py3-none-any.whl" in [entry["filename"] for entry in page["files"]]
