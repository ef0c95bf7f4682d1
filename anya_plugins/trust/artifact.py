"""Checking any local file's signature, from any source, the way ``sigstore verify identity``
does and with the code the installer uses: ``anya-ext verify FILE``.

The signature document is a Sigstore bundle (message signature or DSSE envelope), a PEP 740
attestation or a PEP 740 provenance object; its format is read from its JSON shape
(:class:`~anya_plugins.trust.verification.EvidenceFormat`), whichever option named it. The
signer must be exactly one identity from one OIDC issuer (a glob in the identity matches as in
``[[trust.publishers]]``); no trust policy applies. Without a document named, the one beside
the file is read: ``<file>.sigstore.json``, ``<file>.sigstore`` (as PyPI serves it), or
``<file>.publish.attestation``, first found.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from anya_plugins.errors import UsageError
from anya_plugins.trust.errors import MissingSignature, VerificationFailed
from anya_plugins.trust.policy import Publisher
from anya_plugins.trust.signing import ATTESTATION_SUFFIX, BUNDLE_SUFFIX
from anya_plugins.trust.verification import (
    Evidence,
    EvidenceFormat,
    SignedEvidence,
    file_sha256,
    read_evidence,
    verify_signer,
)

__all__ = ["BESIDE_SUFFIXES", "ArtifactVerification", "verify_artifact"]

BESIDE_SUFFIXES = (BUNDLE_SUFFIX, ".sigstore", ATTESTATION_SUFFIX)
"""The signature documents looked for beside a file when none is named, in this order."""


@dataclass(frozen=True)
class ArtifactVerification:
    """What ``verify_artifact`` read and whether it verified.

    ``identity`` and ``issuer`` are those the signing certificate names: verified when ``ok``,
    only claimed otherwise (the first certificate that is not the expected signer's).
    """

    path: Path
    sha256: str
    signature: Path
    """The signature document read."""
    format: EvidenceFormat | None
    """None when the document could not be read."""
    expected: str
    """The signer asked for: ``identity (issuer ...)``."""
    identity: str | None
    issuer: str | None
    ok: bool
    signatures: int = 0
    """How many signatures verified (a provenance object may hold several)."""
    problem: str | None = None
    """Why it was refused, naming the format read, the signer found and the one expected."""
    hint: str | None = None


def verify_artifact(
    path: Path,
    *,
    identity: str,
    issuer: str,
    bundle: Path | None = None,
    attestation: Path | None = None,
    provenance: Path | None = None,
    trusted_root: Path | None = None,
    offline: bool = False,
    max_root_age_days: int | None = None,
) -> ArtifactVerification:
    """Verify the file at ``path`` with one signature document, signed by ``identity`` as
    vouched for by ``issuer``.

    Name the document with one of ``bundle``, ``attestation`` or ``provenance`` (which one
    only names what you expect: the format is read from the document), or none to read the one
    beside the file. ``trusted_root`` is a Sigstore trusted root file (used offline); without
    it, Sigstore's public-good root, refreshed through TUF unless ``offline``. When
    ``offline`` and ``max_root_age_days`` is given (``trust.max_root_age_days``), a root older
    than that is refused, as offline installs refuse it (:mod:`anya_plugins.trust.roots`).

    A refusal is returned (``ok`` false, ``problem`` saying why); raises
    :class:`~anya_plugins.errors.UsageError` for contradictory arguments,
    :class:`MissingSignature` when no document is named or found beside the file and
    :class:`~anya_plugins.trust.errors.StaleTrustedRoot` for a root too old to use offline.
    """
    named = [document for document in (bundle, attestation, provenance) if document is not None]
    if len(named) > 1:
        raise UsageError("name one signature document: a bundle, an attestation or a provenance")
    if offline and max_root_age_days is not None:
        from anya_plugins.trust.roots import root_age

        root_age(trusted_root).check(max_root_age_days)
    signature = named[0] if named else _beside(path)
    expected = Publisher(identity, issuer, ("*",))
    read = ArtifactVerification(
        path=path,
        sha256=file_sha256(path),
        signature=signature,
        format=None,
        expected=str(expected),
        identity=None,
        issuer=None,
        ok=False,
    )
    try:
        evidence = read_evidence(
            _read(signature, path.name),
            subject=path.name,
            supplied_as=_supplied_as(signature, bundle),
        )
    except VerificationFailed as refusal:
        return dataclasses.replace(read, problem=refusal.problem, hint=refusal.hint)
    read = dataclasses.replace(read, format=evidence.format)
    try:
        verified = verify_signer(
            path.name,
            read.sha256,
            evidence,
            signer=expected,
            trusted_root=trusted_root,
            offline=offline or trusted_root is not None,
        )
    except VerificationFailed as refusal:
        identity_found, issuer_found = _claimed(evidence, expected)
        return dataclasses.replace(
            read,
            identity=identity_found,
            issuer=issuer_found,
            problem=refusal.problem,
            hint=refusal.hint,
        )
    return dataclasses.replace(
        read,
        identity=verified[0].identity,
        issuer=verified[0].issuer,
        ok=True,
        signatures=len(verified),
    )


def _beside(path: Path) -> Path:
    candidates = [path.with_name(path.name + suffix) for suffix in BESIDE_SUFFIXES]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    looked = ", ".join(candidate.name for candidate in candidates)
    raise MissingSignature(
        path.name,
        f"no signature document named, and none beside it ({looked})",
        hint="name it with --bundle, --attestation or --provenance",
    )


def _supplied_as(signature: Path, bundle: Path | None) -> Evidence:
    """What the caller took the document for: named with ``bundle``, or by its name."""
    if bundle is not None or signature.name.endswith(BESIDE_SUFFIXES[:2]):
        return Evidence.BUNDLE
    return Evidence.ATTESTATION


def _read(signature: Path, subject: str) -> bytes:
    try:
        return signature.read_bytes()
    except OSError as error:
        raise MissingSignature(
            subject, f"cannot read its signature {signature}: {error.strerror or error}"
        ) from error


def _claimed(evidence: SignedEvidence, expected: Publisher) -> tuple[str | None, str | None]:
    """Who the certificates claim signed: the first that is not ``expected``, else the first."""
    signers = evidence.signers()
    for signer in signers:
        if not any(expected.matches(name, signer.issuer) for name in signer.identities):
            return signer.identity, signer.issuer
    return (signers[0].identity, signers[0].issuer) if signers else (None, None)
