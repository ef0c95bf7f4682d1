"""How a layout index is stored in devpi: the ``anya`` index type and its configuration keys.

Shared by the client side (``devpi.py`` writes these keys) and the server plugin
(``devpi_plugin.py`` enforces them); neither imports the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from anya_plugins.registry.layout import IndexSpec

INDEX_TYPE: Final = "anya"
"""devpi index type of every layout index; its policy lives in the server plugin."""

FEATURE: Final = "anya-registry"
"""Listed in ``/+api`` ``features`` when the server plugin is loaded."""

PRIVATE_KEY: Final = "anya_private"
EXTENSIONS_KEY: Final = "anya_extensions"
CATEGORIES_KEY: Final = "anya_categories"
READ_KEY: Final = "anya_acl_read"
"""Who may read the index: devpi 6 has no read ACL, the plugin enforces this one."""
REQUIRE_SIGNATURES_KEY: Final = "anya_require_signatures"
PUBLISHERS_KEY: Final = "anya_publishers"
"""The publishers whose attestations a signed index accepts, each ``"identity issuer"``."""
TRUSTED_ROOT_OPTION: Final = "--anya-trusted-root"
"""devpi-server option: the Sigstore trusted root that signed indexes check uploads against."""

MANAGED_KEYS: Final = (
    "type", "bases", "acl_upload", "volatile", "title", "description",
    PRIVATE_KEY, EXTENSIONS_KEY, CATEGORIES_KEY,
    "acl_toxresult_upload", READ_KEY, REQUIRE_SIGNATURES_KEY, PUBLISHERS_KEY,
)  # fmt: skip
"""The index configuration keys the layout decides; devpi's other keys are left alone."""


def index_config(spec: IndexSpec) -> dict[str, object]:
    """The devpi index configuration that ``spec`` asks for (title and description if given)."""
    config: dict[str, object] = {
        "type": INDEX_TYPE,
        "bases": list(spec.bases),
        "acl_upload": list(spec.acl_upload),
        "volatile": spec.volatile,
        PRIVATE_KEY: spec.private,
        EXTENSIONS_KEY: spec.extensions,
        CATEGORIES_KEY: list(spec.categories),
        "acl_toxresult_upload": list(spec.toxresult_uploaders),
        READ_KEY: list(spec.acl_read),
        REQUIRE_SIGNATURES_KEY: spec.require_signatures,
        PUBLISHERS_KEY: [f"{p.identity} {p.issuer}" for p in spec.publishers],
    }
    if spec.title is not None:
        config["title"] = spec.title
    if spec.description is not None:
        config["description"] = spec.description
    return config


def is_private_index(ixconfig: Mapping[str, object]) -> bool:
    """Whether a devpi index configuration is a private ``anya`` index (the guard's owners)."""
    return ixconfig.get("type") == INDEX_TYPE and bool(ixconfig.get(PRIVATE_KEY))
