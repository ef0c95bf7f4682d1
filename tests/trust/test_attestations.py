"""PEP 740 attestations, as PyPI publishes them, verified against our own trusted root."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pypi_attestations import Attestation, Distribution
from pypi_attestations import VerificationError as AttestationVerificationError
from sigstore.verify import policy as sigstore_policy

from anya_plugins.registry.provenance import provenance_object, publisher
from anya_plugins.trust.errors import VerificationFailed
from tests.trust.publishing import (
    LIGHTNING,
    LIGHTNING_RELEASE,
    LIGHTNING_RELEASES,
    MALLORY,
    Publishing,
    flip_one_byte,
    verify,
    write_wheel,
)


def test_an_attestation_by_an_allowed_publisher_lets_the_wheel_in(
    publishing: Publishing, wheel: Path
) -> None:
    attestation = publishing.attestation(wheel, LIGHTNING_RELEASE)

    decision = verify(
        wheel, publishing.policy(publishing.publisher(LIGHTNING_RELEASES)), attestation=attestation
    )

    assert decision.how == "attestation"
    assert decision.identity == LIGHTNING_RELEASE


def test_an_attested_wheel_with_one_byte_changed_is_refused(
    publishing: Publishing, wheel: Path
) -> None:
    attestation = publishing.attestation(wheel, LIGHTNING_RELEASE)
    flip_one_byte(wheel)

    with pytest.raises(
        VerificationFailed, match=rf"its PEP 740 attestation is for {wheel.name} \(sha256"
    ):
        verify(
            wheel,
            publishing.policy(publishing.publisher(LIGHTNING_RELEASES)),
            attestation=attestation,
        )


def test_an_attestation_of_another_file_is_refused(
    publishing: Publishing, wheel: Path, tmp_path: Path
) -> None:
    other_version = write_wheel(tmp_path, LIGHTNING, version="1.1.0")
    attestation_of_other = publishing.attestation(other_version, LIGHTNING_RELEASE)

    with pytest.raises(
        VerificationFailed,
        match=rf"its PEP 740 attestation is for {other_version.name} .*not for this",
    ):
        verify(
            wheel,
            publishing.policy(publishing.publisher(LIGHTNING_RELEASES)),
            attestation=attestation_of_other,
        )


def test_an_attestation_by_a_signer_the_policy_does_not_allow_is_refused(
    publishing: Publishing, wheel: Path
) -> None:
    attestation = publishing.attestation(wheel, MALLORY)

    with pytest.raises(
        VerificationFailed, match=rf"its PEP 740 attestation.* is signed by {MALLORY}"
    ):
        verify(
            wheel,
            publishing.policy(publishing.publisher(LIGHTNING_RELEASES)),
            attestation=attestation,
        )


def test_an_attestation_from_an_untrusted_authority_is_refused(
    untrusted_publishing: Publishing, wheel: Path
) -> None:
    attestation = untrusted_publishing.attestation(wheel, LIGHTNING_RELEASE)
    policy = untrusted_publishing.policy(untrusted_publishing.publisher(LIGHTNING_RELEASES))

    with pytest.raises(
        VerificationFailed, match=r"its PEP 740 attestation was not made through a trusted"
    ):
        verify(wheel, policy, attestation=attestation)


def test_a_bundle_and_an_attestation_given_together_must_both_verify(
    publishing: Publishing, wheel: Path
) -> None:
    policy = publishing.policy(publishing.publisher(LIGHTNING_RELEASES))
    bundle = publishing.bundle(wheel, LIGHTNING_RELEASE)

    both = verify(
        wheel, policy, bundle=bundle, attestation=publishing.attestation(wheel, LIGHTNING_RELEASE)
    )
    assert both.how == "bundle+attestation"
    with pytest.raises(
        VerificationFailed, match=rf"its PEP 740 attestation.* is signed by {MALLORY}"
    ):
        verify(wheel, policy, bundle=bundle, attestation=publishing.attestation(wheel, MALLORY))


def provenance(*attestations: bytes) -> bytes:
    """The provenance object our index serves: attestations grouped under their uploader."""
    bundle = {
        "publisher": publisher("alice", "anya/primary"),
        "attestations": [json.loads(attestation) for attestation in attestations],
    }
    return json.dumps(provenance_object([bundle])).encode()


def test_a_provenance_object_as_the_index_serves_it_lets_the_wheel_in(
    publishing: Publishing, wheel: Path
) -> None:
    served = provenance(publishing.attestation(wheel, LIGHTNING_RELEASE))

    decision = verify(
        wheel, publishing.policy(publishing.publisher(LIGHTNING_RELEASES)), attestation=served
    )

    assert decision.how == "attestation"
    assert decision.identity == LIGHTNING_RELEASE


def test_every_attestation_of_a_provenance_object_must_verify(
    publishing: Publishing, wheel: Path
) -> None:
    served = provenance(
        publishing.attestation(wheel, LIGHTNING_RELEASE), publishing.attestation(wheel, MALLORY)
    )

    with pytest.raises(
        VerificationFailed, match=rf"its PEP 740 attestation.* is signed by {MALLORY}"
    ):
        verify(
            wheel, publishing.policy(publishing.publisher(LIGHTNING_RELEASES)), attestation=served
        )


def test_an_empty_provenance_object_is_refused(publishing: Publishing, wheel: Path) -> None:
    with pytest.raises(VerificationFailed, match=r"its PEP 740 provenance holds no attestation"):
        verify(
            wheel,
            publishing.policy(publishing.publisher(LIGHTNING_RELEASES)),
            attestation=provenance(),
        )


def test_an_attestation_that_is_not_pep_740_json_is_refused(
    publishing: Publishing, wheel: Path
) -> None:
    with pytest.raises(VerificationFailed, match=r"its PEP 740 attestation cannot be read"):
        verify(
            wheel,
            publishing.policy(publishing.publisher(LIGHTNING_RELEASES)),
            attestation=b'{"version": 1}',
        )


def test_pypi_attestations_own_verify_knows_only_the_public_good_root(
    publishing: Publishing, wheel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Why verification converts the attestation to a bundle for our own Verifier:
    ``Attestation.verify`` takes no verifier or root, so a private instance's fails."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    attestation = Attestation.model_validate_json(publishing.attestation(wheel, LIGHTNING_RELEASE))
    identity = sigstore_policy.Identity(
        identity=LIGHTNING_RELEASE, issuer=publishing.sigstore.issuer_url
    )

    with pytest.raises(AttestationVerificationError, match=r"certificate chain"):
        attestation.verify(identity, Distribution.from_file(wheel), offline=True)
