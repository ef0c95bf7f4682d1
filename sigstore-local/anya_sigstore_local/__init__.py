"""A local Sigstore instance: OIDC issuer, Fulcio and Rekor v1 on 127.0.0.1, for offline use.

sigstore-python's own ``Signer`` and ``Verifier`` run against it unchanged; only the
client trust config differs from the public-good instance. For tests, demos and
air-gapped evaluation, not for production signing: keys are kept unencrypted on disk.

Start one in the foreground with ``python -m anya_sigstore_local serve DIR``. It is its own
distribution (``anya-sigstore-local``, ``sigstore-local/`` in the anya-plugins repository), so
the runtime wheel users install carries no signing service.
"""

from __future__ import annotations

from anya_sigstore_local.authority import Authority
from anya_sigstore_local.errors import LocalInstanceError
from anya_sigstore_local.instance import (
    InstanceRecord,
    LocalSigstore,
    ServicePorts,
    issue_token,
)
from anya_sigstore_local.trust_config import ServiceUrls

__all__ = [
    "Authority",
    "InstanceRecord",
    "LocalInstanceError",
    "LocalSigstore",
    "ServicePorts",
    "ServiceUrls",
    "issue_token",
]
