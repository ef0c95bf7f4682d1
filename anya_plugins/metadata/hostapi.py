"""The host API version this host offers, and the check of an extension's range."""

from __future__ import annotations

from anya_plugins.metadata.platforms import Compatibility
from anya_plugins.metadata.taxonomy import HOST_API_VERSION

__all__ = ["HOST_API_VERSION", "check_host_api"]


def check_host_api(spec: str, offered: str = HOST_API_VERSION) -> Compatibility:
    """Whether ``offered`` lies in the extension's host API range ``spec``."""
    from packaging.specifiers import SpecifierSet

    if not spec:
        return Compatibility(True)
    if SpecifierSet(spec).contains(offered, prereleases=True):
        return Compatibility(True)
    return Compatibility(False, f"needs host API {spec}; this host offers {offered}")
