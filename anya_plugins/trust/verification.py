"""Verifying a distribution file against the trust policy: whose signature, if any, lets it in.

A file may come with signature documents or with none. Each document's format is told by its
JSON shape (:class:`EvidenceFormat`), never by its name, and every message names the format read:

- a Sigstore bundle (``<file>.sigstore.json``, PyPI's ``<file>.sigstore``) with a message
  signature over the file's digest, as ``sigstore sign`` writes it;
- a Sigstore bundle with a DSSE envelope, as ``sigstore attest`` writes it: an in-toto
  statement, one of whose subjects must carry the file's sha256 (what ``sigstore verify``
  checks; the subject's name is not);
- a PEP 740 attestation object (``<file>.publish.attestation``), or the provenance object an
  index serves, every attestation of which is checked.

With documents or without:

- Each document given must verify, offline, against the policy's trusted root (Sigstore's
  public-good root when none is set): certificate chain, SCT, transparency-log proof, the
  signature over this very file. Its certificate must name a publisher the policy allows for this
  distribution name from this source. A signature that fails is never overridden by
  ``allow_unsigned`` or ``require_signatures = false``: a bad signature is worse than none.
- None given: accepted when the source does not require signatures, or when the caller
  passes ``allow_unsigned`` and the policy permits it; refused otherwise.

The result is a :class:`TrustDecision` saying who signed and how the file was let in, for the
caller to record in the audit log. A refusal is a :class:`VerificationFailed` naming the file,
the signers the policy expected and the signer the certificate names.

PEP 740 attestations are verified with our own ``Verifier``, not with
``pypi_attestations.Attestation.verify``: that method builds sigstore's production (or staging)
verifier itself and takes no verifier or trusted root (pypi-attestations dropped its verifier
parameter on purpose, pypi/pypi-attestations#62), so it could not check an attestation made
by a private or local Sigstore instance. Instead the attestation is converted back into the
Sigstore bundle it was made from (``Attestation.to_bundle``), its DSSE envelope is verified by
``Verifier.verify_dsse`` with our policy, and the in-toto statement inside is checked the way
``Attestation.verify`` checks it: one subject, named like this file, with this file's sha256,
and a predicate type PyPI knows.

Verification is offline: no network call is made, except that the public-good root is
refreshed through TUF when no ``trusted_root`` is set and neither ``offline`` nor the policy's
``trust.offline`` is true. Offline, the root in use never learns of key rotation or revocation:
with ``trust.offline``, one older than ``trust.max_root_age_days`` is refused
(:mod:`anya_plugins.trust.roots`).

:func:`verify_signer` runs the same checks for any file and one expected signer, without a
trust policy: ``anya-ext verify FILE`` (:mod:`anya_plugins.trust.artifact`).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from packaging.utils import (
    InvalidSdistFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from anya_plugins.trust.certificate import CertificateIdentity, certificate_identity
from anya_plugins.trust.errors import (
    MissingSignature,
    TrustError,
    TrustPolicyError,
    VerificationFailed,
    first_line,
)
from anya_plugins.trust.policy import Publisher, SourceRules, TrustPolicy

if TYPE_CHECKING:
    from cryptography.x509 import Certificate
    from sigstore.hashes import Hashed
    from sigstore.models import Bundle
    from sigstore.verify import Verifier
    from sigstore.verify.policy import VerificationPolicy

IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
SHA256_HEX_LENGTH = 64
SIGSTORE_BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle"
"""The prefix of every Sigstore bundle's ``mediaType`` (``...bundle+json;version=0.1``,
``...bundle.v0.3+json``)."""


class Evidence(StrEnum):
    """What a verified signature came as."""

    BUNDLE = "bundle"
    ATTESTATION = "attestation"


class EvidenceFormat(StrEnum):
    """The format of a signature document, told by its JSON shape (never by its file name)."""

    MESSAGE_BUNDLE = "sigstore-bundle"
    """A Sigstore bundle whose ``messageSignature`` signs the file's digest (``sigstore sign``)."""
    DSSE_BUNDLE = "sigstore-bundle-dsse"
    """A Sigstore bundle whose ``dsseEnvelope`` signs an in-toto statement naming the file's
    digest as a subject (``sigstore attest``, ``cosign attest-blob``)."""
    ATTESTATION = "pep740-attestation"
    """A PEP 740 attestation object (``pypi_attestations.Attestation``)."""
    PROVENANCE = "pep740-provenance"
    """A PEP 740 provenance object, as an index serves it: attestations grouped by publisher."""

    @property
    def description(self) -> str:
        """How messages name a document of this format."""
        return _FORMAT_DESCRIPTIONS[self]

    @property
    def evidence(self) -> Evidence:
        bundles = (EvidenceFormat.MESSAGE_BUNDLE, EvidenceFormat.DSSE_BUNDLE)
        return Evidence.BUNDLE if self in bundles else Evidence.ATTESTATION


