"""The key material of one local Sigstore instance, kept in a directory.

The public-good instance keeps these in HSMs and publishes their public halves
through TUF; a local instance keeps them as files:

- a root and an intermediate CA (Fulcio's), which issue short-lived signing certificates;
- the key of the certificate transparency log whose SCT every certificate embeds;
- the key of the transparency log (Rekor's), which signs checkpoints and entry timestamps;
- the key of the local OIDC issuer, which signs identity tokens.

Private keys are written unencrypted (mode 0600): the instance exists for tests, demos
and air-gapped evaluation, and whoever can read the directory can sign as anyone.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from anya_sigstore_local.errors import LocalInstanceError
from anya_sigstore_local.keys import (
    PrivateKey,
    generate_key,
    read_private_key,
    write_private_key,
)

DEFAULT_NAME = "anya-local-sigstore"
CA_LIFETIME = timedelta(days=3650)

_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_METADATA = "authority.json"
_ROOT_CERTIFICATE = "root-ca.pem"
_ROOT_KEY = "root-ca.key.pem"
_INTERMEDIATE_CERTIFICATE = "intermediate-ca.pem"
_INTERMEDIATE_KEY = "intermediate-ca.key.pem"
_CT_LOG_KEY = "ct-log.key.pem"
_TRANSPARENCY_LOG_KEY = "transparency-log.key.pem"
_OIDC_ISSUER_KEY = "oidc-issuer.key.pem"


@dataclass(frozen=True)
class CertificateAuthority:
    """A CA certificate and the key that signs with it."""

    certificate: x509.Certificate
    key: PrivateKey

    @property
    def signature_hash(self) -> hashes.SHA256 | hashes.SHA384:
        """The hash this CA signs certificates with."""
        return signature_hash(self.key)


@dataclass(frozen=True)
class Authority:
    """Every key of one local Sigstore instance.

    ``name`` names the instance in certificates and in the transparency log's
    checkpoints (one word: letters, digits, ``.``, ``_``, ``-``); ``tree_id``
    tells this instance's log apart from any other's.
    """

    name: str
    tree_id: int
    root: CertificateAuthority
    intermediate: CertificateAuthority
    ct_log_key: PrivateKey
    transparency_log_key: PrivateKey
    oidc_issuer_key: PrivateKey

    @property
    def valid_from(self) -> datetime:
        """When this authority began: the start of every validity period in its trusted root."""
        return self.root.certificate.not_valid_before_utc

    @property
    def ca_chain(self) -> list[x509.Certificate]:
        """The CA certificates from the intermediate up to the root."""
        return [self.intermediate.certificate, self.root.certificate]

    @classmethod
    def generate(cls, *, name: str = DEFAULT_NAME, now: datetime | None = None) -> Authority:
        """Fresh keys and CA certificates, valid from ``now`` for ten years; nothing is written."""
        if not _NAME_PATTERN.fullmatch(name):
            raise LocalInstanceError(
                f"authority name {name!r} is not one word of letters, digits, '.', '_' or '-'",
                hint="the name appears in transparency log checkpoints, which split on spaces",
            )
        start = (now or datetime.now(UTC)).replace(microsecond=0)
        root = _new_ca(name, "root", issuer=None, path_length=1, start=start)
        intermediate = _new_ca(name, "intermediate", issuer=root, path_length=0, start=start)
        return cls(
            name=name,
            tree_id=secrets.randbits(63),
            root=root,
            intermediate=intermediate,
            ct_log_key=generate_key(ec.SECP256R1()),
            transparency_log_key=generate_key(ec.SECP256R1()),
            oidc_issuer_key=generate_key(ec.SECP256R1()),
        )

    def save(self, directory: Path) -> None:
        """Write every key and certificate into ``directory`` (created if missing)."""
        directory.mkdir(parents=True, exist_ok=True)
        for filename, certificate in (
            (_ROOT_CERTIFICATE, self.root.certificate),
            (_INTERMEDIATE_CERTIFICATE, self.intermediate.certificate),
        ):
            (directory / filename).write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        for filename, key in (
            (_ROOT_KEY, self.root.key),
            (_INTERMEDIATE_KEY, self.intermediate.key),
            (_CT_LOG_KEY, self.ct_log_key),
            (_TRANSPARENCY_LOG_KEY, self.transparency_log_key),
            (_OIDC_ISSUER_KEY, self.oidc_issuer_key),
        ):
            write_private_key(directory / filename, key)
        metadata = {"name": self.name, "treeId": self.tree_id}
        (directory / _METADATA).write_text(json.dumps(metadata, indent=2) + "\n")

    @classmethod
    def load(cls, directory: Path) -> Authority:
        """Read an authority that :meth:`save` wrote into ``directory``."""
        metadata_path = directory / _METADATA
        try:
            metadata = json.loads(metadata_path.read_text())
            name = metadata["name"]
            tree_id = metadata["treeId"]
        except FileNotFoundError as error:
            raise LocalInstanceError(
                f"{directory}: not a local Sigstore authority (no {_METADATA})",
                hint="create one with Authority.generate(...).save(directory) "
                "or start a LocalSigstore there",
            ) from error
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise LocalInstanceError(
                f"{metadata_path}: unreadable authority metadata ({error!r})",
                hint="expected a JSON object with 'name' and 'treeId'",
            ) from error
        if not isinstance(name, str) or not isinstance(tree_id, int):
            raise LocalInstanceError(
                f"{metadata_path}: 'name' must be a string and 'treeId' an integer"
            )
        return cls(
            name=name,
            tree_id=tree_id,
            root=CertificateAuthority(
                _read_certificate(directory / _ROOT_CERTIFICATE),
                read_private_key(directory / _ROOT_KEY),
            ),
            intermediate=CertificateAuthority(
                _read_certificate(directory / _INTERMEDIATE_CERTIFICATE),
                read_private_key(directory / _INTERMEDIATE_KEY),
            ),
            ct_log_key=read_private_key(directory / _CT_LOG_KEY),
            transparency_log_key=read_private_key(directory / _TRANSPARENCY_LOG_KEY),
            oidc_issuer_key=read_private_key(directory / _OIDC_ISSUER_KEY),
        )

    @classmethod
    def load_or_create(cls, directory: Path, *, name: str = DEFAULT_NAME) -> Authority:
        """The authority in ``directory``, generated and saved there first if there is none."""
        if (directory / _METADATA).exists():
            return cls.load(directory)
        authority = cls.generate(name=name)
        authority.save(directory)
        return authority


def signature_hash(key: PrivateKey) -> hashes.SHA256 | hashes.SHA384:
    """The hash that goes with ``key``'s curve: SHA-384 for P-384, SHA-256 for P-256."""
    return hashes.SHA384() if key.curve.key_size >= 384 else hashes.SHA256()


def _new_ca(
    authority_name: str,
    role: str,
    *,
    issuer: CertificateAuthority | None,
    path_length: int,
    start: datetime,
) -> CertificateAuthority:
    """A new P-384 CA in Fulcio's profile; a self-signed root when ``issuer`` is None."""
    key = generate_key(ec.SECP384R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, authority_name),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{authority_name} {role}"),
        ]
    )
    signer_key = key if issuer is None else issuer.key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject if issuer is None else issuer.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
    return CertificateAuthority(builder.sign(signer_key, signature_hash(signer_key)), key)


def _read_certificate(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except OSError as error:
        raise LocalInstanceError(
            f"{path}: cannot read the certificate: {error.strerror}"
        ) from error
    except ValueError as error:
        raise LocalInstanceError(f"{path}: not a PEM certificate") from error
