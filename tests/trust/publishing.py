"""Helpers behind the trust-policy tests: small wheels, signing them through our own signing
API on a local Sigstore instance, and policies that trust that instance."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from anya_plugins.trust.policy import Publisher, TrustPolicy
from anya_plugins.trust.signing import attest_files, sign_files
from anya_plugins.trust.verification import TrustDecision, verify_file
from anya_sigstore_local import LocalSigstore

LIGHTNING = "anya-ext-lightning"
LIGHTNING_RELEASE = (
    "https://github.com/anya-org/lightning/.github/workflows/release.yml@refs/tags/v1.2.0"
)
LIGHTNING_RELEASES = (
    "https://github.com/anya-org/lightning/.github/workflows/release.yml@refs/tags/*"
)
MALLORY = "mallory@example.com"


def write_wheel(directory: Path, dist_name: str, version: str = "1.2.0") -> Path:
    """A small real wheel: one module and its dist-info."""
    package = dist_name.replace("-", "_")
    wheel = directory / f"{package}-{version}-py3-none-any.whl"
    info = f"{package}-{version}.dist-info"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(f"{package}/__init__.py", f"VERSION = {version!r}\n")
        archive.writestr(
            f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {dist_name}\nVersion: {version}\n"
        )
        archive.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\n")
        archive.writestr(f"{info}/RECORD", "")
    return wheel


def flip_one_byte(path: Path, offset: int = 40) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


@dataclass(frozen=True)
class Publishing:
    """Sign as any identity on one local Sigstore instance; build policies that trust
    the instance the tests verify against."""

    sigstore: LocalSigstore
    trusted_root: Path

    def bundle(self, path: Path, identity: str) -> bytes:
        (written,) = sign_files(
            [path],
            identity_token=self.sigstore.issue_token(identity),
            trust_config=self.sigstore.trust_config_path,
        )
        return written.read_bytes()

    def attestation(self, path: Path, identity: str) -> bytes:
        (written,) = attest_files(
            [path],
            identity_token=self.sigstore.issue_token(identity),
            trust_config=self.sigstore.trust_config_path,
        )
        return written.read_bytes()

    def publisher(
        self, identity: str, names: tuple[str, ...] = ("*",), sources: tuple[str, ...] | None = None
    ) -> Publisher:
        """A publisher whose certificates this instance's issuer vouches for."""
        return Publisher(identity, self.sigstore.issuer_url, names, sources)

    def policy(
        self, *publishers: Publisher, require_signatures: bool = True, allow_unsigned: bool = False
    ) -> TrustPolicy:
        return TrustPolicy(
            trusted_root=self.trusted_root,
            require_signatures=require_signatures,
            allow_unsigned=allow_unsigned,
            publishers=publishers,
        )


def verify(
    path: Path,
    policy: TrustPolicy,
    *,
    bundle: bytes | None = None,
    attestation: bytes | None = None,
    dist_name: str = LIGHTNING,
    source: str = "primary",
    allow_unsigned: bool = False,
) -> TrustDecision:
    return verify_file(
        path,
        bundle=bundle,
        attestation=attestation,
        dist_name=dist_name,
        source=source,
        policy=policy,
        allow_unsigned=allow_unsigned,
    )