_FORMAT_DESCRIPTIONS = {
    EvidenceFormat.MESSAGE_BUNDLE: "Sigstore bundle (message signature)",
    EvidenceFormat.DSSE_BUNDLE: "Sigstore bundle (DSSE envelope)",
    EvidenceFormat.ATTESTATION: "PEP 740 attestation",
    EvidenceFormat.PROVENANCE: "PEP 740 attestation (of a provenance object)",
}
_SUPPLIED_AS = {
    Evidence.BUNDLE: "Sigstore bundle",
    Evidence.ATTESTATION: "PEP 740 attestation",
}


@dataclass(frozen=True)
class SignedEvidence:
    """A signature document, read: its format and the Sigstore bundles it holds (one; or
    one per attestation of a provenance object). Nothing in it is verified yet."""

    format: EvidenceFormat
    bundles: tuple[Bundle, ...]

    def signers(self) -> tuple[CertificateIdentity, ...]:
        """Who each bundle's certificate claims signed it (unverified)."""
        return tuple(certificate_identity(bundle.signing_certificate) for bundle in self.bundles)


class Unsigned(StrEnum):
    """Why an unsigned file was let in."""

    ALLOWED = "unsigned-allowed"
    """The caller passed ``allow_unsigned`` (``--allow-unsigned``) and the policy permits it."""
    NOT_REQUIRED = "unsigned-not-required"
    """The policy does not require signatures for the file's source."""


@dataclass(frozen=True)
class VerifiedSignature:
    """One signature that verified, and the publisher of the policy it matched."""

    evidence: Evidence
    identity: str
    issuer: str
    publisher: Publisher
    format: EvidenceFormat


@dataclass(frozen=True)
class TrustDecision:
    """Why a file was let in: the signatures that verified, or why none was needed."""

    filename: str
    sha256: str
    dist_name: str
    source: str
    signatures: tuple[VerifiedSignature, ...] = ()
    unsigned: Unsigned | None = None

    @property
    def signed(self) -> bool:
        return bool(self.signatures)

    @property
    def identity(self) -> str | None:
        """The signer's identity (the first signature's), None when unsigned."""
        return self.signatures[0].identity if self.signatures else None

    @property
    def issuer(self) -> str | None:
        return self.signatures[0].issuer if self.signatures else None

    @property
    def how(self) -> str:
        """``bundle``, ``attestation``, ``bundle+attestation``, ``unsigned-allowed`` or
        ``unsigned-not-required``."""
        if self.unsigned is not None:
            return self.unsigned.value
        return "+".join(dict.fromkeys(signature.evidence.value for signature in self.signatures))

    def to_record(self) -> dict[str, Any]:
        """The decision as plain JSON data, for the audit log."""
        return {
            "file": self.filename,
            "sha256": self.sha256,
            "dist_name": self.dist_name,
            "source": self.source,
            "how": self.how,
            "signatures": [
                {
                    "evidence": signature.evidence.value,
                    "format": signature.format.value,
                    "identity": signature.identity,
                    "issuer": signature.issuer,
                    "publisher": str(signature.publisher),
                }
                for signature in self.signatures
            ],
        }


