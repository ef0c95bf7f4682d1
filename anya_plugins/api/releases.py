"""Releases over time on a registry: sign in to an index, then yank, un-yank, deprecate or
delete (what ``anya-ext publish``, ``yank``, ``unyank``, ``deprecate`` and ``delete`` use)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from anya_plugins.registry.devpi import Credentials
    from anya_plugins.registry.releases import ReleaseChange


@dataclass(frozen=True)
class RegistryAccount:
    """A user signed in to one index of a registry: where to send changes, and as whom."""

    url: str
    index: str
    """``user/index``, e.g. ``anya/primary``."""
    credentials: Credentials

    @classmethod
    def sign_in(
        cls,
        index: str,
        *,
        url: str | None = None,
        user: str | None = None,
        password: str | None = None,
        state_dir: Path | None = None,
    ) -> RegistryAccount:
        """``user`` (default: the index owner) with ``password``; without ``url``, on the
        embedded registry (which must be running), where a missing password is the one it
        stored for the layout user. A usage error when no password is known."""
        from anya_plugins.errors import UsageError
        from anya_plugins.registry.devpi import Credentials
        from anya_plugins.registry.embedded import registry_status, user_credentials

        name = user or index.split("/", 1)[0]
        credentials = Credentials(name, password) if password else None
        if url is None:
            current = registry_status(state_dir)
            if not current.running:
                raise UsageError(
                    "the embedded registry is not running", hint="anya-ext registry up"
                )
            url = str(current.url)
            credentials = credentials or user_credentials(name, state_dir)
        if credentials is None:
            raise UsageError(
                f"no password for {name}", hint="export ANYA_PUBLISH_PASSWORD=<password>"
            )
        return cls(url, index, credentials)


class ReleaseManager:
    """Changes to published releases, made as ``account`` on its index; each returns what
    the registry did, or raises ``ReleaseChangeRefused`` saying why it would not."""

    def __init__(self, account: RegistryAccount) -> None:
        self.account = account

    def yank(self, name: str, version: str, *, reason: str = "") -> ReleaseChange:
        """Yank a release (PEP 592): installers take it only when pinned exactly."""
        from anya_plugins.registry.releases import yank

        account = self.account
        return yank(account.url, account.index, name, version, account.credentials, reason=reason)

    def unyank(self, name: str, version: str) -> ReleaseChange:
        """Serve a yanked release as an ordinary one again."""
        from anya_plugins.registry.releases import unyank

        account = self.account
        return unyank(account.url, account.index, name, version, account.credentials)

    def deprecate(
        self, name: str, message: str | None, *, version: str | None = None
    ) -> ReleaseChange:
        """Deprecate one release (``version``) or the whole project (its PEP 792 status),
        with ``message`` shown by search, info and install; None lifts the deprecation."""
        from anya_plugins.registry.releases import deprecate

        account = self.account
        return deprecate(
            account.url, account.index, name, account.credentials, message=message, version=version
        )

    def delete(self, name: str, version: str) -> ReleaseChange:
        """Delete a release and its files (volatile indexes only)."""
        from anya_plugins.registry.releases import delete

        account = self.account
        return delete(account.url, account.index, name, version, account.credentials)
