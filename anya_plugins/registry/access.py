"""The client's side of the registry's roles: decide before trying, with the server's role set.

A registry deployed with roles (``plugin_roles``) answers ``GET /+anya/roles`` with the
signed-in user's groups and its role set; :func:`access_profile` reads it (None from a
registry without roles) and :meth:`AccessProfile.require` refuses locally, with the server's
own words, what the server would refuse with 403. The server stays the authority: this only
saves a signature and an upload that would be refused.
"""

from __future__ import annotations

import base64
import json
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass

from anya_plugins.registry.devpi import Credentials
from anya_plugins.registry.errors import DevpiError, RegistryError
from anya_plugins.registry.roles import RoleSet, role_set_from_mapping

ROLES_PATH = "/+anya/roles"


class AccessRefused(RegistryError):
    """The user's roles do not allow what was asked; nothing was sent to the registry."""

    exit_code = 13


@dataclass(frozen=True)
class AccessProfile:
    """A signed-in user's groups on a registry, and the registry's roles."""

    user: str
    groups: tuple[str, ...]
    role_set: RoleSet

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(role.name for role in self.role_set.held_by(self.groups))

    def require(self, permission: str, category: str | None, name: str) -> None:
        """Raise AccessRefused unless this user's roles allow ``permission`` on the project."""
        decision = self.role_set.decide(self.groups, permission, category, name)
        if not decision.allowed:
            raise AccessRefused(
                decision.explain(self.user),
                hint="ask the registry's administrators for a directory group with that role",
            )


def access_profile(
    registry_url: str,
    credentials: Credentials,
    *,
    context: ssl.SSLContext | None = None,
    timeout: float = 30.0,
) -> AccessProfile | None:
    """The user's profile on the registry at ``registry_url``; None when it has no roles."""
    url = registry_url.rstrip("/") + ROLES_PATH
    basic = base64.b64encode(f"{credentials.user}:{credentials.password}".encode()).decode()
    request = urllib.request.Request(
        url, headers={"Accept": "application/json", "Authorization": f"Basic {basic}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            document = json.loads(response.read())
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise DevpiError("GET", url, error.code, error.reason or "refused") from None
    except (urllib.error.URLError, OSError) as error:
        raise DevpiError("GET", url, None, str(error)) from None
    if not isinstance(document, dict) or document.get("user") is None:
        raise DevpiError(
            "GET", url, 200, "the registry did not sign this user in",
            hint="check the user name and password",
        )  # fmt: skip
    return AccessProfile(
        user=str(document["user"]),
        groups=tuple(str(g) for g in document.get("groups", ())),
        role_set=role_set_from_mapping(document.get("role_set", {}), defaults=False, source=url),
    )