def verify_file(
    path: Path,
    *,
    bundle: bytes | None,
    attestation: bytes | None,
    dist_name: str,
    source: str,
    policy: TrustPolicy,
    allow_unsigned: bool = False,
    offline: bool = False,
) -> TrustDecision:
    """Verify the distribution file at ``path`` with its bundle and/or attestations (JSON bytes:
    each a Sigstore bundle, an attestation object or a provenance object, told by its shape).

    ``dist_name`` and ``source`` choose the publishers and rules of ``policy`` that apply;
    the file's name must name the same distribution. ``allow_unsigned`` lets an unsigned
    file in only where the policy permits it. Raises :class:`VerificationFailed`.
    """
    return verify_digest(
        path.name,
        file_sha256(path),
        bundle=bundle,
        attestation=attestation,
        dist_name=dist_name,
        source=source,
        policy=policy,
        allow_unsigned=allow_unsigned,
        offline=offline,
        subject=path.name,
    )


def file_sha256(path: Path) -> str:
    """The hex sha256 of the file at ``path``; :class:`VerificationFailed` when unreadable."""
    try:
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as error:
        raise VerificationFailed(str(path), f"cannot read: {error.strerror or error}") from error


def verify_digest(
    filename: str,
    sha256: str,
    *,
    bundle: bytes | None,
    attestation: bytes | None,
    dist_name: str,
    source: str,
    policy: TrustPolicy,
    allow_unsigned: bool = False,
    offline: bool = False,
    subject: str | None = None,
) -> TrustDecision:
    """Verify a distribution file known by its name and sha256 (hex), e.g. from an install
    receipt: the same checks as :func:`verify_file` without the file's bytes.

    ``subject`` is how messages name the file (default: ``filename``).
    """
    artifact = _artifact(subject or filename, filename, sha256)
    _check_names_distribution(artifact, dist_name)
    publishers = policy.publishers_for(dist_name, source)
    if bundle is None and attestation is None:
        unsigned = _why_unsigned_is_accepted(
            artifact, policy.rules_for(source), publishers, allow_unsigned
        )
        return TrustDecision(filename, artifact.sha256, dist_name, source, unsigned=unsigned)
    scope = _Scope.of_policy(dist_name, source, publishers)
    check = _Check(artifact, publishers, _policy_verifier(policy, offline), scope)
    signatures = []
    for document, supplied_as in ((bundle, Evidence.BUNDLE), (attestation, Evidence.ATTESTATION)):
        if document is not None:
            signatures.extend(check.verify(check.read(document, supplied_as)))
    return TrustDecision(filename, artifact.sha256, dist_name, source, tuple(signatures))


def read_evidence(
    document: bytes, *, subject: str, supplied_as: Evidence = Evidence.BUNDLE
) -> SignedEvidence:
    """Read a signature document of any :class:`EvidenceFormat`, told by its JSON shape.

    ``supplied_as`` is what the caller took it for, named when the shape is none of them.
    Raises :class:`VerificationFailed` naming ``subject`` when the document cannot be read.
    """
    return _read_evidence(document, supplied_as, functools.partial(VerificationFailed, subject))


def verify_signer(
    filename: str,
    sha256: str,
    evidence: SignedEvidence,
    *,
    signer: Publisher,
    trusted_root: Path | None,
    offline: bool,
    subject: str | None = None,
) -> tuple[VerifiedSignature, ...]:
    """Verify every signature of ``evidence`` over the file ``filename`` with ``sha256``, by
    ``signer`` alone, whatever file it is (no distribution name or trust policy applies):
    what ``sigstore verify identity`` checks, with the checks of the installer.

    A trusted root file is used offline; without one, Sigstore's public-good root, refreshed
    through TUF unless ``offline``. Raises :class:`VerificationFailed`.
    """
    artifact = _artifact(subject or filename, filename, sha256)
    check = _Check(artifact, (signer,), _verifier(trusted_root, offline), _Scope.of_signer())
    return tuple(check.verify(evidence))


@dataclass(frozen=True)
class _Artifact:
    subject: str
    filename: str
    sha256: str

    def hashed(self) -> Hashed:
        from sigstore.hashes import Hashed
        from sigstore_models.common.v1 import HashAlgorithm

        return Hashed(algorithm=HashAlgorithm.SHA2_256, digest=bytes.fromhex(self.sha256))


def _artifact(subject: str, filename: str, sha256: str) -> _Artifact:
    artifact = _Artifact(subject, filename, sha256.lower())
    if len(artifact.sha256) != SHA256_HEX_LENGTH or not _is_hex(artifact.sha256):
        raise VerificationFailed(subject, f"{sha256!r} is not a hex sha256 digest")
    return artifact


