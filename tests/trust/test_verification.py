"""A distribution file is let in only as the trust policy says: real signatures made on the
local Sigstore instance, verified offline against its trusted root."""

from __future__ import annotations

import functools
import hashlib
import re
from pathlib import Path

import pytest

from anya_plugins.trust.errors import MissingSignature, TrustPolicyError, VerificationFailed
from anya_plugins.trust.policy import EnterpriseRules, TrustPolicy
from anya_plugins.trust.verification import Unsigned, verify_digest, verify_file
from tests.trust.publishing import (
    LIGHTNING,
    LIGHTNING_RELEASE,
    LIGHTNING_RELEASES,
    MALLORY,
    Publishing,
    flip_one_byte,
    verify,
    write_wheel,
)


def test_a_wheel_signed_by_an_allowed_publisher_is_let_in_and_says_who_signed(
    publishing: Publishing, wheel: Path
) -> None:
    lightning = publishing.publisher(LIGHTNING_RELEASE, names=("anya-ext-lightning*",))
    bundle = publishing.bundle(wheel, LIGHTNING_RELEASE)

    decision = verify(wheel, publishing.policy(lightning), bundle=bundle)

    assert decision.how == "bundle"
    assert (decision.identity, decision.issuer) == (LIGHTNING_RELEASE, lightning.issuer)
    assert decision.signatures[0].publisher == lightning
    assert decision.sha256 == hashlib.sha256(wheel.read_bytes()).hexdigest()


def test_a_wheel_with_one_byte_changed_is_refused(publishing: Publishing, wheel: Path) -> None:
    bundle = publishing.bundle(wheel, LIGHTNING_RELEASE)
    flip_one_byte(wheel)

    with pytest.raises(
        VerificationFailed,
        match=r"its Sigstore bundle \(message signature\) does not verify for this file",
    ):
        verify(wheel, publishing.policy(publishing.publisher(LIGHTNING_RELEASE)), bundle=bundle)


def test_a_signer_the_policy_does_not_allow_is_named_beside_the_allowed_ones(
    publishing: Publishing, wheel: Path
) -> None:
    bundle = publishing.bundle(wheel, MALLORY)

    with pytest.raises(VerificationFailed) as raised:
        verify(wheel, publishing.policy(publishing.publisher(LIGHTNING_RELEASES)), bundle=bundle)

    message = str(raised.value)
    assert message.startswith(
        f"{wheel.name}: its Sigstore bundle (message signature) is signed by {MALLORY} (issuer "
    )
    assert f"allowed signers: {LIGHTNING_RELEASES} (issuer " in message
    assert raised.value.found is not None and MALLORY in raised.value.found
    assert raised.value.expected == (str(publishing.publisher(LIGHTNING_RELEASES)),)


def test_a_missing_signature_is_refused_when_signatures_are_required(
    publishing: Publishing, wheel: Path
) -> None:
    policy = publishing.policy(publishing.publisher(LIGHTNING_RELEASES))

    with pytest.raises(
        MissingSignature, match=r"has no signature, and the trust policy requires one"
    ) as raised:
        verify(wheel, policy)

    assert LIGHTNING_RELEASES in str(raised.value)


def test_a_valid_signature_for_a_different_file_is_refused(
    publishing: Publishing, wheel: Path, tmp_path: Path
) -> None:
    other_version = write_wheel(tmp_path, LIGHTNING, version="1.1.0")
    bundle_of_other = publishing.bundle(other_version, LIGHTNING_RELEASE)

    with pytest.raises(
        VerificationFailed,
        match=r"its Sigstore bundle \(message signature\) does not verify for this file",
    ):
        verify(
            wheel,
            publishing.policy(publishing.publisher(LIGHTNING_RELEASE)),
            bundle=bundle_of_other,
        )


def test_a_certificate_from_an_untrusted_authority_is_refused(
    untrusted_publishing: Publishing, wheel: Path
) -> None:
    bundle = untrusted_publishing.bundle(wheel, LIGHTNING_RELEASE)
    # The same identity from the same issuer: only the authority behind it is unknown.
    policy = untrusted_publishing.policy(untrusted_publishing.publisher(LIGHTNING_RELEASE))

    with pytest.raises(
        VerificationFailed,
        match=rf"was not made through a trusted Sigstore instance .*"
        rf"its certificate claims {re.escape(LIGHTNING_RELEASE)} .*which proves nothing",
    ):
        verify(wheel, policy, bundle=bundle)


