"""The one error a local Sigstore instance raises for its operator."""

from __future__ import annotations

from anya_plugins.errors import AnyaError
from anya_plugins.trust.errors import TrustError


class LocalInstanceError(TrustError):
    """The local Sigstore instance cannot be created, loaded or started."""

    # The instance's own command line exits 1 on any error, as it did before trust errors
    # had their own code; scripts that start an instance may test for it.
    exit_code = AnyaError.exit_code