def _check_names_distribution(artifact: _Artifact, dist_name: str) -> None:
    """The file's name must name ``dist_name``: a signature vouches for bytes, and the policy
    was chosen by name, so a file presented under another project's name is refused."""
    try:
        named = _parse_filename(artifact.filename)[0]
    except ValueError as error:
        raise VerificationFailed(
            artifact.subject, f"not a wheel or sdist file name ({error})"
        ) from error
    if named != canonicalize_name(dist_name):
        raise VerificationFailed(
            artifact.subject, f"is a file of {named!r}, not of {dist_name!r} as was asked"
        )


def _is_hex(text: str) -> bool:
    return all(character in "0123456789abcdef" for character in text)


def _parse_filename(filename: str) -> tuple[Any, ...]:
    """The parsed wheel or sdist file name; ValueError for anything else."""
    if filename.endswith(".whl"):
        return parse_wheel_filename(filename)
    if filename.endswith((".tar.gz", ".zip")):
        return parse_sdist_filename(filename)
    raise InvalidSdistFilename(f"{filename!r} ends in neither .whl nor .tar.gz")


def _same_distribution_file(name: str, filename: str) -> bool:
    """Whether ``name`` (an attestation's subject) names the file ``filename``: compared as
    parsed wheel or sdist names, as PEP 740 requires; other files by their exact names."""
    try:
        return _parse_filename(name) == _parse_filename(filename)
    except ValueError:
        return name == filename


def _why_unsigned_is_accepted(
    artifact: _Artifact,
    rules: SourceRules,
    publishers: Sequence[Publisher],
    allow_unsigned: bool,
) -> Unsigned:
    if not rules.require_signatures:
        return Unsigned.NOT_REQUIRED
    if allow_unsigned and rules.allow_unsigned:
        return Unsigned.ALLOWED
    expected = [str(publisher) for publisher in publishers]
    wanted = f"; allowed signers: {'; '.join(expected)}" if expected else ""
    if allow_unsigned:
        raise MissingSignature(
            artifact.subject,
            f"is unsigned, and the trust policy for source {rules.source!r} does not permit "
            f"--allow-unsigned{wanted}",
            expected=expected,
            hint="an administrator can permit it with allow_unsigned = true under [trust]",
        )
    raise MissingSignature(
        artifact.subject,
        f"has no signature, and the trust policy requires one for source {rules.source!r}{wanted}",
        expected=expected,
        hint="fetch the file's .sigstore.json bundle or PEP 740 attestation with it",
    )


class _Refuse(Protocol):
    def __call__(self, problem: str, *, hint: str | None = None) -> VerificationFailed: ...


def _read_evidence(document: bytes, supplied_as: Evidence, refuse: _Refuse) -> SignedEvidence:
    unreadable = f"its {_SUPPLIED_AS[supplied_as]} cannot be read"
    try:
        parsed = json.loads(document)
    except ValueError as error:
        raise refuse(f"{unreadable}: not JSON ({first_line(error)})") from error
    form = _format_of(parsed)
    if form is None:
        raise refuse(
            f"{unreadable}: it is neither a Sigstore bundle (mediaType "
            f"{SIGSTORE_BUNDLE_MEDIA_TYPE}..., with a messageSignature or a dsseEnvelope) nor "
            "a PEP 740 attestation or provenance object"
        )
    try:
        bundles = _bundles_of(form, document, parsed)
    except (ValueError, KeyError, TypeError) as error:  # pydantic's and sigstore's included
        raise refuse(f"its {form.description} cannot be read: {first_line(error)}") from error
    if not bundles:
        raise refuse("its PEP 740 provenance holds no attestation")
    return SignedEvidence(form, bundles)


def _format_of(parsed: object) -> EvidenceFormat | None:
    if not isinstance(parsed, dict):
        return None
    if "attestation_bundles" in parsed:
        return EvidenceFormat.PROVENANCE
    if "envelope" in parsed and "verification_material" in parsed:
        return EvidenceFormat.ATTESTATION
    media_type = parsed.get("mediaType")
    if not isinstance(media_type, str) or not media_type.startswith(SIGSTORE_BUNDLE_MEDIA_TYPE):
        return None
    if "dsseEnvelope" in parsed:
        return EvidenceFormat.DSSE_BUNDLE
    if "messageSignature" in parsed:
        return EvidenceFormat.MESSAGE_BUNDLE
    return None


