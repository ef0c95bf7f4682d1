"""Who a Sigstore signing certificate names: its identities and the OIDC issuer that vouched.

Read here, not through sigstore's policies, so that a refusal can say which signer was found
as well as which were expected. Fulcio records the issuer twice: extension
1.3.6.1.4.1.57264.1.8 (a DER UTF8String, current) and 1.3.6.1.4.1.57264.1.1 (raw bytes,
deprecated but still written); the first one present wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.x509 import Certificate

ISSUER_V2_OID = "1.3.6.1.4.1.57264.1.8"
ISSUER_V1_OID = "1.3.6.1.4.1.57264.1.1"
OTHERNAME_SAN_OID = "1.3.6.1.4.1.57264.1.7"


@dataclass(frozen=True)
class CertificateIdentity:
    """The identities (subject alternative names) and issuer a certificate names."""

    identities: tuple[str, ...]
    issuer: str | None

    @property
    def identity(self) -> str | None:
        """The first identity; Fulcio certificates name exactly one."""
        return self.identities[0] if self.identities else None

    def __str__(self) -> str:
        names = ", ".join(self.identities) or "no identity"
        return f"{names} (issuer {self.issuer or 'unknown'})"


def certificate_identity(certificate: Certificate) -> CertificateIdentity:
    """The identities and issuer ``certificate`` names (nothing is verified here)."""
    from cryptography import x509

    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        identities: list[str] = []
    else:
        identities = [
            *names.get_values_for_type(x509.RFC822Name),
            *names.get_values_for_type(x509.UniformResourceIdentifier),
            *(
                other.value.decode(errors="replace")
                for other in names.get_values_for_type(x509.OtherName)
                if other.type_id.dotted_string == OTHERNAME_SAN_OID
            ),
        ]
    return CertificateIdentity(tuple(identities), _issuer(certificate))


def _issuer(certificate: Certificate) -> str | None:
    from cryptography import x509
    from cryptography.hazmat import asn1

    for oid in (ISSUER_V2_OID, ISSUER_V1_OID):
        try:
            extension = certificate.extensions.get_extension_for_oid(x509.ObjectIdentifier(oid))
        except x509.ExtensionNotFound:
            continue
        value = extension.value
        if not isinstance(value, x509.UnrecognizedExtension):
            continue
        try:
            return (
                str(asn1.decode_der(str, value.value))
                if oid == ISSUER_V2_OID
                else value.value.decode()
            )
        except ValueError:
            continue
    return None
