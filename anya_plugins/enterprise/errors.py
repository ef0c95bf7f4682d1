"""Errors of the enterprise policy and the private registry's credentials."""

from __future__ import annotations

from anya_plugins.errors import AnyaError, ConfigError


class PolicyError(ConfigError):
    """The enterprise policy file is missing, unreadable or has invalid fields."""


class CredentialsMissing(AnyaError):
    """No credentials for the private registry in the environment or the keyring."""

    exit_code = 4
