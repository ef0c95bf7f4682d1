"""The trust policy as install checks: every file's provenance verified before install, and
its signer compared with the one pinned for its distribution. Extensions are verified under
their source's rules; third-party dependencies under ``[trust] dependencies``, each with a
line in the install summary saying what was checked."""

from __future__ import annotations

import logging
import threading

from anya_plugins.install.transaction import Candidate, FileCheck
from anya_plugins.trust.dependencies import is_extension
from anya_plugins.trust.pins import PinStore, PublisherChanged, publisher_change
from anya_plugins.trust.policy import TrustPolicy
from anya_plugins.trust.verdicts import Verdict, Verdicts
from anya_plugins.trust.verification import TrustDecision, file_sha256, prepare_verifier
from anya_plugins.trust.verify_process import (
    FileToVerify,
    VerifierGone,
    VerifyProcess,
    process_for,
    verdict_of,
    verifier_loaded_here,
)

log = logging.getLogger(__name__)


class TrustCheck:
    """The check that verifies each candidate under ``policy`` and keeps the decisions
    (identities found, or why an unsigned file was let in) for the receipts and the audit
    log; for each dependency, what was checked goes to ``notes``.

    Verdicts are remembered (:mod:`anya_plugins.trust.verdicts`), and :meth:`prepare` may
    verify a file before it is checked — in the background, as soon as it is downloaded —
    so that the check itself finds the verdict ready. The verifier is made ready at once
    when no verdict is kept at all, else only once a file needs verifying: in a process of
    its own (:mod:`anya_plugins.trust.verify_process`) unless this one has imported sigstore
    already (``in_process``: None decides so; True or False forces it), or the child cannot
    be started or goes away."""

    def __init__(
        self,
        policy: TrustPolicy,
        *,
        allow_unsigned: bool,
        decisions: list[TrustDecision],
        notes: list[str] | None = None,
        verdicts: Verdicts | None = None,
        in_process: bool | None = None,
    ) -> None:
        self.policy = policy
        self.allow_unsigned = allow_unsigned
        self.decisions = decisions
        self.notes = notes
        self.verdicts = verdicts if verdicts is not None else Verdicts(policy)
        self._offline = policy.trusted_root is not None
        self._in_process = verifier_loaded_here() if in_process is None else in_process
        self._warming: threading.Thread | None = None
        self._child: VerifyProcess | None = None
        self._warming_lock = threading.Lock()
        self._evidence_kept: set[str] = set()
        """Evidence keys kept, or read, in this process."""
        self._evidence_lock = threading.Lock()
        if not self.verdicts.any_kept():
            self._warm_up()  # nothing remembered: verifying is certain, start on it now

    def __call__(self, candidate: Candidate) -> None:
        verdict = self._verdict(candidate)
        if self.policy.offline and verdict.decision.signed:
            # A remembered verdict skipped the verifier, which refuses a stale offline root.
            from anya_plugins.trust.roots import root_age

            root_age(self.policy.trusted_root).check(self.policy.max_root_age_days)
        self.decisions.append(verdict.decision)
        if verdict.summary is not None and self.notes is not None:
            self.notes.append(verdict.summary)

    def prepare(self, candidate: Candidate) -> None:
        """Verify ``candidate`` ahead of the check (whatever the outcome, the check will say
        it): the verdict is remembered for :meth:`__call__`."""
        try:
            self._verdict(candidate)
        except Exception as error:  # the check raises it again, in order, with the others
            log.debug("verifying %s ahead of the checks: %s", candidate.path.name, error)

    def remembered_provenance(
        self, project: str, version: str, filename: str, sha256: str, source: str
    ) -> bytes | None:
        """The provenance that verified this very file (name, hash, distribution, version,
        source) under this policy before, kept with its verdict; None if there is none, and
        the index is asked for it."""
        key = self.verdicts.key(
            **self._inputs(project, version, filename, sha256, source), kept="evidence"
        )
        document = self.verdicts.kept_document(key)
        if document is not None:
            with self._evidence_lock:
                self._evidence_kept.add(key)
        return document

    def _inputs(
        self, dist_name: str, version: str, filename: str, sha256: str, source: str
    ) -> dict[str, object]:
        """What a verification of this file depends on besides the policy (the verdict's
        key adds the signature document's hash; the key of that document, ``kept``)."""
        dependency = not is_extension(dist_name)
        return {
            "kind": "dependency" if dependency else "extension",
            "filename": filename,
            "sha256": sha256,
            "dist_name": dist_name,
            "version": version if dependency else None,
            "source": source,
            "allow_unsigned": self.allow_unsigned,
            "offline": self._offline,
        }

    def _keep_evidence(self, key: str, document: bytes) -> None:
        """Keep the provenance a file was verified with, once (it may be checked twice: ahead
        and in order), unless it was taken from there in the first place."""
        with self._evidence_lock:
            if key in self._evidence_kept:
                return
            self._evidence_kept.add(key)
        self.verdicts.keep_document(key, document)

    def _verdict(self, candidate: Candidate) -> Verdict:
        dependency = not is_extension(candidate.pin.name)
        inputs = self._inputs(
            candidate.pin.name,
            candidate.pin.version,
            candidate.path.name,
            file_sha256(candidate.path),
            candidate.source,
        )
        key = self.verdicts.key(**inputs, evidence=_digest(candidate.provenance))
        verdict = self.verdicts.verdict(key, lambda: self._verify(candidate, dependency))
        if verdict.decision.signed and candidate.provenance is not None:
            self._keep_evidence(self.verdicts.key(**inputs, kept="evidence"), candidate.provenance)
        return verdict

    @property
    def verifying_process(self) -> VerifyProcess | None:
        """The process verifying for this check, if one is started and not gone."""
        return self._child

    def _verify(self, candidate: Candidate, dependency: bool) -> Verdict:
        file = FileToVerify(
            candidate.path, candidate.provenance, candidate.pin.name, candidate.pin.version,
            candidate.source, dependency, self.allow_unsigned,
        )  # fmt: skip
        child = self._warm_up()
        if child is not None:
            try:
                return child.verdict(file)
            except VerifierGone as gone:
                log.debug("verifying %s in this process: %s", candidate.path.name, gone)
                self._warm_up_here()
        assert self._warming is not None
        self._warming.join()
        return verdict_of(file, self.policy, offline=self._offline)

    def _warm_up(self) -> VerifyProcess | None:
        """The verifying process, started on first need; None when verifying here (sigstore
        then imported and the trusted root loaded in a thread)."""
        with self._warming_lock:
            if self._child is None and self._warming is None and not self._in_process:
                try:
                    self._child = process_for(self.policy, offline=self._offline)
                except VerifierGone as gone:
                    log.debug("verifying in this process: %s", gone)
            if self._child is not None:
                return self._child
        self._warm_up_here()
        return None

    def _warm_up_here(self) -> None:
        with self._warming_lock:
            if self._child is not None:
                self._child.close()
                self._child = None
            if self._warming is None:
                self._warming = prepare_verifier(self.policy, offline=self._offline)


