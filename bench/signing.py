"""Signing for the benchmarks: a local Sigstore instance, PEP 740 attestations made with
our own signing API, and the trust policy that accepts exactly that signer."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from anya_plugins.trust.policy import Publisher, TrustPolicy
from anya_plugins.trust.signing import attest_files
from anya_sigstore_local import LocalSigstore

IDENTITY = "release@bench.anya.invalid"
"""The one publisher the benchmarks sign as and the policy trusts."""


def attest(sigstore: LocalSigstore, files: Sequence[Path]) -> list[Path]:
    """``<file>.publish.attestation`` for each file, one certificate for all of them."""
    return attest_files(
        files,
        identity_token=sigstore.issue_token(IDENTITY),
        trust_config=sigstore.trust_config_path,
    )


def policy(sigstore: LocalSigstore) -> TrustPolicy:
    """Signatures required; only :data:`IDENTITY` from the local issuer, for any name."""
    return TrustPolicy(
        trusted_root=sigstore.trusted_root_path,
        require_signatures=True,
        publishers=(Publisher(IDENTITY, sigstore.issuer_url, ("*",)),),
    )


def trust_toml(sigstore: LocalSigstore) -> str:
    """The same policy as the ``[trust]`` section of an Anya configuration file."""
    return (
        "[trust]\n"
        f"trusted_root = {json.dumps(str(sigstore.trusted_root_path))}\n"
        "require_signatures = true\n\n"
        "[[trust.publishers]]\n"
        f"identity = {json.dumps(IDENTITY)}\n"
        f"issuer = {json.dumps(sigstore.issuer_url)}\n"
        'names = ["*"]\n'
    )