def test_allow_unsigned_is_refused_when_the_policy_forbids_it(
    publishing: Publishing, wheel: Path
) -> None:
    policy = publishing.policy(publishing.publisher(LIGHTNING_RELEASES), allow_unsigned=False)

    with pytest.raises(MissingSignature, match=r"does not permit --allow-unsigned"):
        verify(wheel, policy, allow_unsigned=True)


def test_allow_unsigned_is_accepted_and_recorded_when_the_policy_permits_it(
    publishing: Publishing, wheel: Path
) -> None:
    policy = publishing.policy(publishing.publisher(LIGHTNING_RELEASES), allow_unsigned=True)

    decision = verify(wheel, policy, allow_unsigned=True)

    assert decision.unsigned is Unsigned.ALLOWED
    assert not decision.signed
    assert decision.to_record()["how"] == "unsigned-allowed"


def test_a_policy_permitting_allow_unsigned_still_refuses_without_the_flag(
    publishing: Publishing, wheel: Path
) -> None:
    policy = publishing.policy(publishing.publisher(LIGHTNING_RELEASES), allow_unsigned=True)

    with pytest.raises(MissingSignature):
        verify(wheel, policy, allow_unsigned=False)


def test_an_unsigned_file_is_let_in_where_signatures_are_not_required(
    publishing: Publishing, wheel: Path
) -> None:
    decision = verify(wheel, publishing.policy(require_signatures=False))

    assert decision.how == "unsigned-not-required"


def test_allow_unsigned_never_excuses_a_signature_by_the_wrong_signer(
    publishing: Publishing, wheel: Path
) -> None:
    bundle = publishing.bundle(wheel, MALLORY)
    policy = publishing.policy(
        publishing.publisher(LIGHTNING_RELEASES), allow_unsigned=True, require_signatures=False
    )

    with pytest.raises(VerificationFailed, match=rf"signed by {MALLORY}"):
        verify(wheel, policy, bundle=bundle, allow_unsigned=True)


def test_a_glob_identity_admits_a_release_tag_of_the_workflow(
    publishing: Publishing, wheel: Path
) -> None:
    bundle = publishing.bundle(wheel, LIGHTNING_RELEASE)

    decision = verify(
        wheel, publishing.policy(publishing.publisher(LIGHTNING_RELEASES)), bundle=bundle
    )

    assert decision.identity == LIGHTNING_RELEASE
    assert decision.signatures[0].publisher.identity == LIGHTNING_RELEASES


def test_a_glob_identity_refuses_a_branch_build_of_the_same_workflow(
    publishing: Publishing, wheel: Path
) -> None:
    branch_build = LIGHTNING_RELEASE.replace("refs/tags/v1.2.0", "refs/heads/main")
    bundle = publishing.bundle(wheel, branch_build)

    with pytest.raises(VerificationFailed, match=re.escape(f"signed by {branch_build} (issuer")):
        verify(wheel, publishing.policy(publishing.publisher(LIGHTNING_RELEASES)), bundle=bundle)


def test_a_publisher_may_sign_only_the_names_its_globs_match(
    publishing: Publishing, tmp_path: Path
) -> None:
    wallet = write_wheel(tmp_path, "anya-ext-wallet")
    bundle = publishing.bundle(wallet, LIGHTNING_RELEASE)
    lightning_only = publishing.publisher(LIGHTNING_RELEASES, names=("anya-ext-lightning*",))

    with pytest.raises(VerificationFailed, match=r"the policy allows no signer for it"):
        verify(
            wallet, publishing.policy(lightning_only), bundle=bundle, dist_name="anya-ext-wallet"
        )


def test_a_publisher_of_one_source_is_refused_for_another(
    publishing: Publishing, wheel: Path
) -> None:
    bundle = publishing.bundle(wheel, LIGHTNING_RELEASE)
    primary_only = publishing.publisher(LIGHTNING_RELEASES, sources=("primary",))
    policy = publishing.policy(primary_only)

    assert verify(wheel, policy, bundle=bundle, source="primary").signed
    with pytest.raises(VerificationFailed, match=r"from source 'community'"):
        verify(wheel, policy, bundle=bundle, source="community")


