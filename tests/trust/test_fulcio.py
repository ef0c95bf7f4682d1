"""The local Fulcio certifies only identities its own issuer vouches for, in Fulcio's profile."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from anya_sigstore_local import LocalSigstore
from tests.trust.support import ALICE, http_json

OIDC_ISSUER = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.1")


def certificate_request() -> dict[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([]))
        .sign(key, hashes.SHA256())
    )
    pem = csr.public_bytes(serialization.Encoding.PEM)
    return {"certificateSigningRequest": base64.b64encode(pem).decode()}


def request_certificate(sigstore: LocalSigstore, token: str | None) -> tuple[int, Any]:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return http_json(
        "POST", f"{sigstore.urls.fulcio}/api/v2/signingCert", certificate_request(), headers
    )


def test_a_certificate_names_the_identity_and_its_issuer(local_sigstore: LocalSigstore) -> None:
    status, answer = request_certificate(local_sigstore, local_sigstore.issue_token(ALICE))

    assert status == 201
    leaf_pem, *chain = answer["signedCertificateEmbeddedSct"]["chain"]["certificates"]
    leaf = x509.load_pem_x509_certificate(leaf_pem.encode())
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert san.critical
    assert san.value.get_values_for_type(x509.RFC822Name) == [ALICE]
    issuer = leaf.extensions.get_extension_for_oid(OIDC_ISSUER).value
    assert isinstance(issuer, x509.UnrecognizedExtension)
    assert issuer.value == local_sigstore.issuer_url.encode()
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CODE_SIGNING]
    assert leaf.not_valid_after_utc - leaf.not_valid_before_utc == timedelta(minutes=10)
    assert [x509.load_pem_x509_certificate(pem.encode()) for pem in chain] == (
        local_sigstore.authority.ca_chain
    )


def test_a_token_from_another_issuer_is_unauthorized(
    local_sigstore: LocalSigstore, untrusted_sigstore: LocalSigstore
) -> None:
    status, error = request_certificate(local_sigstore, untrusted_sigstore.issue_token(ALICE))

    assert status == 401
    assert "identity token rejected" in error["message"]


def test_an_expired_token_is_unauthorized(local_sigstore: LocalSigstore) -> None:
    expired = local_sigstore.issue_token(ALICE, lifetime=timedelta(seconds=-60))

    status, error = request_certificate(local_sigstore, expired)

    assert status == 401
    assert "expired" in error["message"]


def test_a_request_without_a_token_is_unauthorized(local_sigstore: LocalSigstore) -> None:
    status, error = request_certificate(local_sigstore, None)

    assert status == 401
    assert "no identity token" in error["message"]


def test_the_trust_bundle_is_the_ca_chain(local_sigstore: LocalSigstore) -> None:
    status, answer = http_json("GET", f"{local_sigstore.urls.fulcio}/api/v2/trustBundle")

    assert status == 200
    (chain,) = answer["chains"]
    assert [x509.load_pem_x509_certificate(pem.encode()) for pem in chain["certificates"]] == (
        local_sigstore.authority.ca_chain
    )
