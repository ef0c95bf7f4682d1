"""How old the Sigstore trusted root is that offline verification (``trust.offline``) uses.

Offline, no TUF refresh is made, so the root in use never learns of a key rotation or a
revocation; the older it is, the more it misses. ``trust.max_root_age_days`` bounds that, and
the age is measured for each kind of root by what says when its content was current:

- The public-good root (no ``trust.trusted_root``): the file sigstore-python itself reads in
  offline mode, i.e. the root as its TUF client last fetched and verified it, or as
  sigstore-python ships it when it never fetched one. Its age is the time since the newest
  validity start it lists (a Rekor log shard, Fulcio CA, CT log or timestamp authority): the
  public-good instance adds keys regularly (a new Rekor shard each year), and a root's content
  says nothing else about when it was current. The file's own time says when it was copied.
- A site's root (``trust.trusted_root``): the time since the file was last modified, i.e. since
  the site last distributed it. A private instance's keys may never rotate, so their validity
  dates would call a freshly distributed root old.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from anya_plugins.trust.errors import StaleTrustedRoot, TrustError, TrustPolicyError, first_line

PUBLIC_GOOD_TUF_URL = "https://tuf-repo-cdn.sigstore.dev"
REFRESH_HINT = (
    "set trust.trusted_root to a current trusted_root.json your site distributes, upgrade "
    "sigstore-python (it ships a newer public-good root), or raise trust.max_root_age_days "
    "to accept the risk"
)


@dataclass(frozen=True)
class RootAge:
    """Which trusted root offline verification uses, and since when its content is current."""

    described: str
    """The root, for messages: which file, and where it came from."""
    current_as_of: datetime
    """What its age is measured from (aware, UTC)."""
    measured_by: str
    """What :attr:`current_as_of` is, for messages."""

    def age(self, now: datetime | None = None) -> timedelta:
        return (now or datetime.now(UTC)) - self.current_as_of

    def check(self, max_age_days: int, now: datetime | None = None) -> None:
        """Raise :class:`StaleTrustedRoot` when older than ``max_age_days``."""
        age = self.age(now)
        if age <= timedelta(days=max_age_days):
            return
        raise StaleTrustedRoot(
            f"the Sigstore trusted root used offline is {age.days} days old, older than "
            f"trust.max_root_age_days = {max_age_days}: {self.described}, {self.measured_by} "
            f"{self.current_as_of:%Y-%m-%d}. Offline it has seen no key rotation or revocation "
            "since, and signatures made with newer keys do not verify",
            hint=REFRESH_HINT,
        )


def root_age(trusted_root: Path | None) -> RootAge:
    """The age of the root offline verification uses: the site's ``trusted_root`` file, or the
    public-good root sigstore-python reads offline. Raises :class:`TrustError` (a
    :class:`TrustPolicyError` for the site's file) when it cannot be read."""
    if trusted_root is not None:
        return _site_root_age(trusted_root)
    return _public_good_root_age()


def newest_validity_start(document: Mapping[str, Any]) -> datetime:
    """The latest ``validFor.start`` of the keys and certificate authorities a trusted root
    JSON document lists (tlogs, ctlogs, certificateAuthorities, timestampAuthorities).

    Raises ValueError when it lists none or one is not a date.
    """
    starts = [datetime.fromisoformat(start) for start in _validity_starts(document)]
    if not starts:
        raise ValueError("it lists no key or certificate authority with a validity start")
    return max(start if start.tzinfo else start.replace(tzinfo=UTC) for start in starts)


def _validity_starts(document: Mapping[str, Any]) -> Iterator[str]:
    for kind in ("tlogs", "ctlogs"):
        for log in document.get(kind) or ():
            yield log["publicKey"]["validFor"]["start"]
    for kind in ("certificateAuthorities", "timestampAuthorities"):
        for authority in document.get(kind) or ():
            yield authority["validFor"]["start"]


def _site_root_age(path: Path) -> RootAge:
    try:
        modified = path.stat().st_mtime
    except OSError as error:
        raise TrustPolicyError(
            "trusted_root", f"{path}: cannot read: {error.strerror or error}"
        ) from error
    return RootAge(
        described=f"trust.trusted_root {path}",
        current_as_of=datetime.fromtimestamp(modified, UTC),
        measured_by="last distributed (modified)",
    )


def _public_good_root_age() -> RootAge:
    from sigstore import __version__
    from sigstore._internal.tuf import TrustUpdater
    from sigstore._utils import read_embedded
    from sigstore.errors import Error as SigstoreError

    try:
        # The very file Verifier.production(offline=True) reads: the TUF cache, which the
        # updater first fills from the root sigstore-python ships when it is empty.
        path = Path(TrustUpdater(PUBLIC_GOOD_TUF_URL, offline=True).get_trusted_root_path())
        content = path.read_bytes()
        start = newest_validity_start(json.loads(content))
        shipped = content == read_embedded("trusted_root.json", PUBLIC_GOOD_TUF_URL)
    except (OSError, SigstoreError, ValueError, KeyError, TypeError) as error:
        raise TrustError(
            f"cannot read the Sigstore public-good trusted root kept for offline use: "
            f"{first_line(error)}",
            hint="set trust.trusted_root to a trusted root file your site distributes",
        ) from error
    origin = (
        f"as sigstore-python {__version__} ships it"
        if shipped
        else "as sigstore-python last fetched it through TUF"
    )
    return RootAge(
        described=f"the public-good root {origin} ({path})",
        current_as_of=start,
        measured_by="its newest key valid from",
    )
