"""Who may upload where: devpi's ACLs as the layout sets them, through twine."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.registry_fixtures import Registry, Upload
from tests.support import ExtensionBuilder, ExtensionSpec

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def verified_wheel(build_extension: ExtensionBuilder) -> Path:
    return build_extension(ExtensionSpec("acl-probe", category="community/verified"))


@pytest.fixture(scope="module")
def experimental_wheel(build_extension: ExtensionBuilder) -> Path:
    return build_extension(ExtensionSpec("acl-experiment", category="community/experimental"))


def test_upload_without_credentials_is_refused_with_401(
    upload: Upload, verified_wheel: Path
) -> None:
    done = upload("community/verified", verified_wheel, user=None)

    assert done.returncode != 0
    assert "401" in done.stdout + done.stderr


def test_upload_with_a_wrong_password_is_refused_with_401(
    upload: Upload, verified_wheel: Path
) -> None:
    done = upload("community/verified", verified_wheel, user="community", password="wrong")

    assert done.returncode != 0
    assert "401" in done.stdout + done.stderr


def test_user_outside_acl_upload_is_refused_with_403(
    upload: Upload, verified_wheel: Path, registry: Registry
) -> None:
    done = upload("community/verified", verified_wheel, user="acme")

    assert done.returncode != 0
    assert "403" in done.stdout + done.stderr
    assert "anya-ext-acl-probe" not in registry.client().projects("community/verified")


def test_member_of_acl_upload_can_upload(
    upload: Upload, verified_wheel: Path, registry: Registry
) -> None:
    done = upload("community/verified", verified_wheel, user="community")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "anya-ext-acl-probe" in registry.client().projects("community/verified")


def test_any_signed_in_user_can_upload_to_the_experimental_index(
    upload: Upload, experimental_wheel: Path, registry: Registry
) -> None:
    done = upload("community/experimental", experimental_wheel, user="acme")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "anya-ext-acl-experiment" in registry.client().projects("community/experimental")
