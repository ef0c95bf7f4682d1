"""Writing installs, removals, refusals and configuration changes to the audit log."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from anya_plugins.audit.log import Action, AuditLog
from anya_plugins.config.layers import LayeredConfig
from anya_plugins.errors import AnyaError
from anya_plugins.install.environment import TargetEnvironment
from anya_plugins.install.transaction import InstallResult


def audit_log(config: LayeredConfig, env: TargetEnvironment | None = None) -> AuditLog:
    """The configured log, its head anchored in the user's data directory and, for an entry
    about an environment, in that environment."""
    from anya_plugins.audit.settings import load_audit_settings

    return AuditLog(load_audit_settings(config).log, anchors=log_anchors(env))


def log_anchors(env: TargetEnvironment | None = None) -> tuple[Path, ...]:
    """Where the log's head is copied after each append, for ``verify`` to find a cut log:
    a file in the user's data directory and the environment's own anchor."""
    from anya_plugins.audit.anchors import user_anchor
    from anya_plugins.install.pinning import audit_anchor

    user = user_anchor()
    return (user,) if env is None else (user, audit_anchor(env))


@contextmanager
def refusals_recorded(
    log: AuditLog, action: Action, requested: Sequence[str], source: str
) -> Iterator[None]:
    """Record a refused or failed transaction (then let the error through)."""
    from anya_plugins.audit.errors import VulnerabilityGateError
    from anya_plugins.install.transaction import InstallRefused
    from anya_plugins.sources.errors import HashMismatch
    from anya_plugins.trust.errors import TrustError

    try:
        yield
    except AnyaError as error:
        refused = isinstance(
            error, TrustError | InstallRefused | VulnerabilityGateError | HashMismatch
        )
        log.record(
            action,
            extension=", ".join(requested),
            source=source,
            result="refused" if refused else "failed",
            details={"error": type(error).__name__, "message": error.message},
        )
        raise


def record_changes(
    log: AuditLog, action: Action, result: InstallResult, source: str, decisions: Sequence[Any]
) -> None:
    """One entry per distribution installed, with its hash and who signed it."""
    if result.dry_run:
        return
    by_file = {decision.filename: decision for decision in decisions}
    log.record_all(
        [
            {
                "action": action,
                "extension": change.name,
                "version": change.new_version,
                "source": source,
                "hashes": {"sha256": change.sha256},
                "details": {
                    "from": change.old_version,
                    "file": change.filename,
                    "url": change.url,
                    "trust": _trust(by_file.get(change.filename)),
                },
            }
            for change in result.changes
        ]
    )


def _trust(decision: Any) -> dict[str, Any] | None:
    return decision.to_record() if decision is not None else None
