"""TUF metadata for the registry's indexes, written with python-tuf's Metadata API.

Roles and where their keys live:

* ``root`` and ``targets``: keys in the *offline* directory (``root.pem``, ``targets.pem``),
  which the operator keeps away from the server; used only by ``anya-ext registry tuf
  init|rotate`` (the key ceremony, docs/howto.md).
* ``snapshot``, ``timestamp`` and one delegated targets role per index, named like the
  index (``acme/private``) and trusted for the paths ``acme/private/+simple/*``: keys in
  the server's *TUF directory* (``keys/``), which the devpi plugin signs with on every
  change. The top-level ``targets`` (offline) says which key each index role has, so a
  stolen server key can only vouch for its own index, and only until it is rotated.

The TUF directory also holds what the offline ceremony signed (``metadata/N.root.json``,
``metadata/targets.json``); the server publishes those unchanged.

A *target* is one project's file list on one index (``sources.tuf_targets``): each file the
index's simple page lists, with its sha256, Requires-Python and whether it is yanked.

:class:`RepositoryState` is everything the server serves, as plain JSON-able data (kept in
devpi's keyfs so replicas serve it unchanged); :func:`publish` is the pure step from one
state to the next.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

from securesystemslib.signer import CryptoSigner, Signer  # type: ignore[attr-defined]
from tuf.api.metadata import (  # type: ignore[attr-defined]
    DelegatedRole,
    Delegations,
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)
from tuf.api.serialization.json import JSONSerializer

from anya_plugins.registry.errors import RegistryError
from anya_plugins.sources.tuf_targets import SIMPLE_DIR, delegated_paths

ROOT: Final = "root"
TARGETS: Final = "targets"
SNAPSHOT: Final = "snapshot"
TIMESTAMP: Final = "timestamp"
OFFLINE_ROLES: Final = (ROOT, TARGETS)
ONLINE_ROLES: Final = (SNAPSHOT, TIMESTAMP)
LIFETIMES: Final[Mapping[str, timedelta]] = {
    ROOT: timedelta(days=365),
    TARGETS: timedelta(days=365),
    SNAPSHOT: timedelta(days=7),
    TIMESTAMP: timedelta(days=1),
}
INDEX_LIFETIME: Final = timedelta(days=7)
"""How long an index role's signature holds; the server re-signs at half of it."""
SPEC_VERSION: Final = "1.0.31"
_KEYS_DIR: Final = "keys"
_METADATA_DIR: Final = "metadata"
_INDEX_KEYS_DIR: Final = "indexes"
_TARGETS_FILE: Final = "targets.json"
_SERIALIZER: Final = JSONSerializer(compact=True)


class TufRepositoryError(RegistryError):
    """A TUF directory or offline directory that cannot be used as asked."""


def metadata_filename(role: str, version: int | None) -> str:
    """The file name ngclient asks for (``timestamp.json``, ``N.<quoted role>.json``)."""
    quoted = quote(role, "")
    return f"{quoted}.json" if version is None else f"{version}.{quoted}.json"


@dataclass(frozen=True)
class TufDirectory:
    """The server's TUF directory: online keys and the offline-signed root and targets."""

    path: Path

    @property
    def metadata_dir(self) -> Path:
        return self.path / _METADATA_DIR

    def key_file(self, role: str) -> Path:
        if role in ONLINE_ROLES:
            return self.path / _KEYS_DIR / f"{role}.pem"
        return self.path / _KEYS_DIR / _INDEX_KEYS_DIR / f"{role}.pem"

    def signer(self, role: str) -> Signer:
        return _load_signer(self.key_file(role))

    def roots(self) -> dict[int, bytes]:
        """Every root version the ceremony signed, by version."""
        found: dict[int, bytes] = {}
        for file in self.metadata_dir.glob("*.root.json"):
            version = file.name.split(".", 1)[0]
            if version.isdigit():
                found[int(version)] = file.read_bytes()
        if not found:
            raise TufRepositoryError(
                f"{self.metadata_dir} holds no N.root.json",
                hint="create the repository with 'anya-ext registry tuf init'",
            )
        return found

    def targets(self) -> bytes:
        return (self.metadata_dir / _TARGETS_FILE).read_bytes()

    def trusted_root(self) -> Path:
        """The first root: what clients are given to start trusting this registry."""
        return self.metadata_dir / "1.root.json"


