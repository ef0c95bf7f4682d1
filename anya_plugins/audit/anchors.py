"""Where the audit log's head is anchored, for every writer.

Every append copies the log's new head to its anchors (:mod:`anya_plugins.audit.log`), so that
entries cut from the end show. Every writer anchors in the user's data directory
(``<data dir>/audit-heads.json``); one whose entry is about an environment anchors in that
environment too (:func:`anya_plugins.install.auditing.log_anchors`). An ``AuditLog`` built
without anchors would leave its entries cuttable unseen: writers that concern no environment
open the log with :func:`anchored_log`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Final

from anya_plugins.audit.log import AuditLog

USER_ANCHOR: Final = "audit-heads.json"


def user_anchor(environ: Mapping[str, str] | None = None) -> Path:
    """The anchor in the user's data directory (``ANYA_DATA_DIR``, else the user data dir)."""
    from anya_plugins.audit.settings import data_dir

    return data_dir(environ) / USER_ANCHOR


def anchored_log(
    log: Path, *environment_anchors: Path, environ: Mapping[str, str] | None = None
) -> AuditLog:
    """The audit log at ``log``, anchored for the user and in ``environment_anchors``."""
    return AuditLog(log, anchors=(user_anchor(environ), *environment_anchors))
