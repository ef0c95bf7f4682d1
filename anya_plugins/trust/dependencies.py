"""What is checked of a third-party dependency: the ``[trust] dependencies`` policy.

Extensions (``anya-ext-*``) are verified by :func:`~anya_plugins.trust.verification.verify_file`
under the publishers and rules of their source. A dependency that is no extension (a
PyPI package through the registry's upstream mirror, ``anya-plugins`` itself) is held to
``TrustPolicy.dependencies`` instead; every outcome says, in one line for the install
summary, what was checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

from anya_plugins.metadata.taxonomy import DIST_NAME_PREFIX
from anya_plugins.trust.errors import MissingSignature, VerificationFailed
from anya_plugins.trust.policy import Publisher, TrustPolicy
from anya_plugins.trust.verification import (
    Evidence,
    TrustDecision,
    Unsigned,
    file_sha256,
    read_evidence,
    verify_file,
    verify_signer,
)


@dataclass(frozen=True)
class DependencyCheck:
    """The decision kept for receipts and the audit log, and the summary line."""

    decision: TrustDecision
    summary: str


def is_extension(dist_name: str) -> bool:
    return str(canonicalize_name(dist_name)).startswith(DIST_NAME_PREFIX)


def verify_dependency(
    path: Path,
    *,
    provenance: bytes | None,
    dist_name: str,
    version: str,
    source: str,
    policy: TrustPolicy,
    offline: bool = False,
) -> DependencyCheck:
    """Check a dependency's file under ``policy.dependencies``; raises VerificationFailed.

    The file's sha256 was compared with the index's before this is called.
    """
    mode = policy.dependencies
    label = f"{dist_name} {version} (dependency, trust.dependencies = {mode!r})"
    if mode == "signed":
        if provenance is None:
            raise MissingSignature(
                path.name,
                "is a dependency without a PEP 740 provenance on its index, and "
                'trust.dependencies = "signed" requires one',
                hint="sign and publish it with attestations, or set trust.dependencies = "
                '"provenance-if-served"',
            )
        decision = verify_file(
            path, bundle=None, attestation=provenance, dist_name=dist_name, source=source,
            policy=policy, offline=offline,
        )  # fmt: skip
        return DependencyCheck(decision, f"{label}: sha256 and signature by {_signer(decision)}")
    if mode == "sha256" or provenance is None:
        decision = TrustDecision(
            path.name, file_sha256(path), dist_name, source, unsigned=Unsigned.NOT_REQUIRED
        )
        why = "provenance not checked" if mode == "sha256" else "no provenance served"
        return DependencyCheck(decision, f"{label}: sha256 only ({why})")
    decision = _verify_provenance(path, provenance, dist_name, source, policy, offline)
    return DependencyCheck(decision, f"{label}: sha256 and provenance by {_signer(decision)}")


def _verify_provenance(
    path: Path, provenance: bytes, dist_name: str, source: str, policy: TrustPolicy, offline: bool
) -> TrustDecision:
    """By the publishers configured for the name; when there are none, by whoever signed it
    (the signature must still verify; the publisher pin then holds that signer)."""
    if policy.publishers_for(dist_name, source):
        return verify_file(
            path, bundle=None, attestation=provenance, dist_name=dist_name, source=source,
            policy=policy, offline=offline,
        )  # fmt: skip
    evidence = read_evidence(provenance, subject=path.name, supplied_as=Evidence.ATTESTATION)
    signers = evidence.signers()
    if not signers:
        raise VerificationFailed(path.name, "its provenance holds no attestation")
    signer = signers[0]
    if signer.identity is None or signer.issuer is None:
        raise VerificationFailed(
            path.name, f"its provenance's certificate names no identity or issuer ({signer})"
        )
    sha256 = file_sha256(path)
    signatures = verify_signer(
        path.name, sha256, evidence,
        signer=Publisher(signer.identity, signer.issuer, names=(dist_name,)),
        trusted_root=policy.trusted_root, offline=offline,
    )  # fmt: skip
    return TrustDecision(path.name, sha256, dist_name, source, signatures)


def _signer(decision: TrustDecision) -> str:
    return f"{decision.identity} (issuer {decision.issuer})"