@dataclass(frozen=True)
class OfflineKeys:
    """The operator's offline directory: the root and top-level targets keys."""

    path: Path

    def key_file(self, role: str) -> Path:
        return self.path / f"{role}.pem"

    def signer(self, role: str) -> Signer:
        return _load_signer(self.key_file(role))


@dataclass
class RepositoryState:
    """All metadata and targets the server serves (plain data, for devpi's keyfs)."""

    roots: dict[int, bytes] = field(default_factory=dict)
    roles: dict[str, bytes] = field(default_factory=dict)
    """Current ``targets``, ``snapshot``, ``timestamp`` and index roles' metadata."""
    documents: dict[str, bytes] = field(default_factory=dict)
    """Target path -> target bytes (the project documents)."""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RepositoryState:
        return cls(
            roots={int(v): str(b).encode() for v, b in dict(data.get("roots", {})).items()},
            roles={str(r): str(b).encode() for r, b in dict(data.get("roles", {})).items()},
            documents={str(p): str(b).encode() for p, b in dict(data.get("documents", {})).items()},
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "roots": {str(v): b.decode() for v, b in self.roots.items()},
            "roles": {r: b.decode() for r, b in self.roles.items()},
            "documents": {p: b.decode() for p, b in self.documents.items()},
        }

    def metadata_file(self, filename: str) -> bytes | None:
        """The bytes served for ``/+tuf/metadata/<filename>`` (None: not here)."""
        version, _, rest = filename.partition(".")
        if filename == metadata_filename(TIMESTAMP, None):
            return self.roles.get(TIMESTAMP)
        if not version.isdigit() or not rest.endswith(".json"):
            return None
        role = _unquote_role(rest.removesuffix(".json"))
        if role == ROOT:
            return self.roots.get(int(version))
        current = self.roles.get(role)
        if current is None or _version(current) != int(version):
            return None
        return current

    def target_file(self, path: str) -> bytes | None:
        """The bytes served for ``/+tuf/targets/<dir>/<sha256>.<name>`` (consistent snapshot)."""
        directory, _, hashed_name = path.rpartition("/")
        digest, _, name = hashed_name.partition(".")
        document = self.documents.get(f"{directory}/{name}")
        if document is None:
            return None
        target = TargetFile.from_data(path, document, ["sha256"])
        return document if target.hashes["sha256"] == digest else None

    def indexes(self) -> list[str]:
        """The indexes the top-level targets delegates to."""
        targets = self.roles.get(TARGETS)
        return delegated_indexes(targets) if targets is not None else []


def delegated_indexes(targets: bytes) -> list[str]:
    """The indexes a top-level targets metadata delegates to."""
    delegations = Metadata[Targets].from_bytes(targets).signed.delegations
    return list(delegations.roles or {}) if delegations is not None else []


@dataclass(frozen=True)
class Publication:
    """What :func:`publish` changed."""

    state: RepositoryState
    signed: tuple[str, ...]
    """The roles signed anew, in order."""


