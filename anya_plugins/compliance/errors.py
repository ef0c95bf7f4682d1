"""Errors of compliance reporting."""

from __future__ import annotations

from anya_plugins.errors import AnyaError


class ComplianceError(AnyaError):
    """A report cannot be built, rendered or sent."""

    exit_code = 8