def trust_check(
    policy: TrustPolicy,
    *,
    allow_unsigned: bool,
    decisions: list[TrustDecision],
    notes: list[str] | None = None,
    verdicts: Verdicts | None = None,
) -> FileCheck:
    """A :class:`TrustCheck` as a plain file check."""
    return TrustCheck(
        policy, allow_unsigned=allow_unsigned, decisions=decisions, notes=notes, verdicts=verdicts
    )


def _digest(document: bytes | None) -> str | None:
    import hashlib

    return None if document is None else hashlib.sha256(document).hexdigest()


def publisher_pin_check(
    store: PinStore, policy: TrustPolicy, *, decisions: list[TrustDecision], notes: list[str]
) -> FileCheck:
    """A check, after :func:`trust_check`, that each verified file's signer is the one pinned
    for its distribution: another one (or none) is refused, or — with
    ``trust.on_publisher_change = "warn"`` — let in with a line in the summary."""

    def check(candidate: Candidate) -> None:
        decision = next(d for d in reversed(decisions) if d.filename == candidate.link.filename)
        change = publisher_change(
            store.get(candidate.pin.name), decision.filename, decision.identity, decision.issuer
        )
        if change is None:
            return
        if policy.on_publisher_change == "refuse":
            raise PublisherChanged(change)
        notes.append(change.warning())

    return check
