"""Platform detection, and whether an extension's wheels run here (the public names; the
implementation lives with the rest of the platform contract in :mod:`anya_plugins.metadata`,
where the layers below the API use it too)."""

from __future__ import annotations

from anya_plugins.metadata.host_platform import ROSETTA, Compatibility, Platform, Status

__all__ = ["ROSETTA", "Compatibility", "Platform", "Status"]
