"""PEP 740 on the running registry: ``twine upload --attestations`` in, provenance out.

Attestations are real: made with pypi-attestations' ``Attestation.sign`` and sigstore-python's
``Signer`` against a local Sigstore instance, and verified with sigstore's ``Verifier``
trusting only that instance's root.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pypi_attestations import Attestation, Distribution
from sigstore.models import ClientTrustConfig, TrustedRoot
from sigstore.oidc import IdentityToken
from sigstore.sign import SigningContext
from sigstore.verify import Verifier, policy

from anya_plugins.registry.provenance import MEDIA_TYPE
from anya_sigstore_local import LocalSigstore
from tests.registry_fixtures import PASSWORDS, Registry, Upload, metadata_wheel
from tests.support import ExtensionBuilder, ExtensionSpec

pytestmark = pytest.mark.slow

PRIVATE, EXPERIMENTAL = "acme/private", "community/experimental"
PROJECT = "anya-ext-provenance-probe"
ALICE = "alice@example.com"
READER = "acme"
"""The private index answers its owner only."""
ATTESTED = ("--attestations",)

Attest = Callable[[Path], Path]


@pytest.fixture(scope="module")
def attest(local_sigstore: LocalSigstore) -> Attest:
    """Sign a PEP 740 publish attestation of a file as Alice, to ``<file>.publish.attestation``
    (the name twine looks for); each call signs anew, with a new certificate."""
    config = ClientTrustConfig.from_json(local_sigstore.trust_config_path.read_text())
    context = SigningContext.from_trust_config(config)

    def sign(path: Path) -> Path:
        token = IdentityToken(local_sigstore.issue_token(ALICE))
        with context.signer(token) as signer:
            attestation = Attestation.sign(signer, Distribution.from_file(path))
        target = path.with_name(path.name + ".publish.attestation")
        target.write_text(attestation.model_dump_json())
        return target

    return sign


@pytest.fixture(scope="module")
def wheel(build_extension: ExtensionBuilder) -> Path:
    return build_extension(ExtensionSpec("provenance-probe", category=EXPERIMENTAL))


@pytest.fixture(scope="module")
def uploaded(upload: Upload, wheel: Path, attest: Attest) -> Path:
    """The wheel on the private (non-volatile) index with Alice's attestation; returns it."""
    done = upload(PRIVATE, wheel, attest(wheel), user="acme", options=ATTESTED)
    assert done.returncode == 0, done.stdout + done.stderr
    return wheel


def provenance(registry: Registry, index: str, filename: str) -> dict[str, Any]:
    found = registry.client(READER).provenance(index, filename)
    assert found is not None, f"{index} has no provenance for {filename}"
    return found


def attestations(found: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for bundle in found["attestation_bundles"] for a in bundle["attestations"]]


def test_simple_json_links_the_provenance_of_an_attested_file(
    registry: Registry, uploaded: Path
) -> None:
    page = registry.client(READER).simple_project(PRIVATE, PROJECT)

    (entry,) = page["files"]
    assert entry["provenance"] == f"{registry.url}/{PRIVATE}/+provenance/{uploaded.name}"


def test_provenance_url_answers_with_the_pep_740_media_type_and_publisher(
    registry: Registry, uploaded: Path
) -> None:
    url = f"{registry.url}/{PRIVATE}/+provenance/{uploaded.name}"
    secret = base64.b64encode(f"{READER}:{PASSWORDS[READER]}".encode()).decode("ascii")
    request = urllib.request.Request(url, headers={"Authorization": f"Basic {secret}"})

    with urllib.request.urlopen(request, timeout=10) as response:
        content_type = response.headers["Content-Type"]
        found = json.loads(response.read())

    assert content_type.split(";")[0] == MEDIA_TYPE
    assert found["version"] == 1
    (bundle,) = found["attestation_bundles"]
    assert bundle["publisher"] == {
        "kind": "anya-local",
        "claims": {"user": "acme", "index": PRIVATE},
    }


