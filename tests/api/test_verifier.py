"""Verifier: a file against its attestation under the configuration's trust policy, and its
checksum; signed with the local Sigstore instance."""

from __future__ import annotations

from pathlib import Path

import pytest

from anya_plugins import Configuration, Verifier
from anya_plugins.trust.errors import VerificationFailed
from anya_plugins.trust.signing import attest_files
from anya_sigstore_local import LocalSigstore

SIGNER = "release@anya.example"


@pytest.fixture(scope="module")
def signed(local_sigstore: LocalSigstore, tmp_path_factory: pytest.TempPathFactory) -> Path:
    wheel = tmp_path_factory.mktemp("signed") / "anya_ext_vault-1.0.0-py3-none-any.whl"
    wheel.write_bytes(b"the wheel's bytes")
    attest_files(
        [wheel],
        identity_token=local_sigstore.issue_token(SIGNER),
        trust_config=local_sigstore.trust_config_path,
    )
    return wheel


def _policy(sigstore: LocalSigstore, identity: str) -> Configuration:
    return Configuration(
        values={
            "trust": {
                "trusted_root": str(sigstore.trusted_root_path),
                "require_signatures": True,
                "publishers": [
                    {"identity": identity, "issuer": sigstore.issuer_url, "names": ["anya-ext-*"]}
                ],
            }
        }
    )


def test_a_file_signed_by_an_allowed_publisher_verifies_naming_them(
    signed: Path, local_sigstore: LocalSigstore
) -> None:
    verifier = Verifier(_policy(local_sigstore, SIGNER))

    result = verifier.verify(signed, attestation=Path(f"{signed}.publish.attestation"))

    assert (result.dist_name, result.how, result.identity) == (
        "anya-ext-vault", "attestation", SIGNER,
    )  # fmt: skip
    assert result.issuer == local_sigstore.issuer_url


def test_a_signer_the_policy_does_not_name_is_refused(
    signed: Path, local_sigstore: LocalSigstore
) -> None:
    verifier = Verifier(_policy(local_sigstore, "someone@else.example"))

    with pytest.raises(VerificationFailed, match=r"someone@else\.example"):
        verifier.verify(signed, attestation=Path(f"{signed}.publish.attestation"))


def test_an_unsigned_file_is_refused_where_signatures_are_required(
    signed: Path, local_sigstore: LocalSigstore
) -> None:
    with pytest.raises(VerificationFailed):
        Verifier(_policy(local_sigstore, SIGNER)).verify(signed)


def test_checksum_is_the_sha256_and_a_mismatch_is_refused(signed: Path) -> None:
    import hashlib

    expected = hashlib.sha256(signed.read_bytes()).hexdigest()

    assert Verifier.checksum(signed) == expected == Verifier.checksum(signed, expected.upper())
    with pytest.raises(VerificationFailed, match="sha256"):
        Verifier.checksum(signed, "0" * 64)


def test_verify_identity_checks_any_file_without_a_policy(
    signed: Path, local_sigstore: LocalSigstore
) -> None:
    result = Verifier(Configuration()).verify_identity(
        signed,
        identity=SIGNER,
        issuer=local_sigstore.issuer_url,
        trusted_root=local_sigstore.trusted_root_path,
    )

    assert result.ok and result.identity == SIGNER