def publish(
    state: RepositoryState,
    directory: TufDirectory,
    documents: Mapping[str, bytes],
    *,
    now: datetime | None = None,
) -> Publication:
    """The next state: the offline-signed root and targets from ``directory``, ``documents``
    (target path -> bytes) set, and every online role re-signed that changed, has a new key
    or is past half its lifetime. A role not re-signed keeps its bytes."""
    now = now or datetime.now(UTC)
    roots = {**state.roots, **directory.roots()}
    roles = dict(state.roles)
    signed: list[str] = []
    targets_bytes = directory.targets()
    if roles.get(TARGETS) != targets_bytes:
        roles[TARGETS] = targets_bytes
        signed.append(TARGETS)
    top_targets = Metadata[Targets].from_bytes(targets_bytes).signed
    delegated = dict(top_targets.delegations.roles or {}) if top_targets.delegations else {}
    all_documents = dict(state.documents)
    all_documents.update(documents)
    for index, role in delegated.items():
        mine = {p: b for p, b in all_documents.items() if p.startswith(f"{index}/{SIMPLE_DIR}/")}
        current = roles.get(index)
        if _needs_signing(current, _lists_other(mine), INDEX_LIFETIME, role.keyids, now):
            roles[index] = _sign_index(directory, index, mine, current, now)
            signed.append(index)
    root = Metadata[Root].from_bytes(roots[max(roots)]).signed
    snapshot_meta = {f"{TARGETS}.json": MetaFile(version=_version(roles[TARGETS]))}
    snapshot_meta.update(
        {f"{index}.json": MetaFile(version=_version(roles[index])) for index in delegated}
    )
    _sign_if_needed(
        roles, SNAPSHOT, signed, directory, root.roles[SNAPSHOT].keyids, now,
        differs=lambda old: Metadata[Snapshot].from_bytes(old).signed.meta != snapshot_meta,
        build=lambda version, expires: Snapshot(version, SPEC_VERSION, expires, snapshot_meta),
    )  # fmt: skip
    snapshot_file = MetaFile.from_data(_version(roles[SNAPSHOT]), roles[SNAPSHOT], ["sha256"])
    _sign_if_needed(
        roles, TIMESTAMP, signed, directory, root.roles[TIMESTAMP].keyids, now,
        differs=lambda old: Metadata[Timestamp].from_bytes(old).signed.snapshot_meta
        != snapshot_file,
        build=lambda version, expires: Timestamp(version, SPEC_VERSION, expires, snapshot_file),
    )  # fmt: skip
    kept = {p: b for p, b in all_documents.items() if p.split(f"/{SIMPLE_DIR}/")[0] in delegated}
    return Publication(RepositoryState(roots, roles, kept), tuple(signed))


def _sign_if_needed(
    roles: dict[str, bytes],
    role: str,
    signed: list[str],
    directory: TufDirectory,
    keyids: Iterable[str],
    now: datetime,
    *,
    differs: Callable[[bytes], bool],
    build: Callable[[int, datetime], Snapshot | Timestamp],
) -> None:
    """Sign ``role`` anew (``build(version, expires)``) with its online key when
    :func:`_needs_signing`; note it in ``signed``."""
    current = roles.get(role)
    if _needs_signing(current, differs, LIFETIMES[role], keyids, now):
        new = build(_next_version(current), now + LIFETIMES[role])
        roles[role] = _sign(Metadata(new), directory.signer(role))
        signed.append(role)


def _needs_signing(
    current: bytes | None,
    differs: Callable[[bytes], bool],
    lifetime: timedelta,
    keyids: Iterable[str],
    now: datetime,
) -> bool:
    """Unsigned yet, its content changed, past half its lifetime, or signed with a key the
    delegating role no longer trusts (a rotation)."""
    return (
        current is None
        or differs(current)
        or _stale(current, lifetime, now)
        or _rekeyed(current, keyids)
    )


def _sign_index(
    directory: TufDirectory,
    index: str,
    documents: Mapping[str, bytes],
    current: bytes | None,
    now: datetime,
) -> bytes:
    targets = {
        path: TargetFile.from_data(path, data, ["sha256"]) for path, data in documents.items()
    }
    role = Targets(
        version=_next_version(current), spec_version=SPEC_VERSION,
        expires=now + INDEX_LIFETIME, targets=targets,
    )  # fmt: skip
    return _sign(Metadata(role), directory.signer(index))


def _lists_other(documents: Mapping[str, bytes]) -> Callable[[bytes], bool]:
    """Whether an index role's metadata lists other documents than ``documents``."""
    expected = _hashes_of(documents)
    return lambda role_bytes: _document_hashes(role_bytes) != expected


def _document_hashes(role_bytes: bytes) -> dict[str, str]:
    targets = Metadata[Targets].from_bytes(role_bytes).signed.targets
    return {path: target.hashes["sha256"] for path, target in targets.items()}