def _bundles_of(form: EvidenceFormat, document: bytes, parsed: Any) -> tuple[Bundle, ...]:
    """The Sigstore bundles of a document: itself, or those its attestations were made from.

    A provenance object's publishers are read past, not trusted: they are what the index
    claims (an index without Trusted Publishing names its uploader), and the policy decides
    who may sign by the certificates alone.
    """
    from pypi_attestations import Attestation
    from sigstore.errors import Error as SigstoreError
    from sigstore.models import Bundle

    if form.evidence is Evidence.BUNDLE:
        try:
            return (Bundle.from_json(document),)
        except SigstoreError as error:
            raise ValueError(first_line(error)) from error
    objects = (
        [
            attestation
            for attestation_bundle in parsed["attestation_bundles"]
            for attestation in attestation_bundle["attestations"]
        ]
        if form is EvidenceFormat.PROVENANCE
        else [parsed]
    )
    return tuple(Attestation.model_validate(item).to_bundle() for item in objects)


@dataclass(frozen=True)
class _Scope:
    """For whom the signers were allowed, as refusals say it."""

    not_allowed: str
    """Follows "signed by <signer>, ..." when the signer is not one of those allowed."""
    allowed: str
    """Introduces the list of allowed signers."""
    other_signer_hint: str
    root_hint: str

    @classmethod
    def of_policy(cls, dist_name: str, source: str, publishers: Sequence[Publisher]) -> _Scope:
        none = "" if publishers else " (the policy allows no signer for it)"
        return cls(
            not_allowed=f"which the trust policy does not allow for {dist_name} from source "
            f"{source!r}{none}",
            allowed="allowed signers",
            other_signer_hint=f"if you trust this signer, add it under [[trust.publishers]] "
            f"with names matching {dist_name}",
            root_hint="the signature may come from another Sigstore instance: check "
            "trust.trusted_root",
        )

    @classmethod
    def of_signer(cls) -> _Scope:
        return cls(
            not_allowed="not by the signer asked for",
            allowed="expected",
            other_signer_hint="if you trust this signer, pass its identity and issuer",
            root_hint="the signature may come from another Sigstore instance: pass its "
            "trusted root with --trusted-root",
        )


