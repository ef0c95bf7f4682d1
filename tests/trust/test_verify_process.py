"""Verifying in a process of its own: the verdicts and refusals this process would reach,
and a verifier that goes away leaves the check to this process."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from anya_plugins.install.resolver import Pin
from anya_plugins.install.transaction import Candidate
from anya_plugins.install.trustcheck import TrustCheck
from anya_plugins.sources.simple import FileLink
from anya_plugins.trust.errors import MissingSignature, VerificationFailed
from anya_plugins.trust.policy import TrustPolicy
from anya_plugins.trust.verdicts import Verdicts
from anya_plugins.trust.verify_process import (
    FileToVerify,
    VerifierGone,
    VerifyProcess,
    verdict_of,
)
from tests.trust.publishing import (
    LIGHTNING,
    LIGHTNING_RELEASE,
    LIGHTNING_RELEASES,
    MALLORY,
    Publishing,
)


@pytest.fixture
def policy(publishing: Publishing) -> TrustPolicy:
    return publishing.policy(publishing.publisher(LIGHTNING_RELEASES))


@pytest.fixture
def child(policy: TrustPolicy) -> Iterator[VerifyProcess]:
    process = VerifyProcess()
    process.use(policy, offline=True)
    yield process
    process.close()


def to_verify(wheel: Path, provenance: bytes | None, *, dependency: bool = False) -> FileToVerify:
    return FileToVerify(wheel, provenance, LIGHTNING, "1.2.0", "primary", dependency, False)


@pytest.mark.parametrize("dependency", [False, True], ids=["extension", "dependency"])
def test_the_child_reaches_the_verdict_this_process_reaches(
    child: VerifyProcess, policy: TrustPolicy, publishing: Publishing, wheel: Path, dependency: bool
) -> None:
    file = to_verify(wheel, publishing.attestation(wheel, LIGHTNING_RELEASE), dependency=dependency)

    there = child.verdict(file)

    assert there == verdict_of(file, policy, offline=True)
    assert there.decision.identity == LIGHTNING_RELEASE


@pytest.mark.parametrize("signer", [MALLORY, None], ids=["another signer", "unsigned"])
def test_a_refusal_in_the_child_is_raised_here_as_the_same_error(
    child: VerifyProcess,
    policy: TrustPolicy,
    publishing: Publishing,
    wheel: Path,
    signer: str | None,
) -> None:
    file = to_verify(wheel, None if signer is None else publishing.attestation(wheel, signer))
    with pytest.raises(VerificationFailed) as here:
        verdict_of(file, policy, offline=True)

    with pytest.raises(VerificationFailed) as there:
        child.verdict(file)

    assert type(there.value) is type(here.value)
    assert (type(there.value) is MissingSignature) == (signer is None)
    assert vars(there.value) == vars(here.value)
    assert str(there.value) == str(here.value)


def test_the_child_does_not_import_modules_from_the_working_directory(
    policy: TrustPolicy,
    publishing: Publishing,
    wheel: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    planted = tmp_path / "planted"
    (planted / "sigstore").mkdir(parents=True)
    (planted / "sigstore" / "__init__.py").write_text(
        "raise SystemExit('a planted sigstore ran')\n"
    )
    monkeypatch.chdir(planted)
    process = VerifyProcess()
    try:
        process.use(policy, offline=True)
        file = to_verify(wheel, publishing.attestation(wheel, LIGHTNING_RELEASE))

        assert process.verdict(file) == verdict_of(file, policy, offline=True)
    finally:
        process.close()


def test_a_child_that_ended_is_reported_as_gone(
    child: VerifyProcess, publishing: Publishing, wheel: Path
) -> None:
    os.kill(child.pid, signal.SIGKILL)

    with pytest.raises(VerifierGone, match=r"the verifying process ended .*exit code"):
        child.verdict(to_verify(wheel, publishing.attestation(wheel, LIGHTNING_RELEASE)))


def test_when_its_process_ends_the_check_verifies_here_and_still_refuses(
    policy: TrustPolicy, publishing: Publishing, wheel: Path
) -> None:
    check = TrustCheck(
        policy, allow_unsigned=False, decisions=[], verdicts=Verdicts(policy), in_process=False
    )
    process = check.verifying_process
    assert process is not None
    os.kill(process.pid, signal.SIGKILL)
    link = FileLink(wheel.name, f"https://index.invalid/{wheel.name}")
    forged = publishing.attestation(wheel, MALLORY)
    signed = publishing.attestation(wheel, LIGHTNING_RELEASE)

    with pytest.raises(VerificationFailed, match=f"signed by {MALLORY}"):
        check(Candidate(Pin(LIGHTNING, "1.2.0"), link, wheel, "primary", "", None, forged))
    check(Candidate(Pin(LIGHTNING, "1.2.0"), link, wheel, "primary", "", None, signed))

    assert check.verifying_process is None
    assert [decision.identity for decision in check.decisions] == [LIGHTNING_RELEASE]


def test_checks_under_one_policy_share_a_process_until_it_ends(policy: TrustPolicy) -> None:
    def check() -> TrustCheck:
        return TrustCheck(
            policy, allow_unsigned=False, decisions=[], verdicts=Verdicts(policy), in_process=False
        )

    first, second = check(), check()
    shared = first.verifying_process
    assert shared is not None
    assert second.verifying_process is shared
    os.kill(shared.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while shared.alive and time.monotonic() < deadline:
        time.sleep(0.01)

    replaced = check().verifying_process
    assert replaced is not None
    assert replaced is not shared
