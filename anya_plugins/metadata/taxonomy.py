"""The fixed list of extension categories and the keywords that carry the contract.

The contract lives in the standard ``Keywords`` core-metadata field so that
pip, PyPI and devpi carry it unchanged and devpi-web can search on it; one
clause per keyword keeps every value free of commas.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final

CATEGORIES: Final = (
    "core/bitcoin",
    "core/web5",
    "core/ml",
    "community/verified",
    "community/experimental",
    "enterprise/custody",
    "enterprise/compliance",
    "enterprise/infrastructure",
)

EXTENSION_KEYWORD: Final = "anya-extension"
CATEGORY_PREFIX: Final = "anya-category:"
HOST_API_PREFIX: Final = "anya-host-api:"
DEFAULT_FEATURE_PREFIX: Final = "anya-default-feature:"

ENTRY_POINT_GROUP: Final = "anya.extensions"
HOST_API_VERSION: Final = "1.0"
"""The version of the hook contract this host offers (not the package version)."""
DIST_NAME_PREFIX: Final = "anya-ext-"


def is_category(value: str) -> bool:
    """Whether ``value`` is one of the known categories."""
    return value in CATEGORIES


def source_of(category: str) -> str:
    """The first segment of a category: core, community or enterprise."""
    return category.split("/", 1)[0]


RESERVED_NAMES: Final = frozenset(
    ("host", "trust", "sources", "registry", "cache", "extensions", "install", "audit", "anya",
     "analytics", "metrics")
)  # fmt: skip
"""Configuration sections of the host itself, which no extension may be named."""
