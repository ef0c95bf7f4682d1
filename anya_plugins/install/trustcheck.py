"""The trust policy as install checks: every file's provenance verified before install, and
its signer compared with the one pinned for its distribution. Extensions are verified under
their source's rules; third-party dependencies under ``[trust] dependencies``, each with a
line in the install summary saying what was checked."""

from __future__ import annotations

from anya_plugins.install.transaction import Candidate, FileCheck
from anya_plugins.trust.dependencies import is_extension, verify_dependency
from anya_plugins.trust.pins import PinStore, PublisherChanged, publisher_change
from anya_plugins.trust.policy import TrustPolicy
from anya_plugins.trust.verification import TrustDecision, prepare_verifier, verify_file


def trust_check(
    policy: TrustPolicy,
    *,
    allow_unsigned: bool,
    decisions: list[TrustDecision],
    notes: list[str] | None = None,
) -> FileCheck:
    """A check that verifies each candidate under ``policy`` and keeps the decisions
    (identities found, or why an unsigned file was let in) for the receipts and the audit log;
    for each dependency, what was checked goes to ``notes``."""

    offline = policy.trusted_root is not None
    warming = prepare_verifier(policy, offline=offline)

    def check(candidate: Candidate) -> None:
        warming.join()
        if not is_extension(candidate.pin.name):
            checked = verify_dependency(
                candidate.path, provenance=candidate.provenance, dist_name=candidate.pin.name,
                version=candidate.pin.version, source=candidate.source, policy=policy,
                offline=offline,
            )  # fmt: skip
            decisions.append(checked.decision)
            if notes is not None:
                notes.append(checked.summary)
            return
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


def publisher_pin_check(
    store: PinStore, policy: TrustPolicy, *, decisions: list[TrustDecision], notes: list[str]
) -> FileCheck:
    """A check, after :func:`trust_check`, that each verified file's signer is the one pinned
    for its distribution: another one (or none) is refused, or — with
    ``trust.on_publisher_change = "warn"`` — let in with a line in the summary."""

    def check(candidate: Candidate) -> None:
        decision = next(d for d in reversed(decisions) if d.filename == candidate.link.filename)
        change = publisher_change(
            store.get(candidate.pin.name), decision.filename, decision.identity, decision.issuer
        )
        if change is None:
            return
        if policy.on_publisher_change == "refuse":
            raise PublisherChanged(change)
        notes.append(change.warning())

    return check