def test_an_enterprise_source_trusts_only_its_own_publishers(
    publishing: Publishing, tmp_path: Path
) -> None:
    ledger = write_wheel(tmp_path, "acme-ledger")
    acme_release = "release@acme.example"
    policy = TrustPolicy(
        trusted_root=publishing.trusted_root,
        publishers=(publishing.publisher(LIGHTNING_RELEASES),),
        enterprise=(
            EnterpriseRules("acme", allowed_publishers=(publishing.publisher(acme_release),)),
        ),
    )
    by_acme = publishing.bundle(ledger, acme_release)
    by_lightning = publishing.bundle(ledger, LIGHTNING_RELEASE)

    decision = verify(
        ledger, policy, bundle=by_acme, dist_name="acme-ledger", source="enterprise.acme"
    )
    assert decision.identity == acme_release
    with pytest.raises(VerificationFailed, match=r"allowed signers: release@acme\.example"):
        verify(
            ledger, policy, bundle=by_lightning, dist_name="acme-ledger", source="enterprise.acme"
        )


def test_a_file_presented_under_another_distribution_name_is_refused(
    publishing: Publishing, wheel: Path
) -> None:
    bundle = publishing.bundle(wheel, LIGHTNING_RELEASE)
    everyone = publishing.publisher(LIGHTNING_RELEASES, names=("*",))

    with pytest.raises(VerificationFailed, match=r"is a file of 'anya-ext-lightning', not of"):
        verify(wheel, publishing.policy(everyone), bundle=bundle, dist_name="anya-ext-wallet")


def test_a_bundle_that_is_not_json_is_refused_naming_the_file(
    publishing: Publishing, wheel: Path
) -> None:
    with pytest.raises(
        VerificationFailed, match=rf"^{re.escape(wheel.name)}: its Sigstore bundle cannot be read"
    ):
        verify(wheel, publishing.policy(publishing.publisher(LIGHTNING_RELEASES)), bundle=b"<html>")


def test_a_receipt_is_rechecked_from_the_file_name_and_sha256_alone(
    publishing: Publishing, wheel: Path
) -> None:
    bundle = publishing.bundle(wheel, LIGHTNING_RELEASE)
    policy = publishing.policy(publishing.publisher(LIGHTNING_RELEASES))
    recheck = functools.partial(
        verify_digest, bundle=bundle, attestation=None, dist_name=LIGHTNING, source="primary"
    )

    sha256 = hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert recheck(wheel.name, sha256, policy=policy).identity == LIGHTNING_RELEASE
    with pytest.raises(VerificationFailed, match=r"does not verify for this file"):
        recheck(wheel.name, "0" * 64, policy=policy)


def test_a_trusted_root_that_cannot_be_read_is_a_policy_error(
    publishing: Publishing, wheel: Path, tmp_path: Path
) -> None:
    bundle = publishing.bundle(wheel, LIGHTNING_RELEASE)
    policy = TrustPolicy(
        trusted_root=tmp_path / "absent.json",
        publishers=(publishing.publisher(LIGHTNING_RELEASES),),
    )

    with pytest.raises(
        TrustPolicyError, match=r"^trust\.trusted_root: .*absent\.json: cannot read"
    ):
        verify(wheel, policy, bundle=bundle)


def test_the_public_good_root_verifies_offline_and_refuses_a_local_signature(
    publishing: Publishing, wheel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # sigstore keeps its TUF cache under the user's cache directory: keep it in tmp_path.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    bundle = publishing.bundle(wheel, LIGHTNING_RELEASE)
    production = TrustPolicy(publishers=(publishing.publisher(LIGHTNING_RELEASES),))

    with pytest.raises(VerificationFailed, match=r"not made through a trusted Sigstore instance"):
        verify_file(
            wheel,
            bundle=bundle,
            attestation=None,
            dist_name=LIGHTNING,
            source="primary",
            policy=production,
            offline=True,
        )


def test_a_receipt_whose_sha256_is_not_a_digest_is_refused(publishing: Publishing) -> None:
    with pytest.raises(VerificationFailed, match=r"'sha256:ab' is not a hex sha256 digest"):
        verify_digest(
            "anya_ext_lightning-1.2.0-py3-none-any.whl",
            "sha256:ab",
            bundle=None,
            attestation=None,
            dist_name=LIGHTNING,
            source="primary",
            policy=publishing.policy(require_signatures=False),
        )
