"""The documents a Sigstore client loads to use the local instance.

- the trusted root (``TrustedRoot``): the CA chain, transparency log key and CT log key
  that verification trusts; what ``Verifier(trusted_root=...)`` needs;
- the signing config: where the OIDC issuer, Fulcio and Rekor (v1) listen;
- the client trust config: both in one file, what ``ClientTrustConfig.from_json`` and
  ``sigstore --trust-config`` read.

No timestamp authority is listed: entries from Rekor v1 carry a signed integration time,
which is the verified time sigstore-python needs (Rekor v2 entries would need a TSA).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from anya_sigstore_local.authority import Authority
from anya_sigstore_local.keys import PublicKey, key_id, public_key_der

TRUSTED_ROOT_MEDIA_TYPE = "application/vnd.dev.sigstore.trustedroot+json;version=0.1"
SIGNING_CONFIG_MEDIA_TYPE = "application/vnd.dev.sigstore.signingconfig.v0.2+json"
CLIENT_TRUST_CONFIG_MEDIA_TYPE = "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json"
REKOR_API_VERSION = 1
FULCIO_API_VERSION = 1
OIDC_API_VERSION = 1

JsonObject = dict[str, Any]

_KEY_DETAILS = {256: "PKIX_ECDSA_P256_SHA_256", 384: "PKIX_ECDSA_P384_SHA_384"}


@dataclass(frozen=True)
class ServiceUrls:
    """Where the local services listen."""

    oidc_issuer: str
    fulcio: str
    rekor: str


def trusted_root(authority: Authority, urls: ServiceUrls) -> JsonObject:
    """The trusted root of ``authority``: what a verifier of its bundles must trust."""
    valid_for = {"start": _timestamp(authority.valid_from)}
    return {
        "mediaType": TRUSTED_ROOT_MEDIA_TYPE,
        "tlogs": [
            _log_instance(authority.transparency_log_key.public_key(), urls.rekor, valid_for)
        ],
        "certificateAuthorities": [
            {
                "subject": {"organization": authority.name, "commonName": authority.name},
                "uri": urls.fulcio,
                "certChain": {
                    "certificates": [
                        {"rawBytes": _b64(certificate.public_bytes(serialization.Encoding.DER))}
                        for certificate in authority.ca_chain
                    ]
                },
                "validFor": valid_for,
            }
        ],
        "ctlogs": [_log_instance(authority.ct_log_key.public_key(), urls.fulcio, valid_for)],
        "timestampAuthorities": [],
    }


def signing_config(authority: Authority, urls: ServiceUrls) -> JsonObject:
    """Where a signer finds the local OIDC issuer, Fulcio and Rekor."""
    operator = authority.name
    valid_for = {"start": _timestamp(authority.valid_from)}

    def service(url: str, major_api_version: int) -> JsonObject:
        return {
            "url": url,
            "majorApiVersion": major_api_version,
            "validFor": valid_for,
            "operator": operator,
        }

    return {
        "mediaType": SIGNING_CONFIG_MEDIA_TYPE,
        "caUrls": [service(urls.fulcio, FULCIO_API_VERSION)],
        "oidcUrls": [service(urls.oidc_issuer, OIDC_API_VERSION)],
        "rekorTlogUrls": [service(urls.rekor, REKOR_API_VERSION)],
        "tsaUrls": [],
        "rekorTlogConfig": {"selector": "ANY"},
        "tsaConfig": {"selector": "ANY"},
    }


def client_trust_config(authority: Authority, urls: ServiceUrls) -> JsonObject:
    """Trusted root and signing config in one document, as ``--trust-config`` takes it."""
    return {
        "mediaType": CLIENT_TRUST_CONFIG_MEDIA_TYPE,
        "trustedRoot": trusted_root(authority, urls),
        "signingConfig": signing_config(authority, urls),
    }


def write_json(path: Path, document: JsonObject) -> Path:
    """Write ``document`` to ``path`` (replacing it whole) and return ``path``."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(document, indent=2) + "\n")
    partial.replace(path)
    return path


def _log_instance(public_key: PublicKey, base_url: str, valid_for: JsonObject) -> JsonObject:
    return {
        "baseUrl": base_url,
        "hashAlgorithm": "SHA2_256",
        "publicKey": {
            "rawBytes": _b64(public_key_der(public_key)),
            "keyDetails": _key_details(public_key),
            "validFor": valid_for,
        },
        "logId": {"keyId": _b64(key_id(public_key))},
    }


def _key_details(public_key: PublicKey) -> str:
    if not isinstance(public_key.curve, ec.SECP256R1 | ec.SECP384R1):
        raise ValueError(f"no Sigstore key details for curve {public_key.curve.name}")
    return _KEY_DETAILS[public_key.curve.key_size]


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
