"""The one error a local Sigstore instance raises for its operator."""

from __future__ import annotations

from anya_plugins.errors import AnyaError


class LocalInstanceError(AnyaError):
    """The local Sigstore instance cannot be created, loaded or started."""
