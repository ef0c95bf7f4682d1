# mypy: disallow-untyped-calls=False
# (devpi-server's model functions are untyped; this module is an adapter to them.)
"""The upstream guard: names that must never be taken from a ``type=mirror`` base.

devpi already ignores a mirror for a name that exists on an ordinary index in the
resolution order (``mirror_whitelist`` is left empty). That leaves the names nobody has
uploaded here yet, which a squatter could publish upstream first:

* every ``anya-ext-*`` name: extensions come from this registry or not at all;
* ``anya-plugins``, the host every extension requires (``registry up`` publishes it);
* every name that exists on a private index anywhere on the server, even when the index
  asked does not have that private index among its bases.

For those names an ``anya`` index serves only what its non-mirror indexes hold.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from packaging.utils import canonicalize_name

from anya_plugins.registry.indexconfig import is_private_index

EXTENSION_PREFIX = "anya-ext-"
HOST_NAMES = frozenset({"anya-plugins"})
MIRROR_TYPE = "mirror"


def is_mirror(stage: Any) -> bool:
    return bool(stage.ixconfig.get("type") == MIRROR_TYPE)


def never_from_upstream(stage: Any, project: str) -> bool:
    """Whether ``project`` must not come from a mirror base of ``stage``."""
    if not any(is_mirror(base) for base in stage.sro()):
        return False
    name = canonicalize_name(project)
    if name.startswith(EXTENSION_PREFIX) or name in HOST_NAMES:
        return True
    return any(
        is_private_index(other.ixconfig) and other.has_project_perstage(project) is True
        for other in _all_stages(stage)
    )


def local_stages(stage: Any) -> list[Any]:
    """The indexes in ``stage``'s resolution order that are not mirrors."""
    return [base for base in stage.sro() if not is_mirror(base)]


def _all_stages(stage: Any) -> Iterable[Any]:
    for user in stage.model.get_userlist():
        yield from user.getstages()
