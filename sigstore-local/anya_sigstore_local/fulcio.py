"""A local Fulcio: turns an identity token and a CSR into a short-lived signing certificate.

It answers what sigstore-python's ``FulcioClient`` asks: ``POST /api/v2/signingCert``
(token in the ``Authorization`` header, base64 PEM CSR in the body) and
``GET /api/v2/trustBundle``. Certificates follow Fulcio's profile, which Sigstore
verifiers check: empty subject, the identity in a critical SAN (email or URI), the
token's issuer in extensions 1.3.6.1.4.1.57264.1.1 (raw) and .1.8 (DER UTF8String),
code-signing EKU, and exactly one embedded precertificate SCT from the CT log.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from http import HTTPStatus

from cryptography import x509
from cryptography.hazmat.asn1 import encode_der
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from anya_sigstore_local.authority import CertificateAuthority
from anya_sigstore_local.ct_log import (
    CertificateTransparencyLog,
    embedded_scts_extension,
)
from anya_sigstore_local.http_service import HttpError, Request, Response, Route
from anya_sigstore_local.oidc import InvalidToken, VerifiedIdentity, is_uri

SIGNING_CERT_PATH = "/api/v2/signingCert"
TRUST_BUNDLE_PATH = "/api/v2/trustBundle"
CERTIFICATE_LIFETIME = timedelta(minutes=10)
OIDC_ISSUER_OID = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
OIDC_ISSUER_V2_OID = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.8")

_ACCEPTED_CURVES = (ec.SECP256R1, ec.SECP384R1)

TokenVerifier = Callable[[str], VerifiedIdentity]


class Fulcio:
    """Issues signing certificates from ``ca`` for identities ``verify_token`` vouches for.

    ``ca_chain`` is what a client receives after its certificate: ``ca`` first, then up
    to the root.
    """

    def __init__(
        self,
        *,
        ca: CertificateAuthority,
        ca_chain: Sequence[x509.Certificate],
        ct_log: CertificateTransparencyLog,
        verify_token: TokenVerifier,
        lifetime: timedelta = CERTIFICATE_LIFETIME,
    ) -> None:
        self._ca = ca
        self._ca_chain = list(ca_chain)
        self._ct_log = ct_log
        self._verify_token = verify_token
        self._lifetime = lifetime

    def issue_certificate(
        self,
        public_key: ec.EllipticCurvePublicKey,
        identity: VerifiedIdentity,
        now: datetime | None = None,
    ) -> x509.Certificate:
        """A certificate for ``public_key`` naming ``identity``, with its SCT embedded."""
        start = (now or datetime.now(UTC)).replace(microsecond=0)
        if identity.email is not None:
            san: x509.GeneralName = x509.RFC822Name(identity.email)
        elif is_uri(identity.subject):
            san = x509.UniformResourceIdentifier(identity.subject)
        else:
            raise HttpError(
                HTTPStatus.BAD_REQUEST,
                "identity token carries neither a verified email nor a URI subject",
            )
        precertificate = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([]))
            .issuer_name(self._ca.certificate.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + self._lifetime)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._ca.key.public_key()),
                critical=False,
            )
            .add_extension(x509.SubjectAlternativeName([san]), critical=True)
            .add_extension(
                x509.UnrecognizedExtension(OIDC_ISSUER_OID, identity.issuer.encode()),
                critical=False,
            )
            .add_extension(
                x509.UnrecognizedExtension(OIDC_ISSUER_V2_OID, encode_der(identity.issuer)),
                critical=False,
            )
        )
        # The SCT signs the certificate as it is without the SCT list, so it is computed
        # over a first signing of the same builder, which then gets the list appended.
        tbs_precertificate = precertificate.sign(
            self._ca.key, self._ca.signature_hash
        ).tbs_certificate_bytes
        sct = self._ct_log.sign_precertificate(
            tbs_precertificate, self._ca.key.public_key(), timestamp=start
        )
        return precertificate.add_extension(embedded_scts_extension([sct]), critical=False).sign(
            self._ca.key, self._ca.signature_hash
        )

    def routes(self) -> list[Route]:
        """Fulcio's v2 REST endpoints that Sigstore clients call."""
        return [
            Route("POST", re.escape(SIGNING_CERT_PATH), self._signing_cert),
            Route("GET", re.escape(TRUST_BUNDLE_PATH), self._trust_bundle),
        ]

    def _signing_cert(self, request: Request) -> Response:
        document = request.json_object()
        try:
            identity = self._verify_token(_bearer_token(request, document))
        except InvalidToken as error:
            raise HttpError(HTTPStatus.UNAUTHORIZED, str(error)) from error
        certificate = self.issue_certificate(_csr_public_key(document), identity)
        return Response.json(
            {
                "signedCertificateEmbeddedSct": {
                    "chain": {"certificates": _pem_chain([certificate, *self._ca_chain])}
                }
            },
            HTTPStatus.CREATED,
        )

    def _trust_bundle(self, request: Request) -> Response:
        return Response.json({"chains": [{"certificates": _pem_chain(self._ca_chain)}]})


def _bearer_token(request: Request, document: dict[str, object]) -> str:
    """The token from ``Authorization: Bearer`` (sigstore-python) or the body (cosign)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token:
        return token
    credentials = document.get("credentials")
    if isinstance(credentials, dict) and isinstance(credentials.get("oidcIdentityToken"), str):
        return str(credentials["oidcIdentityToken"])
    raise HttpError(HTTPStatus.UNAUTHORIZED, "no identity token: send 'Authorization: Bearer'")


def _csr_public_key(document: dict[str, object]) -> ec.EllipticCurvePublicKey:
    """The public key of the base64 PEM CSR in the body, once its self-signature checks out."""
    encoded = document.get("certificateSigningRequest")
    if not isinstance(encoded, str):
        raise HttpError(HTTPStatus.BAD_REQUEST, "'certificateSigningRequest' is missing")
    try:
        csr = x509.load_pem_x509_csr(base64.b64decode(encoded, validate=True))
    except (binascii.Error, ValueError) as error:
        raise HttpError(
            HTTPStatus.BAD_REQUEST, "'certificateSigningRequest' is not a base64 PEM CSR"
        ) from error
    if not csr.is_signature_valid:
        raise HttpError(HTTPStatus.BAD_REQUEST, "the CSR's signature does not verify")
    public_key = csr.public_key()
    if not (
        isinstance(public_key, ec.EllipticCurvePublicKey)
        and isinstance(public_key.curve, _ACCEPTED_CURVES)
    ):
        raise HttpError(
            HTTPStatus.BAD_REQUEST, "only ECDSA P-256 and P-384 keys can be certified here"
        )
    return public_key


def _pem_chain(certificates: Sequence[x509.Certificate]) -> list[str]:
    return [
        certificate.public_bytes(serialization.Encoding.PEM).decode()
        for certificate in certificates
    ]
