"""``anya-ext enterprise policy [FILE]``: check the organisation's policy file and show the
configuration keys it sets (``registry.private.*``) and where each value comes from."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from anya_plugins.cli import render


def register(commands: argparse._SubParsersAction[Any], only: str | None = None) -> None:
    """Add this module's one command (``only`` is it, or None for every command)."""
    enterprise = commands.add_parser("enterprise", help="the organisation's policy file")
    actions = enterprise.add_subparsers(dest="enterprise_action", metavar="ACTION", required=True)
    policy = actions.add_parser(
        "policy", help="check enterprise-registry.yml (or .toml) and show what it sets"
    )
    policy.add_argument(
        "file", nargs="?", type=Path, default=None, help="default: $ANYA_ENTERPRISE_POLICY"
    )
    policy.set_defaults(handler=policy_command)


def policy_command(args: argparse.Namespace) -> int:
    from anya_plugins.enterprise.policy import view_policy

    view = view_policy(args.file, environ=os.environ, overrides=tuple(args.config_overrides))
    if args.json:
        render.say(render.to_json(view))
        return 0
    policy = view.policy
    render.say(f"{policy.path}: valid policy of {policy.organization}")
    render.table(None, ("key", "value", "origin"), [(k, str(v), o) for k, v, o in view.settings])
    security = policy.security
    render.say(
        f"security: signatures {'required' if security.require_signatures else 'optional'}, "
        f"publishers {', '.join(p.identity for p in security.allowed_publishers) or '-'}, "
        f"audit logging "
        f"{'on' if security.audit_logging else 'off'}, vulnerability scanning "
        f"{'on' if security.vulnerability_scanning else 'off'}"
    )
    reporting = policy.compliance.reporting
    render.say(
        f"compliance: {', '.join(policy.compliance.standards) or '-'}, {reporting.frequency} "
        f"to {', '.join(reporting.recipients) or '-'}"
    )
    return 0