def test_served_attestation_verifies_against_the_file_with_the_local_root(
    registry: Registry, uploaded: Path, local_sigstore: LocalSigstore
) -> None:
    (served,) = attestations(provenance(registry, PRIVATE, uploaded.name))
    verifier = Verifier(trusted_root=TrustedRoot.from_file(str(local_sigstore.trusted_root_path)))
    identity = policy.Identity(identity=ALICE, issuer=local_sigstore.issuer_url)

    bundle = Attestation.model_validate(served).to_bundle()
    _, payload = verifier.verify_dsse(bundle, identity)

    (subject,) = json.loads(payload)["subject"]
    assert subject == {
        "name": uploaded.name,
        "digest": {"sha256": hashlib.sha256(uploaded.read_bytes()).hexdigest()},
    }


def test_attestation_of_other_bytes_is_refused_with_400_and_nothing_stored(
    registry: Registry, upload: Upload, attest: Attest, tmp_path: Path
) -> None:
    genuine = metadata_wheel(tmp_path, "anya-ext-provenance-swap", summary="Genuine")
    forged_dir = tmp_path / "forged"
    forged_dir.mkdir()
    forged = metadata_wheel(forged_dir, "anya-ext-provenance-swap", summary="Tampered")
    shutil.copy(attest(genuine), forged.with_name(forged.name + ".publish.attestation"))

    done = upload(
        PRIVATE,
        forged,
        forged.with_name(forged.name + ".publish.attestation"),
        user="acme",
        options=ATTESTED,
    )

    output = " ".join((done.stdout + done.stderr).split())
    assert done.returncode != 0
    assert "400" in output and "attestation 1: it attests" in output
    assert "anya-ext-provenance-swap" not in registry.client(READER).projects(PRIVATE)


def test_attestation_that_is_not_an_attestation_object_is_refused(
    registry: Registry, upload: Upload, tmp_path: Path
) -> None:
    wheel = metadata_wheel(tmp_path, "anya-ext-provenance-junk")
    junk = wheel.with_name(wheel.name + ".publish.attestation")
    junk.write_text('"signed, trust me"')

    done = upload(PRIVATE, wheel, junk, user="acme", options=ATTESTED)

    assert "attestation 1: not a JSON object" in " ".join((done.stdout + done.stderr).split())
    assert "anya-ext-provenance-junk" not in registry.client(READER).projects(PRIVATE)


def test_file_uploaded_without_attestations_has_no_provenance(
    registry: Registry, upload: Upload, tmp_path: Path
) -> None:
    wheel = metadata_wheel(tmp_path, "anya-ext-provenance-none")

    done = upload(PRIVATE, wheel, user="acme")

    assert done.returncode == 0, done.stdout + done.stderr
    (entry,) = registry.client(READER).simple_project(PRIVATE, "anya-ext-provenance-none")["files"]
    assert "provenance" not in entry
    assert registry.client(READER).provenance(PRIVATE, wheel.name) is None


def test_identical_reupload_with_a_new_attestation_keeps_both(
    registry: Registry, upload: Upload, uploaded: Path, attest: Attest
) -> None:
    before = attestations(provenance(registry, PRIVATE, uploaded.name))
    fresh = attest(uploaded)

    again = upload(PRIVATE, uploaded, fresh, user="acme", options=ATTESTED)
    repeated = upload(PRIVATE, uploaded, fresh, user="acme", options=ATTESTED)

    assert again.returncode == 0 and repeated.returncode == 0, again.stdout + repeated.stdout
    after = attestations(provenance(registry, PRIVATE, uploaded.name))
    assert after == [*before, json.loads(fresh.read_text())]


def test_push_to_another_index_copies_the_attestations(registry: Registry, uploaded: Path) -> None:
    source = attestations(provenance(registry, PRIVATE, uploaded.name))

    registry.client("acme").push(PRIVATE, PROJECT, "0.1.0", EXPERIMENTAL)

    assert attestations(provenance(registry, EXPERIMENTAL, uploaded.name)) == source


def test_an_index_that_does_not_serve_the_file_has_no_provenance_for_it(
    registry: Registry, uploaded: Path
) -> None:
    assert registry.client().provenance("anya/primary", uploaded.name) is None
