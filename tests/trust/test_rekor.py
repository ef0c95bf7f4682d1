"""The local Rekor checks what it logs and answers like Rekor v1."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from sigstore.models import Bundle

from anya_sigstore_local import LocalSigstore
from tests.trust.support import ALICE, Sign, http_json


def proposed_entry(bundle: Bundle, artifact: bytes) -> dict[str, Any]:
    """The hashedrekord a signer proposes for ``artifact`` with ``bundle``'s signature."""
    certificate_pem = bundle.signing_certificate.public_bytes(Encoding.PEM)
    return {
        "kind": "hashedrekord",
        "apiVersion": "0.0.1",
        "spec": {
            "signature": {
                "content": base64.b64encode(bundle.signature).decode(),
                "publicKey": {"content": base64.b64encode(certificate_pem).decode()},
            },
            "data": {
                "hash": {"algorithm": "sha256", "value": hashlib.sha256(artifact).hexdigest()}
            },
        },
    }


def entries_url(sigstore: LocalSigstore) -> str:
    return f"{sigstore.urls.rekor}/api/v1/log/entries"


def tree_size(sigstore: LocalSigstore) -> int:
    status, log = http_json("GET", f"{sigstore.urls.rekor}/api/v1/log")
    assert status == 200
    size = log["treeSize"]
    assert isinstance(size, int)
    return size


def test_a_signature_that_does_not_verify_is_refused_and_not_logged(
    sign: Sign, local_sigstore: LocalSigstore
) -> None:
    bundle = sign(b"signed artifact", ALICE)
    size_before = tree_size(local_sigstore)

    status, error = http_json(
        "POST", entries_url(local_sigstore), proposed_entry(bundle, b"another artifact")
    )

    assert status == 400
    assert error["message"] == "the signature does not verify against the given key"
    assert tree_size(local_sigstore) == size_before


def test_the_same_entry_twice_is_a_conflict_naming_the_first(
    sign: Sign, local_sigstore: LocalSigstore
) -> None:
    bundle = sign(b"logged once", ALICE)

    status, error = http_json(
        "POST", entries_url(local_sigstore), proposed_entry(bundle, b"logged once")
    )

    assert status == 409
    assert f"index {bundle.log_entry._inner.log_index}" in error["message"]


def test_entry_kinds_other_than_hashedrekord_and_dsse_are_refused(
    local_sigstore: LocalSigstore,
) -> None:
    status, error = http_json(
        "POST", entries_url(local_sigstore), {"kind": "rekord", "apiVersion": "0.0.1", "spec": {}}
    )

    assert status == 400
    assert "accepts hashedrekord 0.0.1 and dsse 0.0.1" in error["message"]


def test_a_dsse_envelope_signed_by_another_key_is_refused(
    sign: Sign, local_sigstore: LocalSigstore
) -> None:
    certificate_pem = sign(b"any", ALICE).signing_certificate.public_bytes(Encoding.PEM)
    payload_type, payload = "application/vnd.in-toto+json", b"{}"
    other_key = ec.generate_private_key(ec.SECP256R1())
    pae = b"DSSEv1 %d %s %d %s" % (len(payload_type), payload_type.encode(), len(payload), payload)
    envelope = {
        "payload": base64.b64encode(payload).decode(),
        "payloadType": payload_type,
        "signatures": [
            {"sig": base64.b64encode(other_key.sign(pae, ec.ECDSA(hashes.SHA256()))).decode()}
        ],
    }
    proposed = {
        "kind": "dsse",
        "apiVersion": "0.0.1",
        "spec": {
            "proposedContent": {
                "envelope": json.dumps(envelope),
                "verifiers": [base64.b64encode(certificate_pem).decode()],
            }
        },
    }

    status, error = http_json("POST", entries_url(local_sigstore), proposed)

    assert status == 400
    assert error["message"] == "a DSSE signature verifies under none of the verifiers"


def test_a_logged_entry_is_found_by_uuid_and_by_index(
    sign: Sign, local_sigstore: LocalSigstore
) -> None:
    bundle = sign(b"look me up", ALICE)
    index = bundle.log_entry._inner.log_index
    body = base64.b64encode(bundle.log_entry._inner.canonicalized_body).decode()
    uuid = hashlib.sha256(b"\x00" + bundle.log_entry._inner.canonicalized_body).hexdigest()

    by_uuid = http_json("GET", f"{entries_url(local_sigstore)}/{uuid}")
    by_index = http_json("GET", f"{entries_url(local_sigstore)}?logIndex={index}")

    for status, answer in (by_uuid, by_index):
        assert status == 200
        assert answer[uuid]["body"] == body
        assert answer[uuid]["logIndex"] == index


def test_an_unknown_endpoint_is_a_json_404(local_sigstore: LocalSigstore) -> None:
    status, error = http_json("GET", f"{local_sigstore.urls.rekor}/api/v2/log")

    assert status == 404
    assert error == {"code": 404, "message": "no such endpoint: /api/v2/log"}
