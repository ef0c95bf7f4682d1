"""Remembered verification results: kept under every input that decides them, signed with
the user's key, never for a failure, never for the public-good root."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anya_plugins.trust.errors import VerificationFailed
from anya_plugins.trust.policy import Publisher, TrustPolicy
from anya_plugins.trust.verdicts import KEY_FILE, VERDICTS_DIR, Verdict, Verdicts
from anya_plugins.trust.verification import (
    Evidence,
    EvidenceFormat,
    TrustDecision,
    VerifiedSignature,
)

PUBLISHER = Publisher("release@acme.example", "https://idp.acme.example", ("anya-ext-*",))
DECISION = TrustDecision(
    "anya_ext_demo-1.0.0-py3-none-any.whl",
    "ab" * 32,
    "anya-ext-demo",
    "primary",
    (
        VerifiedSignature(
            Evidence.ATTESTATION,
            PUBLISHER.identity,
            PUBLISHER.issuer,
            PUBLISHER,
            EvidenceFormat.PROVENANCE,
        ),
    ),
)
INPUTS = {"sha256": "ab" * 32, "evidence": "cd" * 32, "dist_name": "anya-ext-demo"}


class Verifier:
    """A stand-in for the signature check: counts its calls, answers ``outcome``."""

    def __init__(self, outcome: Verdict | Exception) -> None:
        self.outcome = outcome
        self.calls = 0

    def __call__(self) -> Verdict:
        self.calls += 1
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "trusted_root.json"
    path.write_text('{"mediaType": "a trusted root"}')
    return path


def verdicts(tmp_path: Path, policy: TrustPolicy) -> Verdicts:
    return Verdicts(
        policy, directory=tmp_path / "cache" / VERDICTS_DIR, key_file=tmp_path / "data" / KEY_FILE
    )


def policy_with(root: Path, publishers: tuple[Publisher, ...] = (PUBLISHER,)) -> TrustPolicy:
    return TrustPolicy(trusted_root=root, publishers=publishers)


def test_a_verdict_is_remembered_by_the_next_process(tmp_path: Path, root: Path) -> None:
    first, second = verdicts(tmp_path, policy_with(root)), verdicts(tmp_path, policy_with(root))
    verify = Verifier(Verdict(DECISION))

    made = first.verdict(first.key(**INPUTS), verify)
    read = second.verdict(second.key(**INPUTS), verify)

    assert read == made == Verdict(DECISION)
    assert verify.calls == 1
    assert (tmp_path / "data" / KEY_FILE).stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    "change",
    [
        {"sha256": "ef" * 32},
        {"evidence": None},
        {"dist_name": "anya-ext-other"},
    ],
    ids=["another file", "no signature", "another name"],
)
def test_another_input_is_verified_again(
    tmp_path: Path, root: Path, change: dict[str, object]
) -> None:
    store = verdicts(tmp_path, policy_with(root))
    verify = Verifier(Verdict(DECISION))
    store.verdict(store.key(**INPUTS), verify)

    store.verdict(store.key(**{**INPUTS, **change}), verify)

    assert verify.calls == 2


def test_another_policy_or_trusted_root_is_verified_again(tmp_path: Path, root: Path) -> None:
    verify = Verifier(Verdict(DECISION))
    kept = verdicts(tmp_path, policy_with(root))
    kept.verdict(kept.key(**INPUTS), verify)

    stricter = verdicts(tmp_path, policy_with(root, publishers=()))
    stricter.verdict(stricter.key(**INPUTS), verify)
    root.write_text('{"mediaType": "a rotated trusted root"}')
    rotated = verdicts(tmp_path, policy_with(root))
    rotated.verdict(rotated.key(**INPUTS), verify)

    assert verify.calls == 3


def test_a_verdict_not_signed_with_the_users_key_is_ignored(tmp_path: Path, root: Path) -> None:
    store = verdicts(tmp_path, policy_with(root))
    key = store.key(**INPUTS)
    store.verdict(key, Verifier(Verdict(DECISION)))
    (kept,) = (tmp_path / "cache" / VERDICTS_DIR).rglob(key)
    forged = json.loads(kept.read_text())
    forged["verdict"]["signatures"][0]["identity"] = "mallory@evil.example"
    kept.write_text(json.dumps(forged))
    verify = Verifier(Verdict(DECISION))

    fresh = verdicts(tmp_path, policy_with(root))
    assert fresh.verdict(key, verify) == Verdict(DECISION)
    assert verify.calls == 1

    (tmp_path / "data" / KEY_FILE).write_text("00" * 32)  # a cache restored for another user
    other = verdicts(tmp_path, policy_with(root))
    other.verdict(key, verify)
    assert verify.calls == 2


def test_a_failure_is_not_remembered(tmp_path: Path, root: Path) -> None:
    store = verdicts(tmp_path, policy_with(root))
    refusal = VerificationFailed("anya_ext_demo-1.0.0-py3-none-any.whl", "is signed by mallory")
    failing = Verifier(refusal)

    for _ in range(2):
        with pytest.raises(VerificationFailed):
            store.verdict(store.key(**INPUTS), failing)

    assert failing.calls == 2
    assert not store.any_kept()


def test_under_the_public_good_root_verdicts_last_one_process(tmp_path: Path) -> None:
    policy = TrustPolicy(publishers=(PUBLISHER,))
    verify = Verifier(Verdict(DECISION))
    store = verdicts(tmp_path, policy)

    store.verdict(store.key(**INPUTS), verify)
    store.verdict(store.key(**INPUTS), verify)
    verdicts(tmp_path, policy).verdict(store.key(**INPUTS), verify)

    assert verify.calls == 2
    assert not (tmp_path / "cache" / VERDICTS_DIR).exists()


def test_kept_evidence_is_read_back_by_the_next_process_under_the_same_inputs(
    tmp_path: Path, root: Path
) -> None:
    store = verdicts(tmp_path, policy_with(root))
    store.keep_document(store.key(**INPUTS, kept="evidence"), b'{"attestation_bundles": []}')

    next_process = verdicts(tmp_path, policy_with(root))
    assert next_process.kept_document(next_process.key(**INPUTS, kept="evidence")) == (
        b'{"attestation_bundles": []}'
    )
    assert next_process.kept_document(next_process.key(**INPUTS)) is None
    stricter = verdicts(tmp_path, policy_with(root, publishers=()))
    assert stricter.kept_document(stricter.key(**INPUTS, kept="evidence")) is None


def test_evidence_not_signed_with_the_users_key_or_damaged_is_ignored(
    tmp_path: Path, root: Path
) -> None:
    import base64

    store = verdicts(tmp_path, policy_with(root))
    key = store.key(**INPUTS, kept="evidence")
    store.keep_document(key, b"the provenance that verified")
    (kept,) = (tmp_path / "cache" / VERDICTS_DIR).rglob(key)
    forged = json.loads(kept.read_text())
    forged["evidence"] = base64.b64encode(b"another provenance").decode()
    kept.write_text(json.dumps(forged))

    assert verdicts(tmp_path, policy_with(root)).kept_document(key) is None
    kept.write_text("{not json")
    assert verdicts(tmp_path, policy_with(root)).kept_document(key) is None


def test_under_the_public_good_root_no_evidence_is_kept(tmp_path: Path) -> None:
    store = verdicts(tmp_path, TrustPolicy(publishers=(PUBLISHER,)))
    key = store.key(**INPUTS, kept="evidence")
    store.keep_document(key, b"the provenance that verified")

    assert store.kept_document(key) is None
    assert not (tmp_path / "cache" / VERDICTS_DIR).exists()


def test_writers_making_the_key_at_once_all_sign_with_the_one_kept(
    tmp_path: Path, root: Path
) -> None:
    """The first install's threads (and processes) keep documents while the key is being
    made: each must sign with the key that ends up in the file, never with a part of it."""
    import threading

    for attempt in range(10):
        home = tmp_path / str(attempt)
        writers = [verdicts(home, policy_with(root)) for _ in range(8)]
        start = threading.Barrier(len(writers))

        def keep(store: Verdicts, number: int, start: threading.Barrier) -> None:
            start.wait()
            store.keep_document(store.key(writer=number), b"document %d" % number)

        threads = [
            threading.Thread(target=keep, args=(store, number, start))
            for number, store in enumerate(writers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        reader = verdicts(home, policy_with(root))
        kept = [reader.kept_document(reader.key(writer=n)) for n in range(len(writers))]
        assert kept == [b"document %d" % n for n in range(len(writers))], attempt
        assert len((home / "data" / KEY_FILE).read_text().strip()) == 64
        assert [p.name for p in (home / "data").iterdir()] == [KEY_FILE]  # no temporary left


@pytest.mark.parametrize("damaged", ["", "12ab", "not hex"])
def test_a_key_file_that_is_no_key_is_replaced_and_documents_are_kept_again(
    tmp_path: Path, root: Path, damaged: str
) -> None:
    """An empty key file (what a first install could leave before keys were written whole)
    does not stop an install: it is replaced, and what is kept under the new key is read."""
    key_file = tmp_path / "data" / KEY_FILE
    key_file.parent.mkdir(parents=True)
    key_file.write_text(damaged)
    store = verdicts(tmp_path, policy_with(root))

    store.keep_document(store.key(**INPUTS), b"a document")

    reader = verdicts(tmp_path, policy_with(root))
    assert reader.kept_document(reader.key(**INPUTS)) == b"a document"
    assert len(key_file.read_text().strip()) == 64
    assert [p.name for p in key_file.parent.iterdir()] == [KEY_FILE]
