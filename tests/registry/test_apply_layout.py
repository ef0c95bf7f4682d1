"""Applying the layout to a real devpi: everything is created once, then nothing changes."""

from __future__ import annotations

import pytest

from anya_plugins.registry.devpi import Credentials, apply_layout
from anya_plugins.registry.errors import LayoutError, RegistryError
from anya_plugins.registry.indexconfig import INDEX_TYPE
from anya_plugins.registry.layout import parse_layout
from tests.registry_fixtures import ENVIRON, Registry

pytestmark = pytest.mark.slow


def test_first_apply_creates_every_user_and_index(registry: Registry) -> None:
    report = registry.first_apply

    assert {(c.kind, c.name, c.action) for c in report.changes} == {
        ("user", "anya", "created"),
        ("user", "community", "created"),
        ("user", "acme", "created"),
        ("index", "anya/upstream", "created"),
        ("index", "anya/host", "created"),
        ("index", "anya/primary", "created"),
        ("index", "community/verified", "created"),
        ("index", "community/experimental", "created"),
        ("index", "acme/private", "created"),
    }


def test_second_apply_changes_nothing(registry: Registry) -> None:
    report = apply_layout(registry.url, registry.layout, registry.admin, environ=ENVIRON)

    assert not report.changed
    assert {c.action for c in report.changes} == {"unchanged"}
    assert len(report.changes) == 9


def test_created_index_has_the_layout_settings(registry: Registry) -> None:
    config = registry.client("acme").index("acme/private")

    assert config is not None
    assert config["type"] == INDEX_TYPE
    assert config["bases"] == ["community/verified"]
    assert config["acl_upload"] == ["acme"]
    assert (config["volatile"], config["anya_private"], config["anya_extensions"]) == (
        False,
        True,
        True,
    )


def test_setting_changed_on_the_server_is_put_back_once(registry: Registry) -> None:
    registry.client("root").modify_index("community/experimental", {"volatile": False})

    repaired = apply_layout(registry.url, registry.layout, registry.admin, environ=ENVIRON)
    again = apply_layout(registry.url, registry.layout, registry.admin, environ=ENVIRON)

    changed = [c for c in repaired.changes if c.action != "unchanged"]
    assert [(c.name, c.action, c.fields) for c in changed] == [
        ("community/experimental", "updated", ("volatile",))
    ]
    assert not again.changed


def test_new_password_in_the_environment_updates_the_user(registry: Registry) -> None:
    rotated = {**ENVIRON, "ANYA_REGISTRY_ACME_PASSWORD": "rotated-password"}
    try:
        report = apply_layout(registry.url, registry.layout, registry.admin, environ=rotated)
        assert report.action("user", "acme") == "updated"
        assert registry.client().check_password(registry.credentials("acme")) is False
    finally:
        apply_layout(registry.url, registry.layout, registry.admin, environ=ENVIRON)
    assert registry.client().check_password(registry.credentials("acme"))


def test_unset_password_variable_stops_before_any_change(registry: Registry) -> None:
    text = '[users.newcomer]\npassword_env = "ANYA_TEST_UNSET"\n[indexes."newcomer/x"]\n'
    layout = parse_layout(text, source="partial.toml")

    with pytest.raises(LayoutError, match="ANYA_TEST_UNSET is not set"):
        apply_layout(registry.url, layout, registry.admin, environ={})

    assert "newcomer" not in registry.client().users()


def test_existing_index_of_another_type_is_refused(registry: Registry) -> None:
    root = registry.client("root")
    root.create_index("root/plain", {"type": "stage"})
    layout = parse_layout('[indexes."root/plain"]\n', source="plain.toml")

    with pytest.raises(RegistryError, match=r"exists with type 'stage'.*cannot change"):
        apply_layout(registry.url, layout, registry.admin, environ={})


def test_wrong_admin_password_is_refused(registry: Registry) -> None:
    admin = Credentials(registry.admin.user, "wrong")

    with pytest.raises(RegistryError, match="HTTP 401: user 'root' could not be authenticated"):
        apply_layout(registry.url, registry.layout, admin, environ=ENVIRON)