def _hashes_of(documents: Mapping[str, bytes]) -> dict[str, str]:
    return {
        path: TargetFile.from_data(path, data, ["sha256"]).hashes["sha256"]
        for path, data in documents.items()
    }


def _stale(role_bytes: bytes | None, lifetime: timedelta, now: datetime) -> bool:
    """Past half its lifetime (or unsigned): re-sign before any client sees it expire."""
    if role_bytes is None:
        return True
    expires = Metadata.from_bytes(role_bytes).signed.expires
    return expires - now < lifetime / 2


def _rekeyed(role_bytes: bytes | None, keyids: Iterable[str]) -> bool:
    if role_bytes is None:
        return True
    signatures = Metadata.from_bytes(role_bytes).signatures
    return not set(signatures) & set(keyids)


def _version(role_bytes: bytes) -> int:
    return int(Metadata.from_bytes(role_bytes).signed.version)


def _next_version(role_bytes: bytes | None) -> int:
    return 1 if role_bytes is None else _version(role_bytes) + 1


def _sign(metadata: Metadata[Any], *signers: Signer) -> bytes:
    for signer in signers:
        metadata.sign(signer, append=True)
    return metadata.to_bytes(_SERIALIZER)


def _unquote_role(quoted: str) -> str:
    from urllib.parse import unquote

    return unquote(quoted)


def _load_signer(path: Path) -> Signer:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        data = path.read_bytes()
    except OSError as error:
        raise TufRepositoryError(
            f"cannot read the key {path}: {error.strerror}",
            hint="is the offline directory (--offline-dir) mounted?",
        ) from None
    return CryptoSigner(load_pem_private_key(data, password=None))


def _write_key(path: Path, signer: CryptoSigner) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_bytes(signer.private_bytes)


@dataclass(frozen=True)
class TufCeremony:
    """What ``anya-ext registry tuf init|rotate`` wrote."""

    directory: Path
    offline_dir: Path
    trusted_root: Path
    """The root clients start from (``sources.<name>.tuf_root``)."""
    root_version: int
    targets_version: int
    indexes: tuple[str, ...]
    rotated: tuple[str, ...] = ()
    """The roles whose keys are new."""


def init_repository(
    directory: Path, offline_dir: Path, indexes: Iterable[str], *, now: datetime | None = None
) -> TufCeremony:
    """Generate every key and sign root (v1) and the top-level targets (v1) delegating to
    one role per index. Refuses to overwrite an existing repository."""
    now = now or datetime.now(UTC)
    tuf_dir, offline = TufDirectory(directory), OfflineKeys(offline_dir)
    if tuf_dir.metadata_dir.exists() or offline.key_file(ROOT).exists():
        raise TufRepositoryError(
            f"{directory} or {offline_dir} already holds a TUF repository",
            hint="change keys with 'anya-ext registry tuf rotate ROLE'",
        )
    wanted = tuple(dict.fromkeys(_checked_index(index) for index in indexes))
    signers: dict[str, CryptoSigner] = {}
    for role in (*OFFLINE_ROLES, *ONLINE_ROLES, *wanted):
        signers[role] = CryptoSigner.generate_ed25519()
        path = offline.key_file(role) if role in OFFLINE_ROLES else tuf_dir.key_file(role)
        _write_key(path, signers[role])
    root = Root(version=1, spec_version=SPEC_VERSION, expires=now + LIFETIMES[ROOT],
                consistent_snapshot=True)  # fmt: skip
    for role in (ROOT, TARGETS, SNAPSHOT, TIMESTAMP):
        root.add_key(signers[role].public_key, role)
    tuf_dir.metadata_dir.mkdir(parents=True, exist_ok=True)
    (tuf_dir.metadata_dir / "1.root.json").write_bytes(_sign(Metadata(root), signers[ROOT]))
    targets = _top_targets(1, {i: signers[i].public_key for i in wanted}, now)
    (tuf_dir.metadata_dir / _TARGETS_FILE).write_bytes(_sign(Metadata(targets), signers[TARGETS]))
    return TufCeremony(
        directory, offline_dir, tuf_dir.trusted_root(), 1, 1, wanted, rotated=tuple(signers)
    )


