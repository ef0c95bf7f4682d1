"""Signing files as bundles and PEP 740 attestations, against the local Sigstore instance."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from pypi_attestations import Attestation
from sigstore.models import Bundle
from sigstore.verify import Verifier, policy

from anya_plugins.trust.errors import SigningFailed
from anya_plugins.trust.signing import attest_files, sign_files
from anya_sigstore_local import LocalSigstore
from tests.trust.publishing import LIGHTNING, write_wheel
from tests.trust.support import ALICE

AMBIENT_CI_VARIABLES = (
    "GITHUB_ACTIONS",
    "GITLAB_CI",
    "BUILDKITE",
    "CIRCLECI",
    "GOOGLE_SERVICE_ACCOUNT_NAME",
)


@pytest.fixture
def no_ci_credentials(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for variable in AMBIENT_CI_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    return monkeypatch


def test_each_file_gets_a_bundle_beside_it_that_sigstore_verifies(
    tmp_path: Path, local_sigstore: LocalSigstore, verifier: Verifier
) -> None:
    wheels = [write_wheel(tmp_path, LIGHTNING, version) for version in ("1.0.0", "1.1.0")]

    bundles = sign_files(
        wheels,
        identity_token=local_sigstore.issue_token(ALICE),
        trust_config=local_sigstore.trust_config_path,
    )

    assert [bundle.name for bundle in bundles] == [f"{w.name}.sigstore.json" for w in wheels]
    for wheel, bundle in zip(wheels, bundles, strict=True):
        verifier.verify_artifact(
            wheel.read_bytes(),
            Bundle.from_json(bundle.read_bytes()),
            policy.Identity(identity=ALICE, issuer=local_sigstore.issuer_url),
        )


def test_an_attestation_names_the_file_and_its_sha256(
    wheel: Path, local_sigstore: LocalSigstore
) -> None:
    (written,) = attest_files(
        [wheel],
        identity_token=local_sigstore.issue_token(ALICE),
        trust_config=local_sigstore.trust_config_path,
    )

    assert written.name == f"{wheel.name}.publish.attestation"
    (subject,) = Attestation.model_validate_json(written.read_bytes()).statement["subject"]
    assert subject == {
        "name": wheel.name,
        "digest": {"sha256": hashlib.sha256(wheel.read_bytes()).hexdigest()},
    }


def test_an_ambient_ci_credential_signs_when_no_token_is_given(
    wheel: Path, local_sigstore: LocalSigstore, no_ci_credentials: pytest.MonkeyPatch
) -> None:
    # GitLab CI hands the job its token in <AUDIENCE>_ID_TOKEN; sigstore's audience is "sigstore".
    no_ci_credentials.setenv("GITLAB_CI", "true")
    no_ci_credentials.setenv("SIGSTORE_ID_TOKEN", local_sigstore.issue_token(ALICE))

    (bundle,) = sign_files(
        [wheel], identity_token=None, trust_config=local_sigstore.trust_config_path
    )

    certificate = Bundle.from_json(bundle.read_bytes()).signing_certificate
    policy.Identity(identity=ALICE, issuer=local_sigstore.issuer_url).verify(certificate)


def test_without_a_token_or_ci_credential_signing_fails_and_says_how_to_get_one(
    wheel: Path, local_sigstore: LocalSigstore, no_ci_credentials: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SigningFailed, match=r"^no identity token") as raised:
        sign_files([wheel], identity_token=None, trust_config=local_sigstore.trust_config_path)

    assert raised.value.hint is not None
    assert "id-token: write" in raised.value.hint
    assert not (wheel.parent / f"{wheel.name}.sigstore.json").exists()


def test_a_token_from_an_issuer_fulcio_does_not_trust_is_refused(
    wheel: Path, local_sigstore: LocalSigstore, untrusted_sigstore: LocalSigstore
) -> None:
    foreign_token = untrusted_sigstore.issue_token(ALICE)

    with pytest.raises(SigningFailed, match=r"client_trust_config\.json failed: .*401"):
        sign_files(
            [wheel], identity_token=foreign_token, trust_config=local_sigstore.trust_config_path
        )


def test_a_malformed_token_is_a_signing_failure(wheel: Path, local_sigstore: LocalSigstore) -> None:
    with pytest.raises(SigningFailed, match=r"failed: Identity token is malformed"):
        sign_files(
            [wheel], identity_token="not.a.jwt", trust_config=local_sigstore.trust_config_path
        )


def test_a_file_that_is_not_a_distribution_cannot_be_attested(
    tmp_path: Path, local_sigstore: LocalSigstore
) -> None:
    notes = tmp_path / "release-notes.txt"
    notes.write_text("1.2.0: faster channels\n")

    with pytest.raises(SigningFailed, match=r"release-notes\.txt: not a distribution file name"):
        attest_files(
            [notes],
            identity_token=local_sigstore.issue_token(ALICE),
            trust_config=local_sigstore.trust_config_path,
        )


def test_a_missing_file_is_a_signing_failure_naming_it(
    tmp_path: Path, local_sigstore: LocalSigstore
) -> None:
    with pytest.raises(SigningFailed, match=r"absent-1\.0\.0-py3-none-any\.whl: cannot read"):
        sign_files(
            [tmp_path / "absent-1.0.0-py3-none-any.whl"],
            identity_token=local_sigstore.issue_token(ALICE),
            trust_config=local_sigstore.trust_config_path,
        )


def test_a_file_that_is_not_a_trust_config_is_a_signing_failure(
    wheel: Path, local_sigstore: LocalSigstore
) -> None:
    with pytest.raises(SigningFailed, match=r"not a Sigstore client trust config"):
        sign_files(
            [wheel],
            identity_token=local_sigstore.issue_token(ALICE),
            trust_config=local_sigstore.trusted_root_path,
        )
