"""Roles of a private registry: who may do what to which extensions (pure, no I/O).

A role grants permissions (:data:`PERMISSIONS`) over a scope: globs matched against
``category/name`` (``core/*`` is every core extension, ``community/verified/*`` every
verified community one, ``*`` everything) or against the category alone. A user holds the
roles whose LDAP groups they are in (by default the group named like the role). The devpi
plugin (``plugin_roles``) enforces the decision on the server; clients make the same one
before they try, from the role set the server publishes.

Projects that are not extensions (no category: the host, mirrored dependencies) are in
every scope: for them only the permission counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Final

from anya_plugins.errors import ConfigError

PERMISSIONS: Final = ("read", "install", "publish", "manage", "audit", "security-scan")
"""What a role can grant: read pages and metadata, install (download files), publish
(upload), manage (users and indexes), audit (the audit trail), security-scan."""

_ROLE_KEYS = frozenset({"permissions", "scopes", "groups", "description"})


class RoleError(ConfigError):
    """A role definition is malformed."""


@dataclass(frozen=True)
class Role:
    """One role: its permissions over its scopes, held through its LDAP groups."""

    name: str
    permissions: frozenset[str]
    scopes: tuple[str, ...]
    """Globs over ``category/name`` or over the category."""
    groups: tuple[str, ...]
    """LDAP groups (their ``cn``) whose members hold the role."""
    description: str = ""

    def covers(self, category: str | None, name: str) -> bool:
        """Whether ``name`` (of ``category``; None: not an extension) is in this role's scope."""
        if category is None:
            return True
        subject = f"{category}/{name}"
        return any(fnmatchcase(subject, g) or fnmatchcase(category, g) for g in self.scopes)

    def allows(self, permission: str, category: str | None, name: str) -> bool:
        return permission in self.permissions and self.covers(category, name)

    def to_mapping(self) -> dict[str, object]:
        return {
            "permissions": sorted(self.permissions),
            "scopes": list(self.scopes),
            "groups": list(self.groups),
            "description": self.description,
        }


@dataclass(frozen=True)
class Decision:
    """The answer to "may this user do this to this project", with what would change it."""

    allowed: bool
    permission: str
    subject: str
    """``category/name``, or the name alone for a project that is not an extension."""
    held: tuple[str, ...]
    """The roles the user holds."""
    would_allow: tuple[str, ...]
    """The roles that allow it (empty: none does)."""

    def explain(self, user: str) -> str:
        held = ", ".join(self.held) or "none"
        verdict = "may" if self.allowed else "may not"
        text = f"user {user!r} (roles: {held}) {verdict} {self.permission} {self.subject}"
        if self.allowed:
            return text
        if self.would_allow:
            return f"{text}; the role {' or '.join(self.would_allow)} would allow it"
        return f"{text}; no role allows it"


@dataclass(frozen=True)
class RoleSet:
    """Every role of a registry, in the order they were defined."""

    roles: tuple[Role, ...]

    def names(self) -> tuple[str, ...]:
        return tuple(role.name for role in self.roles)

    def held_by(self, groups: Iterable[str]) -> tuple[Role, ...]:
        """The roles a member of ``groups`` holds."""
        member_of = set(groups)
        return tuple(role for role in self.roles if member_of.intersection(role.groups))

    def groups_with(self, permission: str) -> tuple[str, ...]:
        """The LDAP groups whose members hold ``permission`` on some scope."""
        found: dict[str, None] = {}
        for role in self.roles:
            if permission in role.permissions:
                found.update(dict.fromkeys(role.groups))
        return tuple(found)

    def decide(
        self, groups: Iterable[str], permission: str, category: str | None, name: str
    ) -> Decision:
        held = self.held_by(groups)
        return Decision(
            allowed=any(role.allows(permission, category, name) for role in held),
            permission=permission,
            subject=name if category is None else f"{category}/{name}",
            held=tuple(role.name for role in held),
            would_allow=tuple(
                role.name for role in self.roles if role.allows(permission, category, name)
            ),
        )

    def to_mapping(self) -> dict[str, dict[str, object]]:
        """The mapping :func:`role_set_from_mapping` reads back (without the defaults)."""
        return {role.name: role.to_mapping() for role in self.roles}


DEFAULT_ROLE_DEFINITIONS: Final[Mapping[str, Mapping[str, object]]] = {
    "developer": {
        "permissions": ["read", "install"],
        "scopes": ["core/*", "community/verified/*"],
        "description": "installs core and verified community extensions",
    },
    "admin": {
        "permissions": ["read", "install", "publish", "manage"],
        "scopes": ["*"],
        "description": "publishes anything and manages the registry",
    },
    "security": {
        "permissions": ["read", "audit", "security-scan"],
        "scopes": ["*"],
        "description": "reads everything, the audit trail and scan results",
    },
}
"""The roles every registry has unless its policy redefines them."""


def role_set_from_mapping(
    mapping: Mapping[str, object], *, defaults: bool = True, source: str = "roles"
) -> RoleSet:
    """Build a :class:`RoleSet` from ``{role: {permissions, scopes, groups?, description?}}``.

    With ``defaults`` the mapping adds roles to :data:`DEFAULT_ROLE_DEFINITIONS` and
    replaces those it names. ``groups`` defaults to ``[role]``. ``source`` names the
    mapping in errors (e.g. the policy file's ``roles`` table). Raises RoleError.
    """
    merged: dict[str, object] = dict(DEFAULT_ROLE_DEFINITIONS) if defaults else {}
    merged.update(mapping)
    return RoleSet(tuple(_role(name, body, source) for name, body in merged.items()))


def _role(name: str, body: object, source: str) -> Role:
    where = f"{source}.{name}"
    if not name or not isinstance(body, Mapping):
        raise RoleError(f"{where}: a role is a table of permissions, scopes and groups")
    unknown = sorted(set(body) - _ROLE_KEYS)
    if unknown:
        raise RoleError(
            f"{where}: unknown keys {', '.join(unknown)}",
            hint=f"use {', '.join(sorted(_ROLE_KEYS))}",
        )
    permissions = _strings(body.get("permissions", []), f"{where}.permissions")
    bad = [p for p in permissions if p not in PERMISSIONS]
    if bad:
        raise RoleError(
            f"{where}.permissions: unknown {', '.join(bad)}", hint=f"use {', '.join(PERMISSIONS)}"
        )
    scopes = _strings(body.get("scopes", []), f"{where}.scopes")
    if not scopes:
        raise RoleError(f"{where}.scopes: empty", hint='e.g. ["core/*"], or ["*"] for everything')
    groups = _strings(body.get("groups", [name]), f"{where}.groups")
    description = body.get("description", "")
    return Role(
        name=name,
        permissions=frozenset(permissions),
        scopes=scopes,
        groups=groups,
        description=str(description),
    )


def _strings(value: object, where: str) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise RoleError(f"{where}: expected a list of strings, got {value!r}")
    items = tuple(value)
    if not all(isinstance(item, str) and item for item in items):
        raise RoleError(f"{where}: expected a list of non-empty strings, got {list(items)!r}")
    return items