def rotate_key(
    directory: Path, offline_dir: Path, role: str, *, now: datetime | None = None
) -> TufCeremony:
    """A new key for ``role`` (``root``, ``targets``, ``snapshot``, ``timestamp`` or an index,
    which is delegated if it was not). Root changes are signed by the old and the new root
    key, so clients holding the old root follow; the server re-signs the online roles with
    the new keys on its next change."""
    now = now or datetime.now(UTC)
    tuf_dir, offline = TufDirectory(directory), OfflineKeys(offline_dir)
    roots = tuf_dir.roots()
    root_md = Metadata[Root].from_bytes(roots[max(roots)])
    targets_md = Metadata[Targets].from_bytes(tuf_dir.targets())
    old_root_signer = offline.signer(ROOT)
    new_signer = CryptoSigner.generate_ed25519()
    if role in (ROOT, TARGETS, SNAPSHOT, TIMESTAMP):
        root = root_md.signed
        for keyid in list(root.roles[role].keyids):
            root.revoke_key(keyid, role)
        root.add_key(new_signer.public_key, role)
        root.version += 1
        root.expires = now + LIFETIMES[ROOT]
        signers = [old_root_signer, new_signer] if role == ROOT else [old_root_signer]
        path = offline.key_file(role) if role in OFFLINE_ROLES else tuf_dir.key_file(role)
        new_root = _sign(Metadata(root), *signers)
        (tuf_dir.metadata_dir / f"{root.version}.root.json").write_bytes(new_root)
        _write_key(path, new_signer)
        if role == TARGETS:
            _resign_targets(tuf_dir, targets_md.signed, new_signer, now)
    else:
        index = _checked_index(role)
        keys = _delegated_keys(targets_md.signed)
        keys[index] = new_signer.public_key
        targets = _top_targets(targets_md.signed.version + 1, keys, now)
        _write_key(tuf_dir.key_file(index), new_signer)
        (tuf_dir.metadata_dir / _TARGETS_FILE).write_bytes(
            _sign(Metadata(targets), offline.signer(TARGETS))
        )
    roots = tuf_dir.roots()
    final_targets = Metadata[Targets].from_bytes(tuf_dir.targets()).signed
    return TufCeremony(
        directory, offline_dir, tuf_dir.trusted_root(), max(roots), final_targets.version,
        tuple(_delegated_keys(final_targets)), rotated=(role,),
    )  # fmt: skip


def _resign_targets(tuf_dir: TufDirectory, targets: Targets, signer: Signer, now: datetime) -> None:
    new = _top_targets(targets.version + 1, _delegated_keys(targets), now)
    (tuf_dir.metadata_dir / _TARGETS_FILE).write_bytes(_sign(Metadata(new), signer))


def _delegated_keys(targets: Targets) -> dict[str, Any]:
    if targets.delegations is None:
        return {}
    keys = targets.delegations.keys
    return {
        name: keys[role.keyids[0]]
        for name, role in (targets.delegations.roles or {}).items()
        if role.keyids
    }


def _top_targets(version: int, index_keys: Mapping[str, Any], now: datetime) -> Targets:
    """Top-level targets: no targets of its own, one terminating delegation per index."""
    roles = {
        index: DelegatedRole(
            name=index,
            keyids=[key.keyid],
            threshold=1,
            terminating=True,
            paths=delegated_paths(index),
        )
        for index, key in index_keys.items()
    }
    delegations = Delegations(keys={key.keyid: key for key in index_keys.values()}, roles=roles)
    return Targets(
        version=version, spec_version=SPEC_VERSION, expires=now + LIFETIMES[TARGETS],
        targets={}, delegations=delegations,
    )  # fmt: skip


def _checked_index(index: str) -> str:
    user, slash, name = index.partition("/")
    if not slash or not user or not name or "/" in name or index in (*OFFLINE_ROLES, *ONLINE_ROLES):
        raise TufRepositoryError(
            f"{index!r} is not an index name like user/index",
            hint="roles: root, targets, snapshot, timestamp or an index (user/index)",
        )
    return index
