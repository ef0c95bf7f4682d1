"""A registry without roles: the client's role check stands aside (the server decides alone)."""

from __future__ import annotations

from anya_plugins.registry.access import access_profile
from tests.registry_fixtures import Registry


def test_a_registry_without_roles_gives_no_profile(registry: Registry) -> None:
    assert access_profile(registry.url, registry.credentials("acme")) is None
