"""The ``[audit]`` configuration section as typed, frozen settings.

```toml
[audit]
advisories = "~/osv/PyPI-all.zip"   # a directory of OSV JSON files, or a zip of them
max_severity = "high"               # findings at or above this level refuse an install
unknown_severity = "critical"       # the level of a finding no advisory rates
ignore = ["GHSA-xxxx-xxxx-xxxx"]    # advisories (or any alias) accepted for good
require_database = false            # true: refuse to install while there are no advisories
max_database_age_days = 30          # older advisories are refused on import, said on install
log = "~/anya-audit.jsonl"          # the audit log; ANYA_AUDIT_LOG wins over it
```

Every key is optional. The advisories default to ``advisories/osv-pypi.zip`` and the log to
``audit.jsonl``, both in the data directory (``ANYA_DATA_DIR``, else the user data dir).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from anya_plugins.audit.log import LOG_ENV
from anya_plugins.audit.severity import LEVELS, as_level
from anya_plugins.audit.vulnerabilities import (
    DEFAULT_MAX_SEVERITY,
    DEFAULT_UNKNOWN_SEVERITY,
    GatePolicy,
)

if TYPE_CHECKING:
    from anya_plugins.config.layers import LayeredConfig

SECTION: Final = "audit"
DATA_DIR_ENV: Final = "ANYA_DATA_DIR"
LOG_FILE_NAME: Final = "audit.jsonl"
ADVISORIES_FILE: Final = Path("advisories", "osv-pypi.zip")
DEFAULT_MAX_DATABASE_AGE_DAYS: Final = 30

AUDIT_SCHEMA: Final[Mapping[str, Any]] = {
    "type": "object",
    "properties": {
        "advisories": {"type": "string", "minLength": 1},
        "max_severity": {"type": "string", "enum": list(LEVELS), "default": DEFAULT_MAX_SEVERITY},
        "unknown_severity": {
            "type": "string",
            "enum": list(LEVELS),
            "default": DEFAULT_UNKNOWN_SEVERITY,
        },
        "ignore": {"type": "array", "items": {"type": "string", "minLength": 1}, "default": []},
        "require_database": {"type": "boolean", "default": False},
        "max_database_age_days": {
            "type": "integer",
            "minimum": 1,
            "default": DEFAULT_MAX_DATABASE_AGE_DAYS,
        },
        "log": {"type": "string", "minLength": 1},
    },
    "additionalProperties": False,
}
"""The keys of ``[audit]``; environment and ``--config`` strings are typed by it."""


@dataclass(frozen=True)
class AuditSettings:
    """The whole ``[audit]`` section, defaults filled in."""

    advisories: Path
    log: Path
    policy: GatePolicy
    require_database: bool = False
    """Whether an install without an advisory database is refused (else it is said, loudly,
    in the install summary): a fresh machine installs until ``anya-ext audit --update``."""
    max_database_age_days: int = DEFAULT_MAX_DATABASE_AGE_DAYS
    """Advisories whose newest record is older are refused by ``anya-ext audit --update``
    (unless ``--allow-old``) and reported as stale in the install summary."""


def load_audit_settings(
    config: LayeredConfig, *, environ: Mapping[str, str] | None = None
) -> AuditSettings:
    """The ``[audit]`` section of a layered configuration, checked against
    :data:`AUDIT_SCHEMA`; a ConfigError names every wrong value and where it was set."""
    if not config.section(SECTION):
        # Nothing set: the defaults need no checking, and jsonschema costs 0.1 s to import.
        return AuditSettings(
            advisories=data_dir(environ) / ADVISORIES_FILE,
            log=audit_log_path(None, environ=environ),
            policy=GatePolicy(),
        )
    from anya_plugins.config.schema import validate_section

    section = validate_section(SECTION, AUDIT_SCHEMA, config)
    return AuditSettings(
        advisories=_path(section.get("advisories")) or data_dir(environ) / ADVISORIES_FILE,
        log=audit_log_path(section.get("log"), environ=environ),
        policy=GatePolicy(
            max_severity=as_level(section["max_severity"]),
            unknown_severity=as_level(section["unknown_severity"]),
            ignore=tuple(sorted(set(section["ignore"]))),
        ),
        require_database=section["require_database"],
        max_database_age_days=section["max_database_age_days"],
    )


def audit_log_path(
    configured: str | None = None, *, environ: Mapping[str, str] | None = None
) -> Path:
    """``ANYA_AUDIT_LOG`` when set, else ``configured`` (``audit.log``), else ``audit.jsonl`` in
    the data directory."""
    env = os.environ if environ is None else environ
    return _path(env.get(LOG_ENV)) or _path(configured) or data_dir(environ) / LOG_FILE_NAME


def data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``ANYA_DATA_DIR`` when set (as the host reads it), else the user data directory."""
    env = os.environ if environ is None else environ
    configured = _path(env.get(DATA_DIR_ENV))
    if configured is not None:
        return configured
    import platformdirs

    return platformdirs.user_data_path("anya")


def _path(value: str | None) -> Path | None:
    return Path(value).expanduser() if value else None
