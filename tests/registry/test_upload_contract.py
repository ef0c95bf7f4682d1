"""Extension indexes refuse, before storing anything, files that break the extension contract."""

from __future__ import annotations

from pathlib import Path

import pytest

from anya_plugins.registry.errors import DevpiError
from tests.registry_fixtures import Registry, Upload
from tests.support import ExtensionBuilder, ExtensionSpec

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def uncategorised_wheel(build_extension: ExtensionBuilder) -> Path:
    return build_extension(
        ExtensionSpec(
            "no-category",
            category="community/verified",
            keywords_edit=('"anya-category:community/verified",', ""),
        )
    )


def test_wheel_without_category_is_refused_with_400_and_not_stored(
    upload: Upload, uncategorised_wheel: Path, registry: Registry
) -> None:
    done = upload("community/verified", uncategorised_wheel, user="community")

    output = " ".join((done.stdout + done.stderr).split())
    assert done.returncode != 0
    assert "400" in output
    assert "breaks the Anya extension contract: metadata field Keywords" in output
    assert "anya-ext-no-category" not in registry.client().projects("community/verified")


def test_category_the_index_does_not_take_is_refused(
    upload: Upload, build_extension: ExtensionBuilder, registry: Registry
) -> None:
    core = build_extension(ExtensionSpec("misfiled", category="core/ml"))

    done = upload("community/verified", core, user="community")

    output = " ".join((done.stdout + done.stderr).split())
    assert "category 'core/ml' is not accepted by this index" in output
    assert "anya-ext-misfiled" not in registry.client().projects("community/verified")


def test_unauthenticated_upload_gets_401_before_any_contract_check(
    upload: Upload, uncategorised_wheel: Path
) -> None:
    done = upload("community/verified", uncategorised_wheel, user=None)

    assert "401" in done.stdout + done.stderr
    assert "contract" not in done.stdout + done.stderr


@pytest.fixture(scope="module")
def dependencies_index(upload: Upload, uncategorised_wheel: Path, registry: Registry) -> str:
    """An ``anya`` index that is not an extension index, holding the uncategorised wheel."""
    registry.client("root").create_index(
        "root/dependencies", {"type": "anya", "anya_extensions": False}
    )
    done = upload("root/dependencies", uncategorised_wheel, user="root",
                  password=registry.admin.password)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return "root/dependencies"


def test_index_that_is_not_an_extension_index_takes_any_wheel(
    dependencies_index: str, registry: Registry
) -> None:
    assert registry.client().projects(dependencies_index) == ("anya-ext-no-category",)


def test_push_of_a_release_that_breaks_the_contract_is_refused(
    dependencies_index: str, registry: Registry
) -> None:
    root = registry.client("root")

    with pytest.raises(DevpiError) as raised:
        root.push(dependencies_index, "anya-ext-no-category", "0.1.0", "community/experimental")

    assert raised.value.status == 400
    assert "breaks the Anya extension contract" in raised.value.problem
    assert "anya-ext-no-category" not in registry.client().projects("community/experimental")


def test_push_of_a_contract_release_is_accepted(
    upload: Upload, build_extension: ExtensionBuilder, registry: Registry
) -> None:
    wheel = build_extension(ExtensionSpec("promoted", category="community/experimental"))
    assert upload("community/experimental", wheel, user="acme").returncode == 0

    registry.client("acme").push(
        "community/experimental", "anya-ext-promoted", "0.1.0", "acme/private"
    )

    assert "anya-ext-promoted" in registry.client("acme").projects("acme/private")
