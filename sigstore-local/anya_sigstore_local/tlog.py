"""The transparency log behind the local Rekor: an append-only Merkle tree of entry bodies.

The log signs two things with its key, exactly as Rekor v1 does and Sigstore verifiers
check: a signed entry timestamp (the RFC 8785 canonical JSON of body, integrated time,
log ID and index) and checkpoints (signed notes over tree size and root hash, with the
first four bytes of the log ID as key hint). Entries are appended to a JSON-lines file
when the log has one, so a restarted instance continues the same tree.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import rfc8785
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from anya_sigstore_local import merkle
from anya_sigstore_local.errors import LocalInstanceError
from anya_sigstore_local.keys import PrivateKey, PublicKey, key_id


@dataclass(frozen=True)
class LogEntry:
    """One integrated entry: its canonical body, position and time of integration."""

    index: int
    body: bytes
    integrated_time: int

    @property
    def leaf_hash(self) -> bytes:
        """The entry's Merkle leaf hash."""
        return merkle.leaf_hash(self.body)

    @property
    def uuid(self) -> str:
        """The entry's UUID as Rekor v1 names it: the hex leaf hash."""
        return self.leaf_hash.hex()


@dataclass(frozen=True)
class TreeHead:
    """The log's size and root hash at one moment, and the checkpoint that signs them."""

    size: int
    root_hash: bytes
    checkpoint: str


@dataclass(frozen=True)
class InclusionProof:
    """The audit path from entry ``log_index`` up to the tree ``head``."""

    log_index: int
    hashes: list[bytes]
    head: TreeHead


class DuplicateEntry(Exception):
    """The body is already in the log; ``existing`` is where."""

    def __init__(self, existing: LogEntry) -> None:
        super().__init__(f"an equivalent entry already exists at index {existing.index}")
        self.existing = existing


class TransparencyLog:
    """An append-only log of entry bodies, signed with ``key``.

    ``name`` is the signer name in checkpoints; ``tree_id`` makes the checkpoint origin
    (``"<name> - <tree_id>"``) unique to this log.
    """

    def __init__(
        self, key: PrivateKey, *, name: str, tree_id: int, storage: Path | None = None
    ) -> None:
        self._key = key
        self.name = name
        self.tree_id = tree_id
        self.origin = f"{name} - {tree_id}"
        self._storage = storage
        self._lock = threading.Lock()
        self._entries: list[LogEntry] = []
        self._leaves: list[bytes] = []
        self._by_leaf: dict[bytes, LogEntry] = {}
        if storage is not None and storage.exists():
            for entry in _read_entries(storage):
                self._remember(entry)

    @property
    def public_key(self) -> PublicKey:
        """The key that verifies the log's checkpoints and entry timestamps."""
        return self._key.public_key()

    @property
    def log_id(self) -> bytes:
        """SHA-256 of the log's public key: how bundles and trusted roots name this log."""
        return key_id(self._key.public_key())

    def append(self, body: bytes) -> LogEntry:
        """Integrate ``body`` now; :class:`DuplicateEntry` if it is already in the log."""
        with self._lock:
            existing = self._by_leaf.get(merkle.leaf_hash(body))
            if existing is not None:
                raise DuplicateEntry(existing)
            entry = LogEntry(len(self._entries), body, int(time.time()))
            if self._storage is not None:
                record = {
                    "body": base64.b64encode(body).decode(),
                    "integratedTime": entry.integrated_time,
                }
                with self._storage.open("a") as file:
                    file.write(json.dumps(record) + "\n")
            self._remember(entry)
            return entry

    def find(self, uuid: str) -> LogEntry | None:
        """The entry with this UUID (hex leaf hash, maybe after a tree ID), if the log holds it."""
        try:
            leaf = bytes.fromhex(uuid[-64:])
        except ValueError:
            return None
        with self._lock:
            return self._by_leaf.get(leaf)

    def find_body(self, body: bytes) -> LogEntry | None:
        """The entry with this canonical body, if the log holds it."""
        with self._lock:
            return self._by_leaf.get(merkle.leaf_hash(body))

    def entry(self, index: int) -> LogEntry | None:
        """The entry at ``index``, if the log is that long."""
        with self._lock:
            return self._entries[index] if 0 <= index < len(self._entries) else None

    def prove(self, entry: LogEntry) -> InclusionProof:
        """An inclusion proof for ``entry`` in the current tree."""
        leaves = self._current_leaves()
        return InclusionProof(
            entry.index, merkle.inclusion_proof(entry.index, leaves), self._head(leaves)
        )

    def tree_head(self) -> TreeHead:
        """The current size and root hash, with their signed checkpoint."""
        return self._head(self._current_leaves())

    def _current_leaves(self) -> list[bytes]:
        with self._lock:
            return list(self._leaves)

    def _head(self, leaves: list[bytes]) -> TreeHead:
        """The head of the tree over ``leaves``, signed as a Rekor checkpoint (a signed note)."""
        root = merkle.root_hash(leaves)
        note = f"{self.origin}\n{len(leaves)}\n{base64.b64encode(root).decode()}\n"
        key_hint_and_signature = base64.b64encode(self.log_id[:4] + self._sign(note.encode()))
        checkpoint = f"{note}\n\u2014 {self.name} {key_hint_and_signature.decode()}\n"
        return TreeHead(len(leaves), root, checkpoint)

    def signed_entry_timestamp(self, entry: LogEntry) -> bytes:
        """The log's promise to include ``entry``: a signature over its canonical JSON summary."""
        payload: dict[str, str | int] = {
            "body": base64.b64encode(entry.body).decode(),
            "integratedTime": entry.integrated_time,
            "logID": self.log_id.hex(),
            "logIndex": entry.index,
        }
        return self._sign(rfc8785.dumps(payload))

    def _sign(self, data: bytes) -> bytes:
        return self._key.sign(data, ec.ECDSA(hashes.SHA256()))

    def _remember(self, entry: LogEntry) -> None:
        self._entries.append(entry)
        self._leaves.append(entry.leaf_hash)
        self._by_leaf[entry.leaf_hash] = entry


def _read_entries(storage: Path) -> list[LogEntry]:
    entries: list[LogEntry] = []
    for number, line in enumerate(storage.read_text().splitlines(), start=1):
        try:
            record = json.loads(line)
            entries.append(
                LogEntry(
                    len(entries), base64.b64decode(record["body"]), int(record["integratedTime"])
                )
            )
        except (ValueError, KeyError, TypeError) as error:
            raise LocalInstanceError(
                f"{storage}, line {number}: not a log entry ({error!r})",
                hint="the log file is append-only; restore it or start a new instance directory",
            ) from error
    return entries
