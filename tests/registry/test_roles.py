"""Roles: globs over categories and names, permissions, and which role would allow a refusal."""

from __future__ import annotations

import pytest

from anya_plugins.registry.roles import RoleError, role_set_from_mapping

DEFAULTS = role_set_from_mapping({})


def test_developer_installs_core_and_verified_community_extensions() -> None:
    assert DEFAULTS.decide(["developer"], "install", "core/bitcoin", "anya-ext-wallet").allowed
    assert DEFAULTS.decide(["developer"], "install", "community/verified", "anya-ext-x").allowed


def test_developer_is_refused_enterprise_and_told_which_role_would_allow_it() -> None:
    decision = DEFAULTS.decide(["developer"], "install", "enterprise/custody", "anya-ext-vault")
    assert not decision.allowed
    assert decision.would_allow == ("admin",)
    assert decision.explain("alice") == (
        "user 'alice' (roles: developer) may not install enterprise/custody/anya-ext-vault; "
        "the role admin would allow it"
    )


def test_only_admin_publishes() -> None:
    assert not DEFAULTS.decide(["developer", "security"], "publish", "core/ml", "x").allowed
    assert DEFAULTS.decide(["admin"], "publish", "enterprise/compliance", "x").allowed


def test_security_reads_and_scans_everything_but_installs_nothing() -> None:
    assert DEFAULTS.decide(["security"], "security-scan", "enterprise/custody", "x").allowed
    refused = DEFAULTS.decide(["security"], "install", "core/ml", "x")
    assert (refused.allowed, refused.would_allow) == (False, ("developer", "admin"))


def test_no_group_no_role() -> None:
    decision = DEFAULTS.decide(["globex"], "read", "core/ml", "x")
    assert (decision.allowed, decision.held) == (False, ())


def test_a_project_that_is_not_an_extension_needs_only_the_permission() -> None:
    assert DEFAULTS.decide(["developer"], "install", None, "requests").allowed
    assert not DEFAULTS.decide(["developer"], "publish", None, "requests").allowed


def test_policy_roles_add_to_the_defaults_and_map_ldap_groups() -> None:
    roles = role_set_from_mapping(
        {"custody-ops": {"permissions": ["install"], "scopes": ["enterprise/custody/anya-ext-v*"],
                         "groups": ["cn-custody"]}}
    )  # fmt: skip
    assert roles.names() == ("developer", "admin", "security", "custody-ops")
    assert roles.decide(["cn-custody"], "install", "enterprise/custody", "anya-ext-vault").allowed
    assert not roles.decide(["cn-custody"], "install", "enterprise/custody", "other").allowed
    assert not roles.decide(["custody-ops"], "install", "enterprise/custody", "x").allowed


def test_a_policy_role_replaces_the_default_of_its_name() -> None:
    roles = role_set_from_mapping({"developer": {"permissions": ["read"], "scopes": ["*"]}})
    assert not roles.decide(["developer"], "install", "core/ml", "x").allowed


def test_round_trip_through_a_mapping() -> None:
    again = role_set_from_mapping(DEFAULTS.to_mapping(), defaults=False)
    assert again == DEFAULTS


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"permissions": ["fly"], "scopes": ["*"]}, "roles.r.permissions: unknown fly"),
        ({"permissions": ["read"], "scopes": []}, "roles.r.scopes: empty"),
        ({"permissions": ["read"], "scopes": "core/*"}, "roles.r.scopes: expected a list"),
        ({"permissions": ["read"], "scopes": ["*"], "color": 1}, "roles.r: unknown keys color"),
        ("admin", "roles.r: a role is a table"),
    ],
)
def test_malformed_roles_name_the_key(body: object, problem: str) -> None:
    with pytest.raises(RoleError, match=problem.replace(".", r"\.")):
        role_set_from_mapping({"r": body})
