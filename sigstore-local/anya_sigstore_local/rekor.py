"""A local Rekor (v1 API) over the transparency log, for ``hashedrekord`` and ``dsse`` 0.0.1.

It answers what sigstore-python's ``RekorClient`` calls: ``POST /api/v1/log/entries``
to integrate an entry, ``GET /api/v1/log/entries/{uuid}``, ``GET /api/v1/log/entries?logIndex=``
and ``POST /api/v1/log/entries/retrieve`` to find one, ``GET /api/v1/log`` for the tree head
and ``GET /api/v1/log/publicKey``. Like Rekor, it checks the signature against the key in
the entry before integrating it, stores its canonical body (RFC 8785) and answers with the
signed entry timestamp and an inclusion proof with a signed checkpoint.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, TypeVar

import rfc8785
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from anya_sigstore_local.http_service import HttpError, Request, Response, Route
from anya_sigstore_local.keys import public_key_pem
from anya_sigstore_local.tlog import DuplicateEntry, LogEntry, TransparencyLog

API_PREFIX = "/api/v1"

_Decoded = TypeVar("_Decoded")

_DIGESTS: dict[str, hashes.HashAlgorithm] = {
    "sha256": hashes.SHA256(),
    "sha384": hashes.SHA384(),
    "sha512": hashes.SHA512(),
}


class Rekor:
    """Rekor's v1 REST API in front of ``log``."""

    def __init__(self, log: TransparencyLog) -> None:
        self._log = log

    def routes(self) -> list[Route]:
        """The Rekor v1 endpoints Sigstore clients call."""
        prefix = re.escape(API_PREFIX)
        return [
            Route("GET", f"{prefix}/log", self._tree_head),
            Route("GET", f"{prefix}/log/publicKey", self._public_key),
            Route("POST", f"{prefix}/log/entries", self._create_entry),
            Route("GET", f"{prefix}/log/entries", self._entry_by_index),
            Route(
                "GET", f"{prefix}/log/entries/(?P<uuid>[0-9a-fA-F]{{64,80}})", self._entry_by_uuid
            ),
            Route("POST", f"{prefix}/log/entries/retrieve/?", self._retrieve),
        ]

    def entry_response(self, entry: LogEntry) -> dict[str, Any]:
        """``{uuid: LogEntry}`` as Rekor v1 returns an entry, with a proof in the current tree."""
        proof = self._log.prove(entry)
        return {
            entry.uuid: {
                "body": base64.b64encode(entry.body).decode(),
                "integratedTime": entry.integrated_time,
                "logID": self._log.log_id.hex(),
                "logIndex": entry.index,
                "verification": {
                    "inclusionProof": {
                        "checkpoint": proof.head.checkpoint,
                        "hashes": [node.hex() for node in proof.hashes],
                        "logIndex": proof.log_index,
                        "rootHash": proof.head.root_hash.hex(),
                        "treeSize": proof.head.size,
                    },
                    "signedEntryTimestamp": base64.b64encode(
                        self._log.signed_entry_timestamp(entry)
                    ).decode(),
                },
            }
        }

    def _create_entry(self, request: Request) -> Response:
        body = canonical_entry(request.json_object())
        try:
            entry = self._log.append(body)
        except DuplicateEntry as duplicate:
            raise HttpError(
                HTTPStatus.CONFLICT, f"{duplicate} (uuid {duplicate.existing.uuid})"
            ) from duplicate
        return Response.json(self.entry_response(entry), HTTPStatus.CREATED)

    def _entry_by_uuid(self, request: Request) -> Response:
        entry = self._log.find(request.params["uuid"])
        if entry is None:
            raise HttpError(HTTPStatus.NOT_FOUND, f"no entry with uuid {request.params['uuid']}")
        return Response.json(self.entry_response(entry))

    def _entry_by_index(self, request: Request) -> Response:
        try:
            index = int(request.query["logIndex"][0])
        except (KeyError, ValueError) as error:
            raise HttpError(HTTPStatus.BAD_REQUEST, "give ?logIndex=<integer>") from error
        entry = self._log.entry(index)
        if entry is None:
            raise HttpError(HTTPStatus.NOT_FOUND, f"no entry at index {index}")
        return Response.json(self.entry_response(entry))

    def _retrieve(self, request: Request) -> Response:
        document = request.json_object()
        found: list[LogEntry | None] = []
        for proposed in _list_field(document, "entries"):
            if not isinstance(proposed, dict):
                raise HttpError(HTTPStatus.BAD_REQUEST, "'entries' must hold entry objects")
            found.append(self._log.find_body(canonical_entry(proposed)))
        for uuid in _list_field(document, "entryUUIDs"):
            found.append(self._log.find(str(uuid)))
        return Response.json([self.entry_response(entry) for entry in found if entry is not None])

    def _tree_head(self, request: Request) -> Response:
        head = self._log.tree_head()
        return Response.json(
            {
                "rootHash": head.root_hash.hex(),
                "treeSize": head.size,
                "signedTreeHead": head.checkpoint,
                "treeID": str(self._log.tree_id),
            }
        )

    def _public_key(self, request: Request) -> Response:
        return Response(
            HTTPStatus.OK, public_key_pem(self._log.public_key), "application/x-pem-file"
        )


