"""Publisher pins: the signer each extension was first installed with (trust on first use).

SSH remembers a host's key the first time it connects and refuses — loudly — a different key
later, even one some other rule would accept. Pins do the same for publishers: the first
verified install of a distribution records the identity and OIDC issuer that signed it, and a
later file of that distribution signed by anyone else is a publisher change, refused (or
warned about, by ``trust.on_publisher_change``) whatever globs the policy's publishers use.
A pin changes only deliberately (``anya-ext trust repin``).

The pins of one environment live in one JSON file beside its receipts but apart from them
(``<prefix>/.anya-trust/pins.json``): a pin outlives an uninstall, as a known_hosts line
outlives a closed connection, so that removing and reinstalling an extension does not clear
its publisher. They are written atomically, by callers that hold the environment's lock.

```json
{"pins-version": 1,
 "pins": {"anya-ext-lightning": {"identity": "release@anya.example",
                                 "issuer": "https://issuer.example", "pinned_at": "..."}}}
```
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from packaging.utils import canonicalize_name

from anya_plugins.trust.errors import TrustError

PINS_FORMAT: Final = 1


class PinsError(TrustError):
    """The pins file cannot be read or written."""


class PublisherChanged(TrustError):
    """A file is signed by someone other than the publisher pinned for its distribution."""

    def __init__(self, change: PublisherChange) -> None:
        super().__init__(
            f"{change.filename}: {change.dist_name} is pinned to {change.pinned}, but this "
            f"file is {change.found_text}: the publisher changed",
            hint=f"nothing was changed; if the new publisher is right, pin it with 'anya-ext "
            f"trust repin {change.dist_name} --identity ... --issuer ...' (or set "
            'trust.on_publisher_change = "warn")',
        )
        self.change = change


@dataclass(frozen=True)
class PublisherPin:
    """Who signed a distribution when it was pinned."""

    name: str
    identity: str
    issuer: str | None
    pinned_at: str
    """When it was pinned (UTC, ISO 8601)."""

    def __str__(self) -> str:
        return f"{self.identity} (issuer {self.issuer or 'unknown'})"

    def matches(self, identity: str | None, issuer: str | None) -> bool:
        return identity == self.identity and issuer == self.issuer


@dataclass(frozen=True)
class PublisherChange:
    """A file whose signer is not its distribution's pinned one."""

    dist_name: str
    filename: str
    pinned: PublisherPin
    identity: str | None
    """The signer found, None for an unsigned file."""
    issuer: str | None

    @property
    def found_text(self) -> str:
        if self.identity is None:
            return "unsigned"
        return f"signed by {self.identity} (issuer {self.issuer or 'unknown'})"

    def warning(self) -> str:
        return (
            f"publisher changed: {self.filename} is {self.found_text}, but {self.dist_name} is "
            f'pinned to {self.pinned} (installed: trust.on_publisher_change = "warn"; '
            "the pin is kept until 'anya-ext trust repin')"
        )


class PinStore:
    """The pins file at ``path``. Callers hold the environment's lock while they change it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def pins(self) -> dict[str, PublisherPin]:
        """Every pin, by normalised distribution name; none when the file does not exist."""
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as error:
            raise PinsError(
                f"{self.path}: the publisher pins cannot be read: {error}",
                hint="restore the file from a backup, or repin each extension",
            ) from None
        if not isinstance(data, dict) or data.get("pins-version") != PINS_FORMAT:
            raise PinsError(f"{self.path}: not a pins file of version {PINS_FORMAT}")
        try:
            return {
                name: PublisherPin(
                    name=name,
                    identity=str(entry["identity"]),
                    issuer=None if entry.get("issuer") is None else str(entry["issuer"]),
                    pinned_at=str(entry["pinned_at"]),
                )
                for name, entry in data["pins"].items()
            }
        except (KeyError, TypeError, AttributeError) as error:
            raise PinsError(f"{self.path}: a pin is incomplete: {error}") from None

    def get(self, name: str) -> PublisherPin | None:
        return self.pins().get(canonicalize_name(name))

    def pin(self, name: str, identity: str, issuer: str | None) -> PublisherPin:
        """Pin ``name`` to this signer (replacing any pin it had) and return the pin."""
        return self.pin_all({name: (identity, issuer)})[str(canonicalize_name(name))]

    def pin_all(self, signers: Mapping[str, tuple[str, str | None]]) -> dict[str, PublisherPin]:
        """Pin each name of ``signers`` to its (identity, issuer), replacing any pin it had,
        in one write; the new pins by normalised name."""
        from anya_plugins.config.atomic import write_atomic

        pins = self.pins()
        now = datetime.now(UTC).isoformat(timespec="seconds")
        new = {
            key: PublisherPin(key, identity, issuer, now)
            for key, (identity, issuer) in (
                (str(canonicalize_name(name)), signer) for name, signer in signers.items()
            )
        }
        pins.update(new)
        document: dict[str, Any] = {
            "pins-version": PINS_FORMAT,
            "pins": {
                pinned.name: {
                    "identity": pinned.identity,
                    "issuer": pinned.issuer,
                    "pinned_at": pinned.pinned_at,
                }
                for pinned in sorted(pins.values(), key=lambda pinned: pinned.name)
            },
        }
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, json.dumps(document, indent=2, sort_keys=True) + "\n")
        except OSError as error:
            raise PinsError(
                f"{self.path}: the publisher pins cannot be written: {error.strerror or error}"
            ) from None
        return new


def publisher_change(
    pin: PublisherPin | None, filename: str, identity: str | None, issuer: str | None
) -> PublisherChange | None:
    """The change, when a file of the pinned distribution has another signer (or none)."""
    if pin is None or pin.matches(identity, issuer):
        return None
    return PublisherChange(pin.name, filename, pin, identity, issuer)