class _Check:
    """The checks of one file's signatures against the publishers allowed for it."""

    def __init__(
        self,
        artifact: _Artifact,
        publishers: Sequence[Publisher],
        verifier: Verifier,
        scope: _Scope,
    ) -> None:
        self._artifact = artifact
        self._publishers = tuple(publishers)
        self._verifier = verifier
        self._scope = scope

    def read(self, document: bytes, supplied_as: Evidence) -> SignedEvidence:
        return _read_evidence(document, supplied_as, self._failed)

    def verify(self, evidence: SignedEvidence) -> list[VerifiedSignature]:
        """Each signature of ``evidence``, verified; the first that fails is refused."""
        from sigstore.errors import VerificationError

        verified = []
        for bundle in evidence.bundles:
            match = _PublisherMatch(self._publishers)
            try:
                if evidence.format is EvidenceFormat.MESSAGE_BUNDLE:
                    self._verifier.verify_artifact(self._artifact.hashed(), bundle, match)
                else:
                    payload_type, payload = self._verifier.verify_dsse(bundle, match)
            except VerificationError as error:
                raise self._refusal(evidence.format, bundle, match, error) from error
            if evidence.format is EvidenceFormat.DSSE_BUNDLE:
                self._check_subjects(evidence.format, payload_type, payload)
            elif evidence.format is not EvidenceFormat.MESSAGE_BUNDLE:
                self._check_statement(evidence.format, payload_type, payload)
            verified.append(self._verified(evidence.format, bundle.signing_certificate, match))
        return verified

    def _check_subjects(self, form: EvidenceFormat, payload_type: str, payload: bytes) -> None:
        """What ``sigstore verify`` checks of a DSSE bundle's statement: one of its subjects,
        whatever its name, has this file's sha256."""
        statement = self._statement(form, payload_type, payload)
        try:
            subjects = [
                (str(subject.get("name")), str(subject["digest"].get("sha256")).lower())
                for subject in statement["subject"]
            ]
        except (KeyError, TypeError, AttributeError) as error:
            raise self._failed(
                f"its {form.description} holds an in-toto statement without valid subjects"
            ) from error
        if not any(digest == self._artifact.sha256 for _, digest in subjects):
            about = ", ".join(f"{name} (sha256 {digest})" for name, digest in subjects)
            raise self._failed(
                f"its {form.description} holds an in-toto statement about "
                f"{about or 'no subject'}, not about this file (sha256 {self._artifact.sha256})",
                hint="the file was changed after it was attested, or the statement is another "
                "file's",
            )

    def _check_statement(self, form: EvidenceFormat, payload_type: str, payload: bytes) -> None:
        """What ``pypi_attestations.Attestation.verify`` checks of the signed statement."""
        from pypi_attestations import AttestationType

        statement = self._statement(form, payload_type, payload)
        try:
            (subject,) = statement["subject"]
            name, digest = subject["name"], subject["digest"]["sha256"]
            predicate_type = statement["predicateType"]
        except (ValueError, KeyError, TypeError) as error:
            raise self._failed(
                f"its {form.description}'s statement does not name exactly one subject with a "
                "sha256"
            ) from error
        if not _same_distribution_file(name, self._artifact.filename) or (
            digest != self._artifact.sha256
        ):
            raise self._failed(
                f"its {form.description} is for {name} (sha256 {digest}), not for this file "
                f"({self._artifact.filename}, sha256 {self._artifact.sha256})",
                hint="the file was changed after it was attested, or the attestation is "
                "another file's",
            )
        if predicate_type not in {kind.value for kind in AttestationType}:
            raise self._failed(
                f"its {form.description} has an unknown predicate type {predicate_type!r}"
            )

    def _statement(self, form: EvidenceFormat, payload_type: str, payload: bytes) -> Any:
        if payload_type != IN_TOTO_PAYLOAD_TYPE:
            raise self._failed(
                f"its {form.description} carries {payload_type!r}, not an in-toto statement"
            )
        try:
            statement = json.loads(payload)
        except ValueError as error:
            raise self._failed(
                f"its {form.description} carries an in-toto statement that is not JSON"
            ) from error
        if not isinstance(statement, dict):
            raise self._failed(
                f"its {form.description} carries an in-toto statement that is not a JSON object"
            )
        return statement

    def _verified(
        self, form: EvidenceFormat, certificate: Certificate, match: _PublisherMatch
    ) -> VerifiedSignature:
        found = certificate_identity(certificate)
        if match.matched is None:  # the verifier asks the policy before it returns: make sure
            raise self._failed(f"the verifier did not check who signed its {form.description}")
        return VerifiedSignature(
            evidence=form.evidence,
            identity=found.identity or match.matched.identity,
            issuer=found.issuer or match.matched.issuer,
            publisher=match.matched,
            format=form,
        )

    def _refusal(
        self, form: EvidenceFormat, bundle: Bundle, match: _PublisherMatch, error: Exception
    ) -> VerificationFailed:
        found = certificate_identity(bundle.signing_certificate)
        reason = first_line(error)
        if not match.reached:
            return self._failed(
                f"its {form.description} was not made through a trusted Sigstore instance "
                f"({reason}); its certificate claims {found}, which proves nothing",
                found=found,
                hint=self._scope.root_hint,
            )
        if match.matched is None:
            return self._failed(
                f"its {form.description} is signed by {found}, {self._scope.not_allowed}",
                found=found,
                hint=self._scope.other_signer_hint,
            )
        return self._failed(
            f"its {form.description} does not verify for this file ({reason}): the file is not "
            f"the one {found} signed, or the signature was altered",
            found=found,
            hint="download the file and its signature again; if it persists, report it",
        )

    def _failed(
        self,
        problem: str,
        *,
        found: CertificateIdentity | None = None,
        hint: str | None = None,
    ) -> VerificationFailed:
        expected = [str(publisher) for publisher in self._publishers]
        allowed = f"; {self._scope.allowed}: {'; '.join(expected)}" if expected else ""
        return VerificationFailed(
            self._artifact.subject,
            f"{problem}{allowed}",
            expected=expected,
            found=str(found) if found is not None else None,
            hint=hint,
        )