def canonical_entry(proposed: dict[str, Any]) -> bytes:
    """The canonical body of a proposed entry whose signatures verify; a 400 answer otherwise.

    Only the fields Rekor keeps survive, serialized as RFC 8785 JSON: the body that is
    hashed into the tree and that verifiers compare with the bundle.
    """
    kind_version = (proposed.get("kind"), proposed.get("apiVersion"))
    spec = proposed.get("spec")
    if not isinstance(spec, dict):
        raise HttpError(HTTPStatus.BAD_REQUEST, "the entry has no 'spec' object")
    try:
        if kind_version == ("hashedrekord", "0.0.1"):
            canonical_spec = _hashedrekord_spec(spec)
        elif kind_version == ("dsse", "0.0.1"):
            canonical_spec = _dsse_spec(spec)
        else:
            raise HttpError(
                HTTPStatus.BAD_REQUEST,
                f"unsupported entry {kind_version[0]!r} {kind_version[1]!r}:"
                " this log accepts hashedrekord 0.0.1 and dsse 0.0.1",
            )
    except (KeyError, TypeError) as error:
        raise HttpError(
            HTTPStatus.BAD_REQUEST, f"{kind_version[0]} spec lacks or mistypes {error}"
        ) from error
    return rfc8785.dumps({"apiVersion": "0.0.1", "kind": kind_version[0], "spec": canonical_spec})


def _hashedrekord_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """A signature over a digest: the digest, the signature and the key (or certificate)."""
    algorithm = spec["data"]["hash"]["algorithm"]
    digest_algorithm = _DIGESTS.get(algorithm)
    if digest_algorithm is None:
        raise HttpError(HTTPStatus.BAD_REQUEST, f"unsupported hash algorithm {algorithm!r}")
    digest = _decode(bytes.fromhex, spec["data"]["hash"]["value"], "the hash value")
    signature = _decode(_b64decode, spec["signature"]["content"], "the signature")
    key_pem = _decode(_b64decode, spec["signature"]["publicKey"]["content"], "the public key")
    if len(digest) != digest_algorithm.digest_size:
        raise HttpError(HTTPStatus.BAD_REQUEST, f"a {algorithm} digest has the wrong length")
    try:
        _verifying_key(key_pem).verify(signature, digest, ec.ECDSA(Prehashed(digest_algorithm)))
    except InvalidSignature as error:
        raise HttpError(
            HTTPStatus.BAD_REQUEST, "the signature does not verify against the given key"
        ) from error
    return {
        "data": {"hash": {"algorithm": algorithm, "value": digest.hex()}},
        "signature": {
            "content": base64.b64encode(signature).decode(),
            "publicKey": {"content": base64.b64encode(key_pem).decode()},
        },
    }


def _dsse_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """A DSSE envelope: its hash, its payload's hash and every signature with its verifier.

    As in Rekor, every signature must verify under one of the proposed verifiers, and
    the envelope is hashed exactly as submitted.
    """
    envelope_json: str = spec["proposedContent"]["envelope"]
    verifier_pems = [
        _decode(_b64decode, verifier, "a verifier")
        for verifier in spec["proposedContent"]["verifiers"]
    ]
    envelope = _decode(json.loads, envelope_json, "the envelope")
    payload = _decode(_b64decode, envelope["payload"], "the payload")
    pae = _pae(envelope["payloadType"], payload)
    signatures = []
    for entry in envelope["signatures"]:
        signature = _decode(_b64decode, entry["sig"], "a signature")
        verifier = next(
            (pem for pem in verifier_pems if _verifies(_verifying_key(pem), signature, pae)), None
        )
        if verifier is None:
            raise HttpError(
                HTTPStatus.BAD_REQUEST, "a DSSE signature verifies under none of the verifiers"
            )
        signatures.append(
            {
                "signature": base64.b64encode(signature).decode(),
                "verifier": base64.b64encode(verifier).decode(),
            }
        )
    if not signatures:
        raise HttpError(HTTPStatus.BAD_REQUEST, "the DSSE envelope carries no signature")
    return {
        "envelopeHash": {"algorithm": "sha256", "value": _sha256_hex(envelope_json.encode())},
        "payloadHash": {"algorithm": "sha256", "value": _sha256_hex(payload)},
        "signatures": sorted(signatures, key=lambda item: item["signature"]),
    }


def _pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding, what an envelope's signatures sign."""
    return b"DSSEv1 %d %s %d %s" % (
        len(payload_type.encode()),
        payload_type.encode(),
        len(payload),
        payload,
    )


def _verifies(key: ec.EllipticCurvePublicKey, signature: bytes, data: bytes) -> bool:
    try:
        key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def _decode(decoder: Callable[[str], _Decoded], value: str, what: str) -> _Decoded:
    try:
        return decoder(value)
    except (ValueError, TypeError, binascii.Error) as error:
        raise HttpError(HTTPStatus.BAD_REQUEST, f"cannot decode {what}: {error}") from error


def _b64decode(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _verifying_key(pem: bytes) -> ec.EllipticCurvePublicKey:
    """The ECDSA key of a PEM certificate or PEM public key."""
    key: object
    try:
        if b"CERTIFICATE" in pem:
            key = x509.load_pem_x509_certificate(pem).public_key()
        else:
            key = serialization.load_pem_public_key(pem)
    except ValueError as error:
        raise HttpError(
            HTTPStatus.BAD_REQUEST, "publicKey is neither a PEM certificate nor a PEM key"
        ) from error
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise HttpError(HTTPStatus.BAD_REQUEST, "only ECDSA keys are supported")
    return key


def _list_field(document: dict[str, Any], name: str) -> list[Any]:
    value = document.get(name, [])
    if not isinstance(value, list):
        raise HttpError(HTTPStatus.BAD_REQUEST, f"'{name}' must be a list")
    return value
