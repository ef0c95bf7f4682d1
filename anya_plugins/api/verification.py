"""Verifying a distribution file: its signature under a trust policy, or its checksum."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from anya_plugins.api.configuration import Configuration

if TYPE_CHECKING:
    from anya_plugins.trust.artifact import ArtifactVerification
    from anya_plugins.trust.policy import TrustPolicy


@dataclass(frozen=True)
class FileVerification:
    """Why a file is trusted: the signer that verified, or why no signature was needed."""

    filename: str
    sha256: str
    dist_name: str
    source: str
    how: str
    """``bundle``, ``attestation``, ``bundle+attestation``, ``unsigned-allowed`` or
    ``unsigned-not-required``."""
    identity: str | None
    issuer: str | None


class Verifier:
    """Checks distribution files with the configuration's ``[trust]`` policy: which
    publishers may sign which extensions on which source, and whether signatures are
    required. Refusals raise :class:`~anya_plugins.trust.errors.VerificationFailed`
    (exit code 13), naming the signer found and the ones expected."""

    def __init__(self, configuration: Configuration) -> None:
        self.configuration = configuration

    @property
    def policy(self) -> TrustPolicy:
        from anya_plugins.trust.policy import load_trust_policy

        return load_trust_policy(self.configuration.layered())

    def verify(
        self,
        path: Path,
        *,
        bundle: Path | None = None,
        attestation: Path | None = None,
        source: str = "primary",
        dist_name: str | None = None,
        allow_unsigned: bool = False,
    ) -> FileVerification:
        """Verify the file with its Sigstore bundle and/or PEP 740 attestation (or
        provenance) as the installer would for ``source``. ``dist_name`` defaults to the
        distribution the file name names."""
        from anya_plugins.trust.verification import verify_file

        policy = self.policy
        decision = verify_file(
            path,
            bundle=bundle.read_bytes() if bundle is not None else None,
            attestation=attestation.read_bytes() if attestation is not None else None,
            dist_name=dist_name or _project_of(path.name),
            source=source,
            policy=policy,
            allow_unsigned=allow_unsigned,
            offline=policy.trusted_root is not None,
        )
        return FileVerification(
            decision.filename,
            decision.sha256,
            decision.dist_name,
            decision.source,
            decision.how,
            decision.identity,
            decision.issuer,
        )

    def verify_identity(
        self,
        path: Path,
        *,
        identity: str,
        issuer: str,
        bundle: Path | None = None,
        attestation: Path | None = None,
        provenance: Path | None = None,
        trusted_root: Path | None = None,
        offline: bool = False,
    ) -> ArtifactVerification:
        """Any file's signature by exactly this signer (``anya-ext verify FILE``); without a
        document named, the one beside the file is read. No publisher rule of the policy
        applies, but its ``offline`` and ``max_root_age_days`` do."""
        from anya_plugins.trust.artifact import verify_artifact

        policy = self.policy
        return verify_artifact(
            path,
            identity=identity,
            issuer=issuer,
            bundle=bundle,
            attestation=attestation,
            provenance=provenance,
            trusted_root=trusted_root,
            offline=offline or policy.offline,
            max_root_age_days=policy.max_root_age_days,
        )

    @staticmethod
    def checksum(path: Path, expected: str | None = None) -> str:
        """The file's sha256 (hex); with ``expected``, a mismatch raises
        :class:`~anya_plugins.trust.errors.VerificationFailed`."""
        from anya_plugins.trust.errors import VerificationFailed
        from anya_plugins.trust.verification import file_sha256

        actual = file_sha256(path)
        if expected is not None and actual != expected.lower():
            raise VerificationFailed(
                str(path),
                f"sha256 is {actual}, expected {expected}",
                hint="the file was altered or damaged; fetch it again from its index",
            )
        return actual


def _project_of(filename: str) -> str:
    from packaging.utils import parse_sdist_filename, parse_wheel_filename

    if filename.endswith(".whl"):
        return str(parse_wheel_filename(filename)[0])
    return str(parse_sdist_filename(filename)[0])
