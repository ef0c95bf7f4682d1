"""Every installed distribution keeps the source it came from.

A receipt names the source a distribution was installed from (``primary``, ``community``,
``enterprise.<org>``). Replacing it from another source is refused unless the user asks
for the switch; a distribution from a private (enterprise) source is never replaced from
anywhere else — that is what dependency confusion would look like from the installer's
side. Distributions without a receipt (installed by plain pip) have no source to keep.
"""

from __future__ import annotations

from anya_plugins.install.environment import TargetEnvironment
from anya_plugins.install.receipts import Receipt, read_receipts
from anya_plugins.install.transaction import Candidate, FileCheck, InstallRefused


class SourceSwitchRefused(InstallRefused):
    """A distribution would be replaced from another source than the one it came from."""


def refuse_source_switch(receipt: Receipt | None, source: str, *, allow_switch: bool) -> None:
    """Raise when installing ``receipt.name`` from ``source`` would change its source."""
    if receipt is None or receipt.source == source:
        return
    if receipt.private:
        raise SourceSwitchRefused(
            f"{receipt.name} {receipt.version} was installed from {receipt.source}; "
            f"it is never replaced from {source} (a private name is only ever updated from "
            "its own source)",
            hint=f"update it from {receipt.source}, or uninstall it first if you really "
            "mean to take it from elsewhere",
        )
    if not allow_switch:
        raise SourceSwitchRefused(
            f"{receipt.name} {receipt.version} was installed from {receipt.source}, "
            f"not from {source}",
            hint=f"pass --switch-source to take it from {source} from now on",
        )


def source_switch_check(env: TargetEnvironment, *, allow_switch: bool) -> FileCheck:
    """The rule as an install check: each candidate against the receipt of what it replaces.
    Receipts are read when the first candidate is checked (after the transaction took the
    environment)."""
    receipts: dict[str, Receipt] = {}
    read = False

    def check(candidate: Candidate) -> None:
        nonlocal read
        if not read:
            receipts.update(read_receipts(env))
            read = True
        refuse_source_switch(
            receipts.get(candidate.pin.name), candidate.source, allow_switch=allow_switch
        )

    return check
