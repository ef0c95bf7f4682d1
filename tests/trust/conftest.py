"""sigstore-python's own signer and verifier on the session's local Sigstore instances
(``local_sigstore`` and ``untrusted_sigstore``, from tests/conftest.py). The ``publishing``
fixtures sign on the same instances through ``anya_plugins.trust.signing``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sigstore.models import TrustedRoot
from sigstore.verify import Verifier

from anya_sigstore_local import LocalSigstore
from tests.trust.publishing import LIGHTNING, Publishing, write_wheel
from tests.trust.support import Sign, signer_for


@pytest.fixture(scope="session")
def sign(local_sigstore: LocalSigstore) -> Sign:
    """Sign with the trusted local instance."""
    return signer_for(local_sigstore)


@pytest.fixture(scope="session")
def verifier(local_sigstore: LocalSigstore) -> Verifier:
    """sigstore-python's verifier, trusting only the local instance's trusted root."""
    return Verifier(trusted_root=TrustedRoot.from_file(str(local_sigstore.trusted_root_path)))


@pytest.fixture(scope="session")
def publishing(local_sigstore: LocalSigstore) -> Publishing:
    """Sign with the trusted instance through ``anya_plugins.trust.signing``."""
    return Publishing(local_sigstore, trusted_root=local_sigstore.trusted_root_path)


@pytest.fixture(scope="session")
def untrusted_publishing(
    untrusted_sigstore: LocalSigstore, local_sigstore: LocalSigstore
) -> Publishing:
    """Sign with the untrusted instance; its policies still trust only the trusted one."""
    return Publishing(untrusted_sigstore, trusted_root=local_sigstore.trusted_root_path)


@pytest.fixture
def wheel(tmp_path: Path) -> Path:
    """A fresh wheel of ``anya-ext-lightning`` for each test, free to be changed."""
    return write_wheel(tmp_path, LIGHTNING)
