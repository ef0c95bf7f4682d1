"""Verification results remembered: a file verified under a policy is not verified again.

Verifying a signature (certificate chain, SCT, transparency-log proof, the signature itself)
costs milliseconds per file, and importing sigstore to do it a few hundred more. Its outcome
depends only on its inputs, so it is remembered under them: the file's sha256 and name, the
signature document's sha256, the distribution, version and source it is installed as,
``allow_unsigned``, the whole trust policy and the bytes of its trusted root file, and this
version of anya-plugins. Change any of them and the file is verified afresh.

Within one process every verification is remembered (so a verification started in the
background, while the resolver runs, is the one the install check waits for). Across
processes, only successes are kept, and only under a trusted root file
(``trust.trusted_root``): the public-good root is refreshed through TUF, so what it would
say next time is not known without loading it. A kept verdict is a small JSON file under
the download cache (``<cache>/verdicts/``), signed with a key kept in Anya's data directory
(HMAC-SHA256, key mode 0600): a download cache shared or restored from elsewhere (a CI
cache) cannot vouch for a file, since it does not hold the key. A verdict that does not
verify, or cannot be read, is ignored.

The signature document a file was verified with is kept too (same key, same MAC), under the
same inputs but the document itself: a later install of that file takes the document from
there instead of asking the index for it again — one request fewer per file, which for a
warm install of many small dependencies is most of the index's work — and still verifies
nothing again, since the document's hash names the kept verdict. The receipt keeps it as
before. A document is kept only for a file it verified as signed.

What is never remembered: the age check of an offline root (made on every use, as
verifying does), the publisher pin (checked on every install against the environment's
pins), the sha256 check against the index (made on every download).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from anya_plugins import __version__
from anya_plugins.trust.policy import Publisher, TrustPolicy
from anya_plugins.trust.verification import (
    Evidence,
    EvidenceFormat,
    TrustDecision,
    Unsigned,
    VerifiedSignature,
)

log = logging.getLogger(__name__)

VERDICTS_DIR: Final = "verdicts"
KEY_FILE: Final = "verdict-key"
_FORMAT: Final = 1


@dataclass(frozen=True)
class Verdict:
    """A verification's outcome: the decision, and the summary line a dependency gets."""

    decision: TrustDecision
    summary: str | None = None


