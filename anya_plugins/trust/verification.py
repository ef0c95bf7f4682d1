"""Verifying a distribution file against the trust policy: whose signature, if any, lets it in.

A file may come with a Sigstore bundle (``<file>.sigstore.json``), PEP 740 attestations (one
attestation object as in ``<file>.publish.attestation``, or the provenance object an index
serves, every attestation of which is checked), both, or neither:

- Each one given must verify, offline, against the policy's trusted root (Sigstore's public-good
  root when none is set): certificate chain, SCT, transparency-log proof, the signature over
  this very file. Its certificate must name a publisher the policy allows for this
  distribution name from this source. A signature that fails is never overridden by
  ``allow_unsigned`` or ``require_signatures = false``: a bad signature is worse than none.
- Neither given: accepted when the source does not require signatures, or when the caller
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
refreshed through TUF when no ``trusted_root`` is set and ``offline`` is false. Offline, the
root in use never learns of key rotation or revocation.
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
from typing import TYPE_CHECKING, Any

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


class Evidence(StrEnum):
    """What a verified signature came as."""

    BUNDLE = "bundle"
    ATTESTATION = "attestation"


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
    an attestation object or a provenance object).

    ``dist_name`` and ``source`` choose the publishers and rules of ``policy`` that apply;
    the file's name must name the same distribution. ``allow_unsigned`` lets an unsigned
    file in only where the policy permits it. Raises :class:`VerificationFailed`.
    """
    try:
        with path.open("rb") as handle:
            sha256 = hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as error:
        raise VerificationFailed(str(path), f"cannot read: {error.strerror or error}") from error
    return verify_digest(
        path.name,
        sha256,
        bundle=bundle,
        attestation=attestation,
        dist_name=dist_name,
        source=source,
        policy=policy,
        allow_unsigned=allow_unsigned,
        offline=offline,
        subject=path.name,
    )


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
    artifact = _Artifact(subject or filename, filename, sha256.lower())
    if len(artifact.sha256) != SHA256_HEX_LENGTH or not _is_hex(artifact.sha256):
        raise VerificationFailed(artifact.subject, f"{sha256!r} is not a hex sha256 digest")
    _check_names_distribution(artifact, dist_name)
    publishers = policy.publishers_for(dist_name, source)
    if bundle is None and attestation is None:
        unsigned = _why_unsigned_is_accepted(
            artifact, policy.rules_for(source), publishers, allow_unsigned
        )
        return TrustDecision(filename, artifact.sha256, dist_name, source, unsigned=unsigned)
    check = _Check(artifact, dist_name, source, publishers, _verifier(policy.trusted_root, offline))
    signatures = []
    if bundle is not None:
        signatures.append(check.bundle(bundle))
    if attestation is not None:
        signatures.extend(check.attestations(attestation))
    return TrustDecision(filename, artifact.sha256, dist_name, source, tuple(signatures))


@dataclass(frozen=True)
class _Artifact:
    subject: str
    filename: str
    sha256: str

    def hashed(self) -> Hashed:
        from sigstore.hashes import Hashed
        from sigstore_models.common.v1 import HashAlgorithm

        return Hashed(algorithm=HashAlgorithm.SHA2_256, digest=bytes.fromhex(self.sha256))


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


