"""The stock ``sigstore`` CLI, as an independent client, accepts the local instance's bundles."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding

from anya_sigstore_local import LocalSigstore
from tests.trust.support import ALICE, Sign, sigstore_cli


def verify_offline(
    sigstore: LocalSigstore, bundle: Path, artifact: Path
) -> subprocess.CompletedProcess[str]:
    """``sigstore verify identity --offline`` for ALICE, as issued by ``sigstore``'s issuer."""
    return sigstore_cli(
        sigstore.trust_config_path,
        "verify", "identity", "--offline",
        "--bundle", bundle,
        "--cert-identity", ALICE,
        "--cert-oidc-issuer", sigstore.issuer_url,
        artifact,
    )  # fmt: skip


def test_sigstore_verify_identity_offline_accepts_a_bundle(
    sign: Sign, local_sigstore: LocalSigstore, tmp_path: Path
) -> None:
    artifact = tmp_path / "demo-1.0.tar.gz"
    artifact.write_bytes(b"sdist bytes")
    bundle = tmp_path / "demo-1.0.tar.gz.sigstore.json"
    bundle.write_text(sign(artifact.read_bytes(), ALICE).to_json())

    done = verify_offline(local_sigstore, bundle, artifact)

    assert done.returncode == 0, done.stderr
    assert f"OK: {artifact}" in done.stderr


def test_sigstore_verify_identity_offline_rejects_a_changed_file(
    sign: Sign, local_sigstore: LocalSigstore, tmp_path: Path
) -> None:
    artifact = tmp_path / "demo-1.0.tar.gz"
    bundle = tmp_path / "demo-1.0.tar.gz.sigstore.json"
    bundle.write_text(sign(b"sdist bytes", ALICE).to_json())
    artifact.write_bytes(b"sdist bytes, changed")

    done = verify_offline(local_sigstore, bundle, artifact)

    assert done.returncode != 0
    assert f"FAIL: {artifact}" in done.stderr, done.stderr
    assert "digest mismatch" in done.stderr, done.stderr


def test_sigstore_verify_with_detached_materials_finds_the_entry_in_the_local_rekor(
    sign: Sign, local_sigstore: LocalSigstore, tmp_path: Path
) -> None:
    artifact = tmp_path / "demo-1.0.tar.gz"
    artifact.write_bytes(b"sdist bytes, signed once more")
    bundle = sign(artifact.read_bytes(), ALICE)
    sign(b"a later entry, so the proof is against a larger tree", ALICE)
    certificate = tmp_path / "demo.crt"
    certificate.write_bytes(bundle.signing_certificate.public_bytes(Encoding.PEM))
    signature = tmp_path / "demo.sig"
    signature.write_text(base64.b64encode(bundle.signature).decode())

    done = sigstore_cli(
        local_sigstore.trust_config_path,
        "verify", "identity",
        "--certificate", certificate,
        "--signature", signature,
        "--cert-identity", ALICE,
        "--cert-oidc-issuer", local_sigstore.issuer_url,
        artifact,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
