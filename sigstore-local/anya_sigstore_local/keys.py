"""Signing keys on disk and the key identifiers Sigstore derives from them."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from anya_sigstore_local.errors import LocalInstanceError

PublicKey = ec.EllipticCurvePublicKey
PrivateKey = ec.EllipticCurvePrivateKey


def generate_key(curve: ec.EllipticCurve) -> PrivateKey:
    """A fresh ECDSA key on ``curve``."""
    return ec.generate_private_key(curve)


def key_id(public_key: PublicKey) -> bytes:
    """SHA-256 of the DER SubjectPublicKeyInfo: Sigstore's log ID and CT log ID."""
    spki = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(spki).digest()


def public_key_der(public_key: PublicKey) -> bytes:
    """The DER SubjectPublicKeyInfo, as a trusted root lists a log key."""
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def public_key_pem(public_key: PublicKey) -> bytes:
    """The PEM SubjectPublicKeyInfo, as Rekor serves its key."""
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def write_private_key(path: Path, key: PrivateKey) -> None:
    """Write ``key`` as unencrypted PKCS#8 PEM, readable by the owner only."""
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)


def read_private_key(path: Path) -> PrivateKey:
    """Read an unencrypted ECDSA private key written by :func:`write_private_key`."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as error:
        raise LocalInstanceError(
            f"{path}: cannot read the key: {error.strerror}",
            hint="point at the directory of a local Sigstore authority, or create a new one",
        ) from error
    except ValueError as error:
        raise LocalInstanceError(f"{path}: not an unencrypted PEM private key") from error
    if not isinstance(key, PrivateKey):
        raise LocalInstanceError(f"{path}: expected an ECDSA key, found {type(key).__name__}")
    return key
