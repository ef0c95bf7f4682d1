"""Signing distribution files with Sigstore: plain bundles and PEP 740 publish attestations.

Both use sigstore-python's ``Signer``: an ephemeral key, a short-lived certificate from Fulcio
for the signer's OIDC identity, and an entry in the Rekor transparency log. Where the identity
comes from, first found wins:

1. ``identity_token`` given by the caller (``--identity-token``);
2. an ambient CI credential (GitHub Actions, GitLab CI, Buildkite, Google Cloud...), found by
   ``sigstore.oidc.detect_credential``;
3. with ``interactive=True``, the browser flow of the trust config's OIDC issuer (for people
   signing at their own terminal: it blocks until they log in).

``trust_config`` is a Sigstore client trust config (a local or private instance); without it
the public-good instance is used, whose configuration is fetched through TUF.

Outputs sit beside each input: ``<file>.sigstore.json`` (a Sigstore bundle, as the
``sigstore sign`` command writes it) and ``<file>.publish.attestation`` (a PEP 740 attestation
object, as ``python -m pypi_attestations sign`` writes it and ``twine upload --attestations``
reads it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from anya_plugins.trust.errors import SigningFailed, first_line

if TYPE_CHECKING:
    from sigstore.models import ClientTrustConfig
    from sigstore.oidc import IdentityToken
    from sigstore.sign import Signer

NO_IDENTITY_HINT = (
    "signing needs an identity, in one of three ways: (1) in CI, the job's own: GitHub "
    "Actions with 'permissions: id-token: write' (or GitLab CI, Buildkite...) is found by "
    "itself; (2) at a terminal, --interactive signs in through the browser; (3) offline, for "
    "testing, a local Sigstore instance: --trust-config FILE (its client trust config) and "
    "--identity-token TOKEN (or $ANYA_IDENTITY_TOKEN) issued by it; or upload unsigned with "
    "--no-sign where the index allows it"
)
"""What to do when no identity was given and none is ambient (``publish`` and ``sign``)."""

BUNDLE_SUFFIX = ".sigstore.json"
ATTESTATION_SUFFIX = ".publish.attestation"


def bundle_path(path: Path) -> Path:
    """Where the Sigstore bundle of ``path`` is written: ``<file>.sigstore.json``."""
    return path.with_name(path.name + BUNDLE_SUFFIX)


def attestation_path(path: Path) -> Path:
    """Where the PEP 740 attestation of ``path`` is written: ``<file>.publish.attestation``."""
    return path.with_name(path.name + ATTESTATION_SUFFIX)


def sign_files(
    paths: Sequence[Path],
    *,
    identity_token: str | None = None,
    trust_config: Path | None = None,
    interactive: bool = False,
) -> list[Path]:
    """Sign each file as a Sigstore bundle; the bundles' paths, in the order of ``paths``.

    One certificate signs every file. Raises :class:`SigningFailed` when no identity token
    can be had, a file cannot be read, or Fulcio or Rekor refuse.
    """

    def sign(signer: Signer, path: Path) -> Path:
        bundle = signer.sign_artifact(_read(path))
        return _write(bundle_path(path), bundle.to_json())

    return _sign_each(paths, sign, identity_token, trust_config, interactive)


def attest_files(
    paths: Sequence[Path],
    *,
    identity_token: str | None = None,
    trust_config: Path | None = None,
    interactive: bool = False,
) -> list[Path]:
    """Make a PEP 740 publish attestation for each distribution file (wheel or sdist).

    The attestation is an in-toto statement naming the file and its sha256, signed as a DSSE
    envelope by :func:`pypi_attestations.Attestation.sign` with our ``Signer``. Its paths are
    returned in the order of ``paths``. Raises :class:`SigningFailed` as :func:`sign_files`
    does, and for a file whose name is not a wheel's or an sdist's.
    """
    from pypi_attestations import Attestation, AttestationError, Distribution

    def attest(signer: Signer, path: Path) -> Path:
        try:
            distribution = Distribution.from_file(path)
        except ValueError as error:  # pydantic's ValidationError is one
            raise SigningFailed(
                f"{path}: not a distribution file name: {first_line(error)}",
                hint="attestations are for wheels (.whl) and sdists (.tar.gz)",
            ) from error
        except OSError as error:
            raise SigningFailed(f"{path}: cannot read: {error.strerror or error}") from error
        try:
            attestation = Attestation.sign(signer, distribution)
        except AttestationError as error:
            raise SigningFailed(f"{path}: the attestation could not be signed: {error}") from error
        return _write(attestation_path(path), attestation.model_dump_json())

    return _sign_each(paths, attest, identity_token, trust_config, interactive)


def _sign_each(
    paths: Sequence[Path],
    sign: Callable[[Signer, Path], Path],
    identity_token: str | None,
    trust_config: Path | None,
    interactive: bool,
) -> list[Path]:
    with _signer(identity_token, trust_config, interactive) as signer:
        return [sign(signer, path) for path in paths]


@contextmanager
def _signer(
    identity_token: str | None, trust_config: Path | None, interactive: bool
) -> Iterator[Signer]:
    """A ``Signer`` holding a fresh certificate; sigstore's errors, raised while getting it or
    while signing in the ``with`` block, become :class:`SigningFailed`."""
    from sigstore.oidc import IdentityToken
    from sigstore.sign import SigningContext

    ambient = None if identity_token else _ambient_credential(interactive)
    config = _client_trust_config(trust_config)
    try:
        given = identity_token or ambient
        token = IdentityToken(given) if given else _browser_token(config)
        with SigningContext.from_trust_config(config).signer(token) as signer:
            yield signer
    except _sigstore_errors() as error:
        where = trust_config or "the Sigstore public-good instance"
        raise SigningFailed(
            f"signing with {where} failed: {first_line(error)}",
            hint="check the identity token (is it expired?) and that Fulcio and Rekor answer",
        ) from error


def _client_trust_config(path: Path | None) -> ClientTrustConfig:
    from sigstore.models import ClientTrustConfig

    if path is None:
        try:
            return ClientTrustConfig.production()
        except _sigstore_errors() as error:
            raise SigningFailed(
                f"cannot fetch the Sigstore public-good trust config: {first_line(error)}",
                hint="check the network, or sign against a local instance with --trust-config",
            ) from error
    try:
        return ClientTrustConfig.from_json(path.read_text())
    except OSError as error:
        raise SigningFailed(f"{path}: cannot read: {error.strerror or error}") from error
    except ValueError as error:  # JSON and pydantic validation errors are ValueErrors
        raise SigningFailed(
            f"{path}: not a Sigstore client trust config: {first_line(error)}",
            hint="it is the JSON document 'sigstore --trust-config' takes",
        ) from error


def _ambient_credential(interactive: bool) -> str | None:
    """The CI's ambient OIDC credential; none and not ``interactive`` is an error at once,
    before the trust config is fetched (it names the three ways to sign)."""
    from sigstore.oidc import detect_credential

    try:
        ambient = detect_credential()
    except _sigstore_errors() as error:
        raise SigningFailed(
            f"the CI's identity could not be read: {first_line(error)}", hint=NO_IDENTITY_HINT
        ) from error
    if ambient is None and not interactive:
        raise SigningFailed(
            "no identity token: none was given and no CI credential was found",
            hint=NO_IDENTITY_HINT,
        )
    return ambient


def _browser_token(config: ClientTrustConfig) -> IdentityToken:
    """The trust config's OIDC issuer's interactive browser flow (``--interactive``)."""
    from sigstore.oidc import Issuer

    return Issuer(config.signing_config.get_oidc_url()).identity_token()


def _sigstore_errors() -> tuple[type[Exception], ...]:
    """What signing raises for a bad token or a refusing service.

    Fulcio's and Rekor's client errors and requests' connection errors reach callers of the
    public ``Signer`` unwrapped, so they are named here from where sigstore defines them.
    """
    import requests
    from sigstore._internal.fulcio.client import ExpiredCertificate, FulcioClientError
    from sigstore._internal.rekor import RekorClientError
    from sigstore.errors import Error
    from sigstore.oidc import ExpiredIdentity, IssuerError

    return (
        Error,
        ExpiredIdentity,
        ExpiredCertificate,
        IssuerError,
        FulcioClientError,
        RekorClientError,
        requests.RequestException,
    )


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise SigningFailed(f"{path}: cannot read: {error.strerror or error}") from error


def _write(path: Path, text: str) -> Path:
    try:
        path.write_text(text)
    except OSError as error:
        raise SigningFailed(f"{path}: cannot write: {error.strerror or error}") from error
    return path
