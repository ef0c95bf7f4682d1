"""sigstore-python signs against the local instance and verifies offline against its root.

Only public sigstore API does the real work: ``SigningContext`` / ``Signer`` to sign
(artifacts as hashedrekord entries, in-toto statements as DSSE entries), ``Verifier``
with a ``policy.Identity`` to verify.
"""

from __future__ import annotations

import re

import pytest
from sigstore.dsse import DigestSet, StatementBuilder, Subject
from sigstore.errors import CertValidationError, VerificationError
from sigstore.models import Bundle, ClientTrustConfig
from sigstore.oidc import IdentityToken
from sigstore.sign import SigningContext
from sigstore.verify import Verifier, policy

from anya_sigstore_local import LocalSigstore
from tests.trust.support import ALICE, WORKFLOW, Sign, signer_for

ARTIFACT = b"anya_ext_demo-1.0.0-py3-none-any.whl contents"


@pytest.mark.parametrize("identity", [ALICE, WORKFLOW], ids=["email", "workflow-uri"])
def test_an_identity_signs_and_verifies(
    sign: Sign, verifier: Verifier, local_sigstore: LocalSigstore, identity: str
) -> None:
    bundle = sign(ARTIFACT, identity)

    verifier.verify_artifact(
        ARTIFACT, bundle, policy.Identity(identity=identity, issuer=local_sigstore.issuer_url)
    )


def test_every_entry_of_a_growing_log_verifies(
    sign: Sign, verifier: Verifier, local_sigstore: LocalSigstore
) -> None:
    artifacts = [f"artifact {number}".encode() for number in range(7)]

    bundles = [sign(artifact, ALICE) for artifact in artifacts]

    indexes = [bundle.log_entry._inner.log_index for bundle in bundles]
    assert indexes == sorted(indexes)
    for artifact, bundle in zip(artifacts, bundles, strict=True):
        verifier.verify_artifact(
            artifact, bundle, policy.Identity(identity=ALICE, issuer=local_sigstore.issuer_url)
        )


def test_one_changed_byte_fails_the_digest_check(
    sign: Sign, verifier: Verifier, local_sigstore: LocalSigstore
) -> None:
    bundle = sign(ARTIFACT, ALICE)
    tampered = bytes([ARTIFACT[0] ^ 1]) + ARTIFACT[1:]

    with pytest.raises(VerificationError, match="digest mismatch"):
        verifier.verify_artifact(
            tampered, bundle, policy.Identity(identity=ALICE, issuer=local_sigstore.issuer_url)
        )


def test_a_bundle_for_another_file_fails_the_digest_check(
    sign: Sign, verifier: Verifier, local_sigstore: LocalSigstore
) -> None:
    other_bundle = sign(b"another distribution file", ALICE)

    with pytest.raises(VerificationError, match="digest mismatch"):
        verifier.verify_artifact(
            ARTIFACT,
            other_bundle,
            policy.Identity(identity=ALICE, issuer=local_sigstore.issuer_url),
        )


def test_another_identity_in_the_policy_fails_the_san_check(
    sign: Sign, verifier: Verifier, local_sigstore: LocalSigstore
) -> None:
    bundle = sign(ARTIFACT, ALICE)

    with pytest.raises(VerificationError, match=re.escape("SANs do not match mallory@example.com")):
        verifier.verify_artifact(
            ARTIFACT,
            bundle,
            policy.Identity(identity="mallory@example.com", issuer=local_sigstore.issuer_url),
        )


def test_another_issuer_in_the_policy_fails_the_issuer_check(
    sign: Sign, verifier: Verifier
) -> None:
    bundle = sign(ARTIFACT, ALICE)

    with pytest.raises(VerificationError, match="OIDCIssuer does not match"):
        verifier.verify_artifact(
            ARTIFACT,
            bundle,
            policy.Identity(identity=ALICE, issuer="https://accounts.google.com"),
        )


def test_a_certificate_from_an_untrusted_authority_fails_the_chain_check(
    untrusted_sigstore: LocalSigstore, verifier: Verifier
) -> None:
    bundle = signer_for(untrusted_sigstore)(ARTIFACT, ALICE)

    with pytest.raises(CertValidationError, match="failed to build timestamp certificate chain"):
        verifier.verify_artifact(
            ARTIFACT,
            bundle,
            policy.Identity(identity=ALICE, issuer=untrusted_sigstore.issuer_url),
        )


def test_an_in_toto_statement_signs_as_dsse_and_verifies(
    local_sigstore: LocalSigstore, verifier: Verifier
) -> None:
    statement = (
        StatementBuilder()
        .subjects([Subject(name="demo-1.0.tar.gz", digest=DigestSet({"sha256": "ab" * 32}))])
        .predicate_type("https://docs.pypi.org/attestations/publish/v1")
        .build()
    )
    config = ClientTrustConfig.from_json(local_sigstore.trust_config_path.read_text())
    token = IdentityToken(local_sigstore.issue_token(WORKFLOW))
    with SigningContext.from_trust_config(config).signer(token) as signer:
        bundle = Bundle.from_json(signer.sign_dsse(statement).to_json())

    payload_type, payload = verifier.verify_dsse(
        bundle, policy.Identity(identity=WORKFLOW, issuer=local_sigstore.issuer_url)
    )

    assert payload_type == "application/vnd.in-toto+json"
    assert b"demo-1.0.tar.gz" in payload