class _Check:
    """The checks of one file's signatures against the publishers allowed for it."""

    def __init__(
        self,
        artifact: _Artifact,
        dist_name: str,
        source: str,
        publishers: Sequence[Publisher],
        verifier: Verifier,
    ) -> None:
        self._artifact = artifact
        self._dist_name = dist_name
        self._source = source
        self._publishers = tuple(publishers)
        self._verifier = verifier

    def bundle(self, document: bytes) -> VerifiedSignature:
        from sigstore.errors import Error as SigstoreError
        from sigstore.errors import VerificationError
        from sigstore.models import Bundle

        try:
            bundle = Bundle.from_json(document)
        except (SigstoreError, ValueError) as error:
            raise self._failed(
                f"its Sigstore bundle cannot be read: {first_line(error)}"
            ) from error
        match = _PublisherMatch(self._publishers)
        try:
            self._verifier.verify_artifact(self._artifact.hashed(), bundle, match)
        except VerificationError as error:
            raise self._refusal(Evidence.BUNDLE, bundle, match, error) from error
        return self._verified(Evidence.BUNDLE, bundle.signing_certificate, match)

    def attestations(self, document: bytes) -> list[VerifiedSignature]:
        """Each attestation of a PEP 740 attestation object or provenance object, verified."""
        from sigstore.errors import VerificationError

        verified = []
        for bundle in self._attestation_bundles(document):
            match = _PublisherMatch(self._publishers)
            try:
                payload_type, payload = self._verifier.verify_dsse(bundle, match)
            except VerificationError as error:
                raise self._refusal(Evidence.ATTESTATION, bundle, match, error) from error
            self._check_statement(payload_type, payload)
            verified.append(self._verified(Evidence.ATTESTATION, bundle.signing_certificate, match))
        return verified

    def _attestation_bundles(self, document: bytes) -> list[Bundle]:
        """The Sigstore bundles the attestations were made from.

        A provenance object's publishers are read past, not trusted: they are what the index
        claims (an index without Trusted Publishing names its uploader), and the policy
        decides who may sign by the certificates alone.
        """
        from pypi_attestations import Attestation

        try:
            parsed = json.loads(document)
            if isinstance(parsed, dict) and "attestation_bundles" in parsed:
                objects = [
                    attestation
                    for attestation_bundle in parsed["attestation_bundles"]
                    for attestation in attestation_bundle["attestations"]
                ]
            else:
                objects = [parsed]
            bundles = [Attestation.model_validate(item).to_bundle() for item in objects]
        except (ValueError, KeyError, TypeError) as error:  # pydantic's errors are ValueErrors
            raise self._failed(
                f"its PEP 740 attestation cannot be read: {first_line(error)}"
            ) from error
        if not bundles:
            raise self._failed("its PEP 740 provenance holds no attestation")
        return bundles

    def _check_statement(self, payload_type: str, payload: bytes) -> None:
        """What ``pypi_attestations.Attestation.verify`` checks of the signed statement."""
        from pypi_attestations import AttestationType

        if payload_type != IN_TOTO_PAYLOAD_TYPE:
            raise self._failed(
                f"its attestation carries {payload_type!r}, not an in-toto statement"
            )
        try:
            statement = json.loads(payload)
            (subject,) = statement["subject"]
            name, digest = subject["name"], subject["digest"]["sha256"]
            predicate_type = statement["predicateType"]
        except (ValueError, KeyError, TypeError) as error:
            raise self._failed(
                "its attestation's statement does not name exactly one subject with a sha256"
            ) from error
        try:
            same_name = _parse_filename(name) == _parse_filename(self._artifact.filename)
        except ValueError:
            same_name = False
        if not same_name or digest != self._artifact.sha256:
            raise self._failed(
                f"its attestation is for {name} (sha256 {digest}), not for this file "
                f"(sha256 {self._artifact.sha256})",
                hint="the file was changed after it was attested, or the attestation is "
                "another file's",
            )
        if predicate_type not in {kind.value for kind in AttestationType}:
            raise self._failed(f"its attestation has an unknown predicate type {predicate_type!r}")

    def _verified(
        self, evidence: Evidence, certificate: Certificate, match: _PublisherMatch
    ) -> VerifiedSignature:
        found = certificate_identity(certificate)
        if match.matched is None:  # the verifier asks the policy before it returns: make sure
            raise self._failed(f"the verifier did not check who signed its {evidence.value}")
        return VerifiedSignature(
            evidence=evidence,
            identity=found.identity or match.matched.identity,
            issuer=found.issuer or match.matched.issuer,
            publisher=match.matched,
        )

    def _refusal(
        self, evidence: Evidence, bundle: Bundle, match: _PublisherMatch, error: Exception
    ) -> VerificationFailed:
        found = certificate_identity(bundle.signing_certificate)
        reason = first_line(error)
        if not match.reached:
            return self._failed(
                f"its {evidence.value} was not made through a trusted Sigstore instance "
                f"({reason}); its certificate claims {found}, which proves nothing",
                found=found,
                hint="the signature may come from another Sigstore instance: check "
                "trust.trusted_root",
            )
        if match.matched is None:
            allowed = "" if self._publishers else " (the policy allows no signer for it)"
            return self._failed(
                f"its {evidence.value} is signed by {found}, which the trust policy does not "
                f"allow for {self._dist_name} from source {self._source!r}{allowed}",
                found=found,
                hint=f"if you trust this signer, add it under [[trust.publishers]] with names "
                f"matching {self._dist_name}",
            )
        return self._failed(
            f"its {evidence.value} does not verify for this file ({reason}): the file is not the "
            f"one {found} signed, or the signature was altered",
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
        allowed = f"; allowed signers: {'; '.join(expected)}" if expected else ""
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
                hint="check the network, or set trust.trusted_root to a trusted root file",
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


def prepare_verifier(policy: TrustPolicy, *, offline: bool) -> threading.Thread:
    """Import sigstore and load the trusted root in a background thread, so that the cost
    (hundreds of milliseconds) overlaps the resolver's run; join it before verifying. A
    failure here is left for the real call to raise, with its message."""

    def warm_up() -> None:
        with contextlib.suppress(Exception):
            _verifier(policy.trusted_root, offline)

    thread = threading.Thread(target=warm_up, name="anya-verifier-warm-up", daemon=True)
    thread.start()
    return thread
