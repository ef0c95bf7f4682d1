"""Configuration changes in the audit log: which key changed and how, never the value."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from anya_plugins.config.layers import LayeredConfig


def record_config_change(config: LayeredConfig, key: str, change: str) -> None:
    """A configuration change: the key and what happened to it, never the value (it may be
    a secret), in the configured log anchored in the user's data directory."""
    from anya_plugins.audit.anchors import anchored_log
    from anya_plugins.audit.settings import load_audit_settings

    anchored_log(load_audit_settings(config).log).record(
        "config-change", details={"key": key, "change": change, "file": str(config.path)}
    )
