"""ReleaseManager and RegistryAccount against the session registry: a project of our own on
the volatile community/experimental index (name contains "api-ledger", used nowhere else)."""

from __future__ import annotations

from pathlib import Path

import pytest

from anya_plugins import RegistryAccount, ReleaseManager
from anya_plugins.errors import UsageError
from anya_plugins.registry.releases import ReleaseChange, ReleaseChangeRefused
from tests.registry_fixtures import PASSWORDS, Registry, Upload, metadata_wheel

EXPERIMENTAL = "community/experimental"
PROJECT = "anya-ext-api-ledger"


@pytest.fixture(scope="module")
def manager(
    registry: Registry, upload: Upload, tmp_path_factory: pytest.TempPathFactory
) -> ReleaseManager:
    wheels = tmp_path_factory.mktemp("api-ledger")
    files = [metadata_wheel(wheels, PROJECT, version=v) for v in ("0.1", "0.2", "0.3")]
    done = upload(EXPERIMENTAL, *files, user="acme")
    assert done.returncode == 0, done.stdout + done.stderr
    account = RegistryAccount.sign_in(
        EXPERIMENTAL, url=registry.url, user="acme", password=PASSWORDS["acme"]
    )
    return ReleaseManager(account)


def _yanked(registry: Registry) -> dict[str, object]:
    page = registry.client().simple_project(EXPERIMENTAL, PROJECT)
    return {entry["filename"]: entry.get("yanked") for entry in page["files"]}


def test_yank_and_unyank_return_what_the_registry_did(
    registry: Registry, manager: ReleaseManager
) -> None:
    yanked = manager.yank(PROJECT, "0.1", reason="wrong sums")

    assert yanked == ReleaseChange("yank", EXPERIMENTAL, PROJECT, "0.1", "wrong sums")
    assert _yanked(registry)["anya_ext_api_ledger-0.1-py3-none-any.whl"] == "wrong sums"

    assert manager.unyank(PROJECT, "0.1") == ReleaseChange("unyank", EXPERIMENTAL, PROJECT, "0.1")
    assert set(_yanked(registry).values()) == {None}


def test_deprecate_a_project_and_lift_it(manager: ReleaseManager) -> None:
    change = manager.deprecate(PROJECT, "use anya-ext-api-books")
    assert (change.action, change.status, change.version) == ("deprecate", "deprecated", None)

    lifted = manager.deprecate(PROJECT, None)
    assert (lifted.action, lifted.status) == ("undeprecate", "active")


def test_delete_removes_the_release(registry: Registry, manager: ReleaseManager) -> None:
    change = manager.delete(PROJECT, "0.3")

    assert change == ReleaseChange("delete", EXPERIMENTAL, PROJECT, "0.3")
    assert "0.3" not in set(registry.client().project(EXPERIMENTAL, PROJECT))


def test_a_release_that_does_not_exist_is_refused(manager: ReleaseManager) -> None:
    with pytest.raises(ReleaseChangeRefused):
        manager.yank(PROJECT, "9.9")


def test_sign_in_defaults_to_the_index_owner_and_needs_a_password(registry: Registry) -> None:
    account = RegistryAccount.sign_in("acme/private", url=registry.url, password="pw")
    assert (account.url, account.index, account.credentials.user) == (
        registry.url,
        "acme/private",
        "acme",
    )

    with pytest.raises(UsageError, match="no password for acme"):
        RegistryAccount.sign_in("acme/private", url=registry.url)


def test_sign_in_without_a_url_uses_the_running_embedded_registry(
    registry: Registry, tmp_path: Path
) -> None:
    account = RegistryAccount.sign_in(
        EXPERIMENTAL, user="acme", password="pw", state_dir=registry.state_dir
    )
    assert account.url == registry.url

    with pytest.raises(UsageError, match="not running"):
        RegistryAccount.sign_in(EXPERIMENTAL, password="pw", state_dir=tmp_path)
