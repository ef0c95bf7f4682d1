"""Credentials for the organisation's private registry: from the environment or the system
keyring, never from a configuration file.

``$ANYA_REGISTRY_USER`` and ``$ANYA_REGISTRY_PASSWORD`` win; without the password the system
keyring is asked for the registry's host (``host:port``, then ``host``), as the credentials of
sources are (:mod:`anya_plugins.sources.credentials`): ``keyring set HOST USER``.
"""

from __future__ import annotations

from collections.abc import Mapping

from anya_plugins.enterprise.errors import CredentialsMissing
from anya_plugins.registry.devpi import Credentials
from anya_plugins.sources.private import PASSWORD_ENV, USER_ENV, private_credentials


def registry_credentials(url: str, user: str | None, environ: Mapping[str, str]) -> Credentials:
    """The user and password to sign in to the registry at ``url``; CredentialsMissing when
    neither the environment nor the keyring has them."""
    from urllib.parse import urlsplit

    found = private_credentials(url, user, environ)
    if found is not None:
        return Credentials(found.username, found.password)
    name = user or environ.get(USER_ENV) or None
    host = urlsplit(url).netloc
    raise CredentialsMissing(
        f"no password for {name or 'the registry user'} at {host}",
        hint=f"export {USER_ENV}=<user> {PASSWORD_ENV}=<password>, or keep it in the system "
        f"keyring: keyring set {host} <user>",
    )
