"""The certificate transparency log Fulcio asks for a precertificate SCT (RFC 6962).

Only the signing half of a CT log is needed offline: the SCT is the log's signed
promise to publish the precertificate, and Sigstore verifiers check that signature
against the ``ctlogs`` key of their trusted root. Nobody reads the log back, so
nothing is stored.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.asn1 import encode_der
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtensionOID

from anya_sigstore_local.keys import PrivateKey, PublicKey, key_id

_SCT_VERSION_V1 = 0
_SIGNATURE_TYPE_CERTIFICATE_TIMESTAMP = 0
_ENTRY_TYPE_PRECERTIFICATE = 1
_HASH_SHA256 = 4
_SIGNATURE_ECDSA = 3


class CertificateTransparencyLog:
    """Signs SCTs for precertificates with the CT log key."""

    def __init__(self, key: PrivateKey) -> None:
        self._key = key

    @property
    def log_id(self) -> bytes:
        """The log's ID: SHA-256 of its public key, as SCTs and trusted roots name it."""
        return key_id(self._key.public_key())

    def sign_precertificate(
        self, tbs_precertificate: bytes, issuer_key: PublicKey, timestamp: datetime
    ) -> bytes:
        """A serialized SCT over ``tbs_precertificate`` issued under ``issuer_key``.

        ``tbs_precertificate`` is the TBSCertificate of the final certificate without
        its SCT list extension, which is what verifiers reconstruct
        (``Certificate.tbs_precertificate_bytes``).
        """
        milliseconds = int(timestamp.timestamp() * 1000)
        extensions = b""
        signed = (
            struct.pack(
                "!BBQH",
                _SCT_VERSION_V1,
                _SIGNATURE_TYPE_CERTIFICATE_TIMESTAMP,
                milliseconds,
                _ENTRY_TYPE_PRECERTIFICATE,
            )
            + key_id(issuer_key)
            + _u24_prefixed(tbs_precertificate)
            + _u16_prefixed(extensions)
        )
        signature = self._key.sign(signed, ec.ECDSA(hashes.SHA256()))
        return (
            struct.pack("!B", _SCT_VERSION_V1)
            + self.log_id
            + struct.pack("!Q", milliseconds)
            + _u16_prefixed(extensions)
            + struct.pack("!BB", _HASH_SHA256, _SIGNATURE_ECDSA)
            + _u16_prefixed(signature)
        )


def embedded_scts_extension(scts: Sequence[bytes]) -> x509.UnrecognizedExtension:
    """The X.509 extension that embeds ``scts`` in a certificate (RFC 6962, section 3.3)."""
    sct_list = _u16_prefixed(b"".join(_u16_prefixed(sct) for sct in scts))
    return x509.UnrecognizedExtension(
        ExtensionOID.PRECERT_SIGNED_CERTIFICATE_TIMESTAMPS, encode_der(sct_list)
    )


def _u16_prefixed(data: bytes) -> bytes:
    return struct.pack("!H", len(data)) + data


def _u24_prefixed(data: bytes) -> bytes:
    return struct.pack("!I", len(data))[1:] + data
