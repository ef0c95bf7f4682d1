"""A local instance keeps its root and its log across restarts, and verification needs neither."""

from __future__ import annotations

from pathlib import Path

import pytest
from sigstore.models import TrustedRoot
from sigstore.verify import Verifier, policy

from anya_sigstore_local import LocalInstanceError, LocalSigstore, ServicePorts
from tests.trust.support import ALICE, signer_for


def verifier_for(trusted_root: Path) -> Verifier:
    return Verifier(trusted_root=TrustedRoot.from_file(str(trusted_root)))


def test_a_restarted_instance_keeps_its_root_and_continues_its_log(tmp_path: Path) -> None:
    with LocalSigstore(tmp_path) as first_run:
        before = signer_for(first_run)(b"before the restart", ALICE)
        issuer_before = first_run.issuer_url

    with LocalSigstore(tmp_path) as second_run:
        after = signer_for(second_run)(b"after the restart", ALICE)
        verifier = verifier_for(second_run.trusted_root_path)

    verifier.verify_artifact(
        b"before the restart", before, policy.Identity(identity=ALICE, issuer=issuer_before)
    )
    assert after.log_entry._inner.log_index == before.log_entry._inner.log_index + 1


def test_verification_needs_no_running_service(tmp_path: Path) -> None:
    with LocalSigstore(tmp_path) as sigstore:
        bundle = signer_for(sigstore)(b"artifact", ALICE)
        issuer = sigstore.issuer_url
        trusted_root = sigstore.trusted_root_path

    verifier_for(trusted_root).verify_artifact(
        b"artifact", bundle, policy.Identity(identity=ALICE, issuer=issuer)
    )


def test_fixed_ports_fix_the_issuer_url(tmp_path: Path) -> None:
    with LocalSigstore(tmp_path / "probe") as probe:
        free_port = int(probe.issuer_url.rsplit(":", 1)[1])

    with LocalSigstore(tmp_path, ports=ServicePorts(oidc_issuer=free_port)) as sigstore:
        assert sigstore.issuer_url == f"http://127.0.0.1:{free_port}"


def test_a_port_in_use_is_reported_and_nothing_keeps_listening(tmp_path: Path) -> None:
    with LocalSigstore(tmp_path / "first") as first:
        taken = int(first.urls.fulcio.rsplit(":", 1)[1])
        blocked = LocalSigstore(tmp_path / "second", ports=ServicePorts(fulcio=taken))

        with pytest.raises(LocalInstanceError, match=f"fulcio: cannot listen on 127.0.0.1:{taken}"):
            blocked.start()

        assert not (tmp_path / "second" / "instance.json").exists()


def test_a_stopped_instance_has_no_urls(tmp_path: Path) -> None:
    with pytest.raises(LocalInstanceError, match="is not running"):
        _ = LocalSigstore(tmp_path).issuer_url


def test_a_second_instance_in_a_running_instances_directory_is_refused(tmp_path: Path) -> None:
    with LocalSigstore(tmp_path) as running:
        trust_config = running.trust_config_path.read_text()

        with pytest.raises(LocalInstanceError, match="already runs from here"):
            LocalSigstore(tmp_path).start()

        assert running.trust_config_path.read_text() == trust_config
