"""PEP 740 on the index: the attestations an upload carries, and the provenance object served.

Pure data, no devpi and no sigstore. The index checks what it can without a trust root: each
attestation is a version 1 attestation object whose DSSE envelope holds an in-toto v1
statement with exactly one subject, that subject names the uploaded file (compared as parsed
wheel or sdist names, as PEP 740 requires) with its sha256, and its predicate type is one
PEP 740 knows. Whether the signature chains to a trusted root and names the right publisher
is for the installer to verify (``anya_plugins.trust``); the index only keeps what it got.

The provenance object groups attestations into bundles by publisher. This index has no
Trusted Publishing, so the publisher is the devpi user who uploaded the attestations:
``{"kind": "anya-local", "claims": {"user": ..., "index": ...}}``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)

from anya_plugins.registry.errors import RegistryError

MEDIA_TYPE: Final = "application/vnd.pypi.integrity.v1+json"
"""PEP 740's media type of a provenance object."""

UPLOAD_FIELD: Final = "attestations"
"""The upload form field twine fills with a JSON array of attestation objects."""

PUBLISHER_KIND: Final = "anya-local"

IN_TOTO_STATEMENT: Final = "https://in-toto.io/Statement/v1"
PREDICATE_TYPES: Final = (
    "https://docs.pypi.org/attestations/publish/v1",
    "https://slsa.dev/provenance/v1",
)

Attestation = dict[str, Any]
Bundle = dict[str, Any]


class AttestationRefused(RegistryError):
    """An upload's attestations are malformed or are not about the uploaded file."""


def parse_attestations(field: str, *, filename: str, sha256: str) -> list[Attestation]:
    """The attestation objects of an ``attestations`` form field, each checked against the file.

    Raises AttestationRefused naming the file, the attestation (counted from 1) and the problem.
    """
    try:
        document = json.loads(field)
    except ValueError as exc:
        raise AttestationRefused(
            f"{filename}: the attestations field is not JSON: {exc}",
            hint="it is a JSON array of PEP 740 attestation objects, "
            "as 'twine upload --attestations' sends it",
        ) from None
    if not isinstance(document, list):
        raise AttestationRefused(
            f"{filename}: the attestations field is a JSON {type(document).__name__}, not an array"
        )
    for number, attestation in enumerate(document, start=1):
        problem = attestation_problem(attestation, filename=filename, sha256=sha256)
        if problem is not None:
            raise AttestationRefused(
                f"{filename}: attestation {number}: {problem}",
                hint="attest the very file that is uploaded, after it was built "
                "(python -m pypi_attestations sign, or anya-ext publish)",
            )
    return list(document)


def attestation_problem(attestation: object, *, filename: str, sha256: str) -> str | None:
    """What is wrong with one attestation object for this file, or None."""
    if not isinstance(attestation, dict):
        return "not a JSON object"
    if attestation.get("version") != 1:
        return f"version is {attestation.get('version')!r}, not 1"
    material = attestation.get("verification_material")
    if not isinstance(material, dict) or not _is_base64(material.get("certificate")):
        return "verification_material.certificate is missing or not base64"
    entries = material.get("transparency_entries")
    if not isinstance(entries, list) or not entries:
        return "verification_material.transparency_entries is missing or empty"
    envelope = attestation.get("envelope")
    if not isinstance(envelope, dict) or not _is_base64(envelope.get("signature")):
        return "envelope.signature is missing or not base64"
    try:
        statement = json.loads(base64.b64decode(str(envelope.get("statement")), validate=True))
    except (binascii.Error, ValueError):
        return "envelope.statement is not base64 of a JSON in-toto statement"
    return _statement_problem(statement, filename=filename, sha256=sha256)


def _statement_problem(statement: object, *, filename: str, sha256: str) -> str | None:
    if not isinstance(statement, dict) or statement.get("_type") != IN_TOTO_STATEMENT:
        return f"the statement is not an in-toto v1 statement ({IN_TOTO_STATEMENT})"
    subjects = statement.get("subject")
    if not isinstance(subjects, list) or len(subjects) != 1 or not isinstance(subjects[0], dict):
        return "the statement must name exactly one subject"
    name, digest = subjects[0].get("name"), subjects[0].get("digest")
    attested = digest.get("sha256") if isinstance(digest, dict) else None
    if not isinstance(name, str) or not isinstance(attested, str):
        return "the statement's subject has no name or no sha256 digest"
    if not same_distribution(name, filename) or attested.lower() != sha256.lower():
        return (
            f"it attests {name} with sha256 {attested}, "
            f"not the uploaded {filename} with sha256 {sha256}"
        )
    predicate_type = statement.get("predicateType")
    if predicate_type not in PREDICATE_TYPES:
        return (
            f"unknown predicate type {predicate_type!r}; PEP 740 knows {', '.join(PREDICATE_TYPES)}"
        )
    return None


def same_distribution(subject: str, filename: str) -> bool:
    """Whether two file names are the same wheel or sdist once parsed (names may be normalised)."""
    try:
        if filename.endswith(".whl"):
            return parse_wheel_filename(subject) == parse_wheel_filename(filename)
        return parse_sdist_filename(subject) == parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename):
        return subject == filename


def _is_base64(value: object) -> bool:
    if not isinstance(value, str) or not value:
        return False
    try:
        base64.b64decode(value, validate=True)
    except binascii.Error:
        return False
    return True


def publisher(user: str, index: str) -> dict[str, Any]:
    """The publisher of attestations uploaded by devpi user ``user`` to ``index``."""
    return {"kind": PUBLISHER_KIND, "claims": {"user": user, "index": index}}


def new_attestations(offered: Sequence[Attestation], stored: Iterable[Bundle]) -> list[Attestation]:
    """Those of ``offered`` that no stored bundle holds already (each once)."""
    seen = {_canonical(a) for bundle in stored for a in bundle.get("attestations", ())}
    fresh: list[Attestation] = []
    for attestation in offered:
        key = _canonical(attestation)
        if key not in seen:
            seen.add(key)
            fresh.append(attestation)
    return fresh


def provenance_object(bundles: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The PEP 740 provenance object of stored bundles, one bundle per publisher, oldest first."""
    merged: dict[str, Bundle] = {}
    for bundle in bundles:
        key = _canonical(bundle["publisher"])
        target = merged.setdefault(key, {"publisher": bundle["publisher"], "attestations": []})
        target["attestations"].extend(new_attestations(bundle["attestations"], [target]))
    return {"version": 1, "attestation_bundles": list(merged.values())}


def _canonical(document: object) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"))
