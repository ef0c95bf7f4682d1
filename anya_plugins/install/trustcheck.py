"""The trust policy as an install check: every file's provenance verified before install."""

from __future__ import annotations

from anya_plugins.install.transaction import Candidate, FileCheck
from anya_plugins.trust.policy import TrustPolicy
from anya_plugins.trust.verification import TrustDecision, prepare_verifier, verify_file


def trust_check(
    policy: TrustPolicy, *, allow_unsigned: bool, decisions: list[TrustDecision]
) -> FileCheck:
    """A check that verifies each candidate under ``policy`` and keeps the decisions
    (identities found, or why an unsigned file was let in) for the receipts and the audit log."""

    offline = policy.trusted_root is not None
    warming = prepare_verifier(policy, offline=offline)

    def check(candidate: Candidate) -> None:
        warming.join()
        decisions.append(
            verify_file(
                candidate.path,
                bundle=None,
                attestation=candidate.provenance,
                dist_name=candidate.pin.name,
                source=candidate.source,
                policy=policy,
                allow_unsigned=allow_unsigned,
                offline=offline,
            )
        )

    return check
