"""The publisher pins of an environment, and the audit log anchor kept beside them: listing
them (``anya-ext trust pins``) and changing one deliberately (``anya-ext trust repin``).

Both live in ``<prefix>/.anya-trust/``, apart from the receipts: a receipt goes when its
distribution is uninstalled, a pin stays (see :mod:`anya_plugins.trust.pins`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from packaging.utils import canonicalize_name

from anya_plugins.install.environment import TargetEnvironment
from anya_plugins.trust.pins import PinStore, PublisherPin

if TYPE_CHECKING:
    from anya_plugins.install.service import Target

TRUST_STATE_DIR: Final = ".anya-trust"


def pins_file(env: TargetEnvironment) -> Path:
    return env.prefix / TRUST_STATE_DIR / "pins.json"


def pin_store(env: TargetEnvironment) -> PinStore:
    return PinStore(pins_file(env))


def audit_anchor(env: TargetEnvironment) -> Path:
    """Where the environment keeps the audit log's head as of its last entry about it."""
    return env.prefix / TRUST_STATE_DIR / "audit-head.json"


@dataclass(frozen=True)
class PinList:
    """``anya-ext trust pins``: the pins of one environment."""

    environment: str
    pins: tuple[PublisherPin, ...]


@dataclass(frozen=True)
class Repinned:
    """``anya-ext trust repin``: the pin before (None: there was none) and after."""

    name: str
    previous: PublisherPin | None
    pin: PublisherPin


def publisher_pins(target: Target) -> PinList:
    env = TargetEnvironment.of(target.python)
    pins = pin_store(env).pins()
    return PinList(str(env.prefix), tuple(pins[name] for name in sorted(pins)))


def repin_publisher(
    name: str, identity: str, target: Target, *, issuer: str | None = None
) -> Repinned:
    """Pin ``name`` to another signer, under the environment's lock, and say so in the audit
    log. Without ``issuer`` the pinned issuer is kept; a new pin needs one."""
    from anya_plugins.errors import UsageError
    from anya_plugins.install import journal
    from anya_plugins.install.auditing import audit_log
    from anya_plugins.install.service import _config
    from anya_plugins.install.specs import distribution_name

    env = TargetEnvironment.of(target.python)
    store = pin_store(env)
    with journal.exclusive(env):
        pins = store.pins()
        key = str(canonicalize_name(name))
        key = key if key in pins else distribution_name(name)
        previous = pins.get(key)
        issuer = issuer or (previous.issuer if previous is not None else None)
        if issuer is None:
            raise UsageError(f"{key} has no pin yet: say which issuer vouches for {identity}")
        pin = store.pin(key, identity, issuer)
    audit_log(_config(target), env).record(
        "trust-repin",
        extension=key,
        details={
            "from": None if previous is None else {"identity": previous.identity,
                                                   "issuer": previous.issuer},
            "to": {"identity": pin.identity, "issuer": pin.issuer},
            "environment": str(env.prefix),
        },
    )  # fmt: skip
    return Repinned(key, previous, pin)