class _PublisherMatch:
    """A sigstore verification policy: the certificate names one of the allowed publishers.

    Like ``sigstore.verify.policy.AnyOf`` over one ``policy.Identity`` per publisher (a glob
    policy for publishers whose identity is a glob), but it remembers whether the verifier got
    as far as asking it (the chain and SCT had verified) and which publisher matched.
    """

    def __init__(self, publishers: Sequence[Publisher]) -> None:
        self._children = [(publisher, _identity_policy(publisher)) for publisher in publishers]
        self.reached = False
        self.matched: Publisher | None = None

    def verify(self, cert: Certificate) -> None:
        from sigstore.errors import VerificationError

        self.reached = True
        for publisher, child in self._children:
            try:
                child.verify(cert)
            except VerificationError:
                continue
            self.matched = publisher
            return
        raise VerificationError(f"0 of {len(self._children)} allowed publishers matched")


def _identity_policy(publisher: Publisher) -> VerificationPolicy:
    from sigstore.verify import policy

    if publisher.identity_is_glob:
        return _GlobIdentity(publisher)
    return policy.Identity(identity=publisher.identity, issuer=publisher.issuer)


class _GlobIdentity:
    """``policy.Identity`` with a glob for the identity: the issuer exactly, as ``Identity``
    checks it, and any identity the certificate names matching the glob."""

    def __init__(self, publisher: Publisher) -> None:
        self._publisher = publisher

    def verify(self, cert: Certificate) -> None:
        from sigstore.errors import VerificationError
        from sigstore.verify import policy

        policy.OIDCIssuer(self._publisher.issuer).verify(cert)
        found = certificate_identity(cert)
        if not any(self._publisher.matches_identity(name) for name in found.identities):
            raise VerificationError(f"{found} does not match {self._publisher.identity}")


@functools.lru_cache(maxsize=8)
def _verifier(trusted_root: Path | None, offline: bool) -> Verifier:
    """The verifier for a trusted root file, or for the public-good root; kept for the
    process, since building the public-good one may refresh it through TUF."""
    from sigstore.errors import Error as SigstoreError
    from sigstore.models import TrustedRoot
    from sigstore.verify import Verifier

    if trusted_root is None:
        try:
            return Verifier.production(offline=offline)
        except SigstoreError as error:
            raise TrustError(
                f"cannot load the Sigstore public-good trusted root: {first_line(error)}",
                hint="check the network; without one, set trust.offline = true (the root kept "
                "for offline use) or trust.trusted_root (a trusted root file)",
            ) from error
    try:
        return Verifier(trusted_root=TrustedRoot.from_file(str(trusted_root)))
    except OSError as error:
        raise TrustPolicyError(
            "trusted_root", f"{trusted_root}: cannot read: {error.strerror or error}"
        ) from error
    except (SigstoreError, ValueError) as error:
        raise TrustPolicyError(
            "trusted_root",
            f"{trusted_root}: not a usable Sigstore trusted root: {first_line(error)}",
        ) from error


def _policy_verifier(policy: TrustPolicy, offline: bool) -> Verifier:
    """The verifier for ``policy``: with ``trust.offline``, never a TUF refresh, and the root
    refused when older than ``trust.max_root_age_days`` (checked on every call, not kept)."""
    if policy.offline:
        from anya_plugins.trust.roots import root_age

        root_age(policy.trusted_root).check(policy.max_root_age_days)
    return _verifier(policy.trusted_root, offline or policy.offline)


def import_sigstore() -> None:
    """Import what verifying needs (most of its cost, before any trusted root is known)."""
    import sigstore.models
    import sigstore.verify  # noqa: F401


def prepare_verifier(policy: TrustPolicy, *, offline: bool) -> threading.Thread:
    """Import sigstore and load the trusted root in a background thread, so that the cost
    (hundreds of milliseconds) overlaps the resolver's run; join it before verifying. A
    failure here is left for the real call to raise, with its message."""

    def warm_up() -> None:
        with contextlib.suppress(Exception):
            _policy_verifier(policy, offline)

    thread = threading.Thread(target=warm_up, name="anya-verifier-warm-up", daemon=True)
    thread.start()
    return thread