class Verdicts:
    """The verdicts of one trust policy: remembered in this process and, when ``directory``
    and ``key_file`` are given and the policy names a trusted root file, on disk."""

    def __init__(
        self,
        policy: TrustPolicy,
        *,
        directory: Path | None = None,
        key_file: Path | None = None,
    ) -> None:
        self.policy = policy
        self._policy = repr(policy)  # frozen: its repr, part of every key, is made once
        self._root = _root_digest(policy.trusted_root)
        self._directory = directory if self._root is not None else None
        self._key_file = key_file
        self._key: bytes | None = None
        self._known: dict[str, Future[Verdict]] = {}
        self._lock = threading.Lock()
        self._key_lock = threading.Lock()

    def key(self, **inputs: object) -> str:
        """The name of a verification with these inputs (besides the policy's)."""
        document = {
            "format": _FORMAT,
            "anya-plugins": __version__,
            "policy": self._policy,
            "trusted-root": self._root,
            "inputs": {name: inputs[name] for name in sorted(inputs)},
        }
        return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()

    def verdict(self, key: str, verify: Callable[[], Verdict]) -> Verdict:
        """The verdict under ``key``: remembered (in this process, then on disk) or got from
        ``verify`` now (raising what it raises); another thread asking meanwhile waits for it."""
        with self._lock:
            known = self._known.get(key)
            mine = known is None
            if known is None:
                known = self._known[key] = Future()
        if not mine:
            return known.result()
        try:
            kept = self._read(key)
            result = kept if kept is not None else verify()
        except BaseException as error:
            known.set_exception(error)
            with self._lock:
                del self._known[key]  # a failure is not remembered: asked again, it is redone
            raise
        known.set_result(result)
        if kept is None:
            self._write(key, result)
        return result

    def kept_document(self, key: str) -> bytes | None:
        """The document kept under ``key`` by :meth:`keep_document`, or None (none kept, or
        not signed with this user's key)."""
        import base64
        import binascii

        path = self._path(key)
        if path is None:
            return None
        try:
            stored = json.loads(path.read_bytes())
            document = base64.b64decode(stored["evidence"], validate=True)
            if not hmac.compare_digest(stored["mac"], self._mac(key, document)):
                log.warning("ignoring kept %s: not signed with this user's key", path)
                return None
            return document
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, binascii.Error) as error:
            log.warning("ignoring unreadable kept document %s: %s", path, error)
            return None

    def keep_document(self, key: str, document: bytes) -> None:
        """Keep ``document`` under ``key``, signed with this user's key; only where verdicts
        are kept on disk. The signature document that verified a file is kept under the
        inputs of its verification but the document; a resolution, under its inputs
        (:mod:`anya_plugins.install.resolution_memo`). Stored as ``evidence``, the field's
        name since the first documents kept."""
        import base64

        path = self._path(key)
        if path is None:
            return
        mac = self._mac(key, document)
        self._store(path, {"evidence": base64.b64encode(document).decode(), "mac": mac})

    def any_kept(self) -> bool:
        """Whether any verdict is kept on disk (a first install keeps none: it will verify)."""
        try:
            return self._directory is not None and any(self._directory.iterdir())
        except OSError:
            return False

    def _path(self, key: str) -> Path | None:
        return None if self._directory is None else self._directory / key[:2] / key

    def _read(self, key: str) -> Verdict | None:
        path = self._path(key)
        if path is None:
            return None
        try:
            stored = json.loads(path.read_bytes())
            body = json.dumps(stored["verdict"], sort_keys=True).encode()
            if not hmac.compare_digest(stored["mac"], self._mac(key, body)):
                log.warning("ignoring verdict %s: not signed with this user's key", path)
                return None
            return _decode(stored["verdict"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as error:
            log.warning("ignoring unreadable verdict %s: %s", path, error)
            return None

    def _write(self, key: str, verdict: Verdict) -> None:
        path = self._path(key)
        if path is None:
            return
        encoded = _encode(verdict)
        body = json.dumps(encoded, sort_keys=True).encode()
        self._store(path, {"verdict": encoded, "mac": self._mac(key, body)})

    def _store(self, path: Path, stored: Mapping[str, Any]) -> None:
        """Write ``stored`` as ``path`` atomically; a failure is reported and passed over."""
        try:
            document = json.dumps(stored).encode()
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
            temporary.write_bytes(document)
            temporary.replace(path)
        except OSError as error:
            log.warning("verdict not kept in %s: %s", path.parent, error)

    def _mac(self, key: str, body: bytes) -> str:
        return hmac.new(self._secret(), key.encode() + b"\n" + body, hashlib.sha256).hexdigest()

    def _secret(self) -> bytes:
        """The user's verdict key, made (0600) on first use; read once per process (threads
        wait for the first)."""
        with self._key_lock:
            if self._key is None:
                if self._key_file is None:
                    raise OSError("no key file for verdicts")
                try:
                    self._key = _read_key(self._key_file)
                except (FileNotFoundError, ValueError):
                    self._key = _new_key(self._key_file)
            return self._key


KEY_BYTES: Final = 32


def _read_key(path: Path) -> bytes:
    key = bytes.fromhex(path.read_text().strip())
    if len(key) != KEY_BYTES:
        raise ValueError(f"{path}: not a {KEY_BYTES}-byte key")
    return key


def _new_key(path: Path) -> bytes:
    """Write a new random key to ``path`` (0600), unless another process just did: then
    that one is used. The key is written whole before it takes the name (a hard link, which
    fails if the name is taken), so a reader never sees part of one. A file there that is
    not a key (an empty one, left by a version that created the file before writing it) is
    replaced: nothing it signed can be checked anyway."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(KEY_BYTES)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(key.hex())
        try:
            os.link(temporary, path)
            return key
        except FileExistsError:
            pass
        try:
            return _read_key(path)
        except ValueError:
            temporary.replace(path)
            return _read_key(path)  # whichever key won, if another process replaced it too
    finally:
        temporary.unlink(missing_ok=True)


def _root_digest(trusted_root: Path | None) -> str | None:
    if trusted_root is None:
        return None
    try:
        return hashlib.sha256(trusted_root.read_bytes()).hexdigest()
    except OSError:
        return None  # verifying will say what is wrong with it


def _encode(verdict: Verdict) -> dict[str, Any]:
    decision = verdict.decision
    return {
        "summary": verdict.summary,
        "filename": decision.filename,
        "sha256": decision.sha256,
        "dist_name": decision.dist_name,
        "source": decision.source,
        "unsigned": None if decision.unsigned is None else decision.unsigned.value,
        "signatures": [
            {
                "evidence": signature.evidence.value,
                "identity": signature.identity,
                "issuer": signature.issuer,
                "format": signature.format.value,
                "publisher": {
                    "identity": signature.publisher.identity,
                    "issuer": signature.publisher.issuer,
                    "names": list(signature.publisher.names),
                    "sources": None
                    if signature.publisher.sources is None
                    else list(signature.publisher.sources),
                },
            }
            for signature in decision.signatures
        ],
    }


def _decode(data: Mapping[str, Any]) -> Verdict:
    signatures = tuple(
        VerifiedSignature(
            evidence=Evidence(item["evidence"]),
            identity=str(item["identity"]),
            issuer=str(item["issuer"]),
            publisher=Publisher(
                identity=str(item["publisher"]["identity"]),
                issuer=str(item["publisher"]["issuer"]),
                names=tuple(item["publisher"]["names"]),
                sources=None
                if item["publisher"]["sources"] is None
                else tuple(item["publisher"]["sources"]),
            ),
            format=EvidenceFormat(item["format"]),
        )
        for item in data["signatures"]
    )
    decision = TrustDecision(
        filename=str(data["filename"]),
        sha256=str(data["sha256"]),
        dist_name=str(data["dist_name"]),
        source=str(data["source"]),
        signatures=signatures,
        unsigned=None if data["unsigned"] is None else Unsigned(data["unsigned"]),
    )
    summary = data["summary"]
    return Verdict(decision, None if summary is None else str(summary))
