"""Every real signature format, made by other tools on the local Sigstore instance, checked by
``anya-ext verify FILE`` (a real CLI process) and by the installer's own verification:

- a Sigstore bundle with a message signature, from ``sigstore sign`` (sigstore-python's CLI);
- a Sigstore bundle with a DSSE envelope (an in-toto statement), from ``sigstore attest``,
  beside the file as ``<file>.sigstore``, as PyPI projects publish it;
- a PEP 740 attestation, from ``pypi_attestations.Attestation.sign``;
- a PEP 740 provenance object, built with pypi-attestations' own models.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pypi_attestations import Attestation, AttestationBundle, Distribution, GitHubPublisher
from pypi_attestations import Provenance as PypiProvenance
from sigstore.models import ClientTrustConfig
from sigstore.oidc import IdentityToken
from sigstore.sign import SigningContext

from anya_plugins.trust.policy import Publisher, TrustPolicy
from anya_plugins.trust.verification import EvidenceFormat, read_evidence, verify_file
from anya_sigstore_local import LocalSigstore
from tests.trust.publishing import LIGHTNING, MALLORY, write_wheel
from tests.trust.support import ALICE, capture, sigstore_cli

SLSA_V1 = "https://slsa.dev/provenance/v1"
SLSA_PREDICATE = {
    "buildDefinition": {
        "buildType": "https://anya.example/build/v1",
        "externalParameters": {"ref": "refs/tags/v1.2.0"},
    },
    "runDetails": {"builder": {"id": "https://anya.example/builder"}},
}


@dataclass(frozen=True)
class Signed:
    """One wheel and a signature document of each format, all signed by ALICE."""

    wheel: Path
    documents: dict[EvidenceFormat, Path]
    option: dict[EvidenceFormat, str]


@pytest.fixture(scope="module")
def signed(local_sigstore: LocalSigstore, tmp_path_factory: pytest.TempPathFactory) -> Signed:
    directory = tmp_path_factory.mktemp("formats")
    wheel = write_wheel(directory, LIGHTNING)
    token = local_sigstore.issue_token(ALICE)
    message_bundle = directory / "message.sigstore.json"
    dsse_bundle = wheel.with_name(wheel.name + ".sigstore")  # as PyPI projects publish it
    predicate = directory / "predicate.json"
    predicate.write_text(json.dumps(SLSA_PREDICATE))
    for done in (
        sigstore_cli(
            local_sigstore.trust_config_path,
            "sign", "--identity-token", token, "--bundle", message_bundle, wheel,
        ),
        sigstore_cli(
            local_sigstore.trust_config_path,
            "attest", "--identity-token", token, "--predicate", predicate,
            "--predicate-type", SLSA_V1, "--bundle", dsse_bundle, wheel,
        ),
    ):  # fmt: skip
        assert done.returncode == 0, done.stderr
    attestation = pypi_attestation(local_sigstore, wheel, ALICE)
    attestation_file = directory / "lightning.publish.attestation"
    attestation_file.write_text(attestation.model_dump_json())
    provenance_file = directory / "lightning.provenance.json"
    provenance_file.write_text(
        PypiProvenance(
            attestation_bundles=[
                AttestationBundle(
                    publisher=GitHubPublisher(
                        repository="anya-org/lightning", workflow="release.yml"
                    ),
                    attestations=[attestation],
                )
            ]
        ).model_dump_json()
    )
    return Signed(
        wheel,
        {
            EvidenceFormat.MESSAGE_BUNDLE: message_bundle,
            EvidenceFormat.DSSE_BUNDLE: dsse_bundle,
            EvidenceFormat.ATTESTATION: attestation_file,
            EvidenceFormat.PROVENANCE: provenance_file,
        },
        {
            EvidenceFormat.MESSAGE_BUNDLE: "--bundle",
            EvidenceFormat.DSSE_BUNDLE: "--bundle",
            EvidenceFormat.ATTESTATION: "--attestation",
            EvidenceFormat.PROVENANCE: "--provenance",
        },
    )


def pypi_attestation(sigstore: LocalSigstore, dist: Path, identity: str) -> Attestation:
    """A PEP 740 attestation made by pypi-attestations itself, with a signer on ``sigstore``."""
    config = ClientTrustConfig.from_json(sigstore.trust_config_path.read_text())
    context = SigningContext.from_trust_config(config)
    with context.signer(IdentityToken(sigstore.issue_token(identity))) as signer:
        return Attestation.sign(signer, Distribution.from_file(dist))


def anya_verify(
    sigstore: LocalSigstore, file: Path, *options: str | Path, identity: str = ALICE
) -> tuple[int, dict[str, Any], str]:
    """``anya-ext --json verify FILE ...`` against the local instance's trusted root: the exit
    code, the JSON result and stderr."""
    done = capture(
        sys.executable, "-m", "anya_plugins.cli.main", "--json", "verify", file, *options,
        "--identity", identity, "--issuer", sigstore.issuer_url,
        "--trusted-root", sigstore.trusted_root_path,
    )  # fmt: skip
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout), done.stderr


@pytest.mark.parametrize("form", list(EvidenceFormat))
def test_every_format_made_by_another_tool_verifies_naming_the_signer(
    form: EvidenceFormat, signed: Signed, local_sigstore: LocalSigstore
) -> None:
    code, result, stderr = anya_verify(
        local_sigstore, signed.wheel, signed.option[form], signed.documents[form]
    )

    assert code == 0, stderr
    assert result["ok"] is True
    assert result["format"] == form.value
    assert (result["identity"], result["issuer"]) == (ALICE, local_sigstore.issuer_url)
    assert result["sha256"] == hashlib.sha256(signed.wheel.read_bytes()).hexdigest()


@pytest.mark.parametrize("form", list(EvidenceFormat))
def test_another_signer_is_refused_naming_the_format_the_signer_found_and_the_one_expected(
    form: EvidenceFormat, signed: Signed, local_sigstore: LocalSigstore
) -> None:
    code, result, stderr = anya_verify(
        local_sigstore,
        signed.wheel,
        signed.option[form],
        signed.documents[form],
        identity=MALLORY,
    )

    assert code == 13
    assert result["ok"] is False
    assert result["identity"] == ALICE
    assert f"its {form.description} is signed by {ALICE} (issuer " in stderr
    assert f"expected: {MALLORY} (issuer {local_sigstore.issuer_url})" in stderr


def test_a_dsse_bundle_beside_the_file_as_pypi_publishes_it_is_found_without_naming_it(
    signed: Signed, local_sigstore: LocalSigstore
) -> None:
    code, result, stderr = anya_verify(local_sigstore, signed.wheel)

    assert code == 0, stderr
    assert result["signature"] == str(signed.documents[EvidenceFormat.DSSE_BUNDLE])
    assert result["format"] == EvidenceFormat.DSSE_BUNDLE.value


def test_a_dsse_bundle_of_another_file_is_refused_naming_the_subject_it_is_about(
    signed: Signed, local_sigstore: LocalSigstore, tmp_path: Path
) -> None:
    other = write_wheel(tmp_path, LIGHTNING, version="1.2.1")
    wheel_sha256 = hashlib.sha256(signed.wheel.read_bytes()).hexdigest()

    code, result, stderr = anya_verify(
        local_sigstore, other, "--bundle", signed.documents[EvidenceFormat.DSSE_BUNDLE]
    )

    assert code == 13
    assert result["format"] == EvidenceFormat.DSSE_BUNDLE.value
    assert (
        f"its Sigstore bundle (DSSE envelope) holds an in-toto statement about "
        f"{signed.wheel.name} (sha256 {wheel_sha256}), not about this file (sha256 "
        f"{result['sha256']})"
    ) in stderr


def test_a_message_signature_over_another_file_is_refused(
    signed: Signed, local_sigstore: LocalSigstore, tmp_path: Path
) -> None:
    other = write_wheel(tmp_path, LIGHTNING, version="1.2.1")

    code, result, stderr = anya_verify(
        local_sigstore, other, "--bundle", signed.documents[EvidenceFormat.MESSAGE_BUNDLE]
    )

    assert code == 13
    assert result["format"] == EvidenceFormat.MESSAGE_BUNDLE.value
    assert "its Sigstore bundle (message signature) does not verify for this file" in stderr


def test_a_signature_document_of_no_known_format_is_refused_as_unreadable(
    signed: Signed, local_sigstore: LocalSigstore, tmp_path: Path
) -> None:
    page = tmp_path / "bundle.json"
    page.write_text('{"mediaType": "application/json", "payload": "..."}')

    code, result, stderr = anya_verify(local_sigstore, signed.wheel, "--bundle", page)

    assert code == 13
    assert result["format"] is None
    assert "its Sigstore bundle cannot be read: it is neither a Sigstore bundle" in stderr


def test_a_bundle_from_an_untrusted_instance_is_refused(
    signed: Signed, local_sigstore: LocalSigstore, untrusted_sigstore: LocalSigstore
) -> None:
    bundle = signed.wheel.with_name("untrusted.sigstore.json")
    done = sigstore_cli(
        untrusted_sigstore.trust_config_path,
        "sign", "--identity-token", untrusted_sigstore.issue_token(ALICE),
        "--bundle", bundle, signed.wheel,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr

    code, _, stderr = anya_verify(local_sigstore, signed.wheel, "--bundle", bundle)

    assert code == 13
    assert "its Sigstore bundle (message signature) was not made through a trusted" in stderr


def test_the_stock_sigstore_cli_agrees_on_the_dsse_bundle(
    signed: Signed, local_sigstore: LocalSigstore
) -> None:
    done = sigstore_cli(
        local_sigstore.trust_config_path,
        "verify", "identity", "--offline",
        "--bundle", signed.documents[EvidenceFormat.DSSE_BUNDLE],
        "--cert-identity", ALICE, "--cert-oidc-issuer", local_sigstore.issuer_url,
        signed.wheel,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("form", list(EvidenceFormat))
def test_the_installer_accepts_every_format_through_the_same_code(
    form: EvidenceFormat, signed: Signed, local_sigstore: LocalSigstore
) -> None:
    policy = TrustPolicy(
        trusted_root=local_sigstore.trusted_root_path,
        publishers=(Publisher(ALICE, local_sigstore.issuer_url, (LIGHTNING,)),),
    )
    document = signed.documents[form].read_bytes()

    decision = verify_file(
        signed.wheel,
        bundle=None,
        attestation=document,
        dist_name=LIGHTNING,
        source="primary",
        policy=policy,
        offline=True,
    )

    assert [signature.format for signature in decision.signatures] == [form]
    assert decision.identity == ALICE


def test_verify_by_name_refuses_the_file_options(local_sigstore: LocalSigstore) -> None:
    done = capture(
        sys.executable, "-m", "anya_plugins.cli.main", "verify", "anya-ext-not-a-file",
        "--identity", ALICE, "--issuer", local_sigstore.issuer_url,
    )  # fmt: skip

    assert done.returncode == 2
    assert "--identity, --issuer: only for verify FILE" in done.stderr


def test_the_provenance_pypi_serves_is_read_as_a_provenance_object() -> None:
    served = Path(__file__).parent / "assets" / "gcb_attestation_test-0.0.0.tar.gz.provenance"

    evidence = read_evidence(served.read_bytes(), subject="gcb_attestation_test-0.0.0.tar.gz")

    assert evidence.format is EvidenceFormat.PROVENANCE
    assert [(signer.identity, signer.issuer) for signer in evidence.signers()] == [
        ("919436158236-compute@developer.gserviceaccount.com", "https://accounts.google.com")
    ]


def test_the_table_names_the_signature_read_its_format_and_the_signer(
    signed: Signed, local_sigstore: LocalSigstore
) -> None:
    done = capture(
        sys.executable, "-m", "anya_plugins.cli.main", "verify", signed.wheel,
        "--identity", ALICE, "--issuer", local_sigstore.issuer_url,
        "--trusted-root", local_sigstore.trusted_root_path,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    row = next(line for line in done.stdout.splitlines() if signed.wheel.name in line)
    assert "Sigstore bundle (DSSE envelope)" in row
    assert f"{ALICE} (issuer {local_sigstore.issuer_url})" in row
    assert "yes" in row
