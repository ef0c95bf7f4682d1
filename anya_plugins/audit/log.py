"""The audit log: one JSON line per install, uninstall, update, refused verification,
configuration change and advisory database update, chained by hashes so that a changed
history shows.

Each entry records who (user, host), when (UTC, ISO 8601), what (action, extension,
version, source, file hashes, result, details), its number ``seq``, the hash of the entry
before it (``prev``; 64 zeros for the first) and its own ``hash``: the sha256 of the entry's
RFC 8785 canonical JSON without the ``hash`` key. A line is that canonical JSON itself.

:func:`verify_log` recomputes every hash and follows the chain, naming the line where an
entry was edited, removed, inserted or reordered. Removing entries from the *end* leaves a
valid, shorter chain: that is caught by the *anchors*, files elsewhere (the user's data
directory, each environment the entry concerns) to which every append copies the new head
(``seq`` and ``hash``); a log whose entry at an anchored ``seq`` is missing or different was
cut. An anchor is moved forward only while it agrees with the log, so a cut stays visible
after later appends. A head noted by hand can still be passed as ``expected_head``.

Appends take a lock beside the log (``<log>.lock``), write the whole line with one
``O_APPEND`` write and fsync it. A writer killed mid-line leaves a last line without its
newline: :func:`verify_log` reports that as ``truncated``, not as tampering, and the next
append cuts the fragment off and records it in a ``log-repair`` entry before its own. A last
line that lacks only its newline is a whole entry (no strict prefix of a JSON object parses):
it is read as one, and the next append gives it its newline.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import socket
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal

from anya_plugins.audit.errors import AuditLogError, AuditLogTampered, AuditLogTruncated
from anya_plugins.config.atomic import _sync_directory

LOG_ENV: Final = "ANYA_AUDIT_LOG"
GENESIS: Final = "0" * 64
"""The ``prev`` of the first entry."""
LOCK_TIMEOUT_SECONDS: Final = 30.0

Action = Literal[
    "install",
    "uninstall",
    "update",
    "verify",
    "config-change",
    "advisories-update",
    "log-repair",
    "trust-repin",
    # the registry server's trail (anya_plugins.registry.audit_trail)
    "upload",
    "download",
    "sign-in-failure",
    "permission-refused",
]
Result = Literal["ok", "refused", "failed"]
ProblemKind = Literal["edited", "removed", "inserted", "reordered", "malformed", "truncated"]

_READ_CHUNK = 64 * 1024


@dataclass(frozen=True)
class LogEntry:
    """One line of the audit log."""

    seq: int
    time: str
    user: str
    host: str
    action: str
    extension: str | None
    version: str | None
    source: str | None
    hashes: Mapping[str, str]
    """File name to ``sha256:<hex>`` of each file the action used (wheels, sdists)."""
    result: str
    details: Mapping[str, Any]
    prev: str
    hash: str

    def content(self) -> dict[str, Any]:
        """The hashed part: every field but ``hash``."""
        data = asdict(self)
        del data["hash"]
        return data


@dataclass(frozen=True)
class LogProblem:
    """Something :func:`verify_log` found wrong, at a line (1-based) of the file."""

    line: int
    kind: ProblemKind
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.kind}: {self.message}"


@dataclass(frozen=True)
class LogHead:
    """The last entry of a log at some moment, as an anchor keeps it."""

    seq: int
    hash: str


@dataclass(frozen=True)
class LogReport:
    """What :func:`verify_log` found."""

    path: str
    entries: int
    """Complete lines read (a truncated last line is not counted)."""
    head: str | None
    """The hash of the last entry; keep it elsewhere to detect entries removed from the end."""
    problems: tuple[LogProblem, ...] = ()
    head_seq: int | None = None
    anchored: tuple[str, ...] = ()
    """The anchor files that hold a head of this log, each checked against it."""

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def tampered(self) -> bool:
        """Whether anything but an incomplete last line is wrong."""
        return any(problem.kind != "truncated" for problem in self.problems)

    @property
    def truncated(self) -> bool:
        return any(problem.kind == "truncated" for problem in self.problems)

    def check(self) -> None:
        """Raise AuditLogTampered (or AuditLogTruncated, when that is all) unless the log is ok."""
        if self.ok:
            return
        lines = "\n".join(f"  {problem}" for problem in self.problems)
        if self.tampered:
            raise AuditLogTampered(
                f"{self.path}: the audit log was changed after it was written:\n{lines}",
                hint="keep this file as evidence and compare it with a backup of the log",
            )
        raise AuditLogTruncated(
            f"{self.path}: the last entry is incomplete (a writer was stopped mid-write):\n{lines}",
            hint="the next entry written repairs the log and records the fragment",
        )


class AuditLog:
    """Appending to the audit log at ``path``; safe across threads and processes. After each
    append the new head is copied to every file of ``anchors``."""

    def __init__(
        self,
        path: Path,
        *,
        anchors: Sequence[Path] = (),
        lock_timeout: float = LOCK_TIMEOUT_SECONDS,
    ) -> None:
        self.path = path
        self.anchors = tuple(anchors)
        self.lock_timeout = lock_timeout

    def record(
        self,
        action: Action,
        *,
        extension: str | None = None,
        version: str | None = None,
        source: str | None = None,
        hashes: Mapping[str, str] | None = None,
        result: Result = "ok",
        details: Mapping[str, Any] | None = None,
        user: str | None = None,
        host: str | None = None,
    ) -> LogEntry:
        """Append one entry and return it, synced to disk. ``details`` must be JSON data (and
        must hold no secrets: the log is for reading). ``user`` and ``host`` replace this
        process's user and host name (a server records who asked, and from where)."""
        facts = _facts(action, extension, version, source, hashes, result, details)
        facts.update({k: v for k, v in (("user", user), ("host", host)) if v is not None})
        return self._append_all([facts])[0]

    def record_all(self, records: Sequence[Mapping[str, Any]]) -> list[LogEntry]:
        """Append one entry per item of ``records`` (each the keyword arguments of
        :meth:`record`, ``action`` included), in order, under one lock: synced to disk once,
        the anchors moved once, to the last (one install of many distributions)."""
        all_facts = [
            _facts(
                r["action"],
                r.get("extension"),
                r.get("version"),
                r.get("source"),
                r.get("hashes"),
                r.get("result", "ok"),
                r.get("details"),
            )
            for r in records
        ]
        return self._append_all(all_facts) if all_facts else []

    def _append_all(self, all_facts: Sequence[Mapping[str, Any]]) -> list[LogEntry]:
        with self._appending() as descriptor:
            previous, fragment = _tail(descriptor, self.path)
            if fragment is not None:
                os.ftruncate(descriptor, fragment.offset)
                previous = _append(descriptor, self.path, previous, fragment.repair_facts())
            head = previous
            entries = []
            for facts in all_facts:
                previous = _append(descriptor, self.path, previous, facts, sync=False)
                entries.append(previous)
            os.fsync(descriptor)
            for anchor in self.anchors:
                _move_anchor(anchor, self.path, descriptor, entries[-1], after=head)
            return entries

    @contextmanager
    def _appending(self) -> Iterator[int]:
        """The log open for appending, under its lock; created (0600) if missing."""
        from anya_plugins.flock import LockTimeout, exclusive

        lock = self.path.with_name(f"{self.path.name}.lock")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with exclusive(lock, self.lock_timeout):
                created = not self.path.exists()
                descriptor = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    if created:
                        _sync_directory(self.path.parent)
                    yield descriptor
                finally:
                    os.close(descriptor)
        except LockTimeout:
            raise AuditLogError(
                f"{self.path}: another process kept the audit log locked for "
                f"{self.lock_timeout:.0f} s",
                hint=f"try again; if no other anya-ext is running, delete {lock}",
            ) from None
        except OSError as error:
            raise AuditLogError(
                f"{self.path}: the audit log cannot be written: {error.strerror or error}",
                hint="check the permissions of the file and its directory, or point "
                f"{LOG_ENV} (or audit.log) at another file",
            ) from None


def read_log(path: Path) -> tuple[LogEntry, ...]:
    """Every entry, without checking the chain (that is :func:`verify_log`). The incomplete last
    line a killed writer leaves is not an entry and is left out; any other line that is not
    an entry is an AuditLogError naming it."""
    entries = []
    for number, line in enumerate(_entry_lines(_read(path)), start=1):
        entry = _parse(line)
        if isinstance(entry, str):
            raise AuditLogError(f"{path}:{number}: {entry}", hint="run verify_log on the log")
        entries.append(entry)
    return tuple(entries)


def verify_log(
    path: Path, *, expected_head: str | None = None, anchors: Sequence[Path] = ()
) -> LogReport:
    """Check every entry's hash and every link of the chain; a missing log is an empty one.

    Each of ``anchors`` that holds a head of this log must find that very entry in it: a log
    without it was cut (entries removed from the end). ``expected_head`` is a
    :attr:`LogReport.head` taken earlier, checked the same way.
    """
    data = _read(path) if path.exists() else b""
    lines = _entry_lines(data)
    problems: list[LogProblem] = []
    entries: list[LogEntry | None] = []
    for number, line in enumerate(lines, start=1):
        entry = _parse(line)
        if isinstance(entry, str):
            problems.append(LogProblem(number, "malformed", entry))
            entries.append(None)
            continue
        if _hash(entry.content()) != entry.hash:
            problems.append(
                LogProblem(
                    number, "edited", "its content no longer matches the hash it was written with"
                )
            )
        entries.append(entry)
    problems.extend(_Chain(entries).problems())
    if data and not data.endswith(b"\n") and len(lines) == len(_complete_lines(data)):
        problems.append(
            LogProblem(
                len(lines) + 1,
                "truncated",
                "the last line is incomplete: a writer was stopped mid-write (not tampering)",
            )
        )
    intact = [entry for entry in entries if entry is not None]
    if expected_head is not None and expected_head not in {entry.hash for entry in intact}:
        problems.append(
            LogProblem(
                len(lines) + 1,
                "removed",
                f"no entry has the expected head hash {expected_head}: "
                "entries were removed from the end",
            )
        )
    anchored = []
    for anchor in anchors:
        head = read_anchor(anchor, path)
        if head is None:
            continue
        anchored.append(str(anchor))
        problem = _against_anchor(intact, head, f"the anchor {anchor}", len(lines) + 1)
        if problem is not None:
            problems.append(problem)
    return LogReport(
        path=str(path),
        entries=len(lines),
        head=intact[-1].hash if intact else None,
        problems=tuple(sorted(problems, key=lambda problem: problem.line)),
        head_seq=intact[-1].seq if intact else None,
        anchored=tuple(anchored),
    )


def read_anchor(anchor: Path, log: Path) -> LogHead | None:
    """The head of ``log`` that ``anchor`` holds; None when it holds none (or is missing)."""
    heads = _anchor_heads(anchor)
    head = heads.get(_log_key(log))
    if head is None:
        return None
    if (
        not isinstance(head, dict)
        or not isinstance(head.get("seq"), int)
        or not isinstance(head.get("hash"), str)
    ):
        raise AuditLogError(
            f"{anchor}: the audit log anchor holds no valid head for {log}",
            hint="the anchor was edited; keep it as evidence and compare the log with a backup",
        )
    return LogHead(head["seq"], head["hash"])


def file_hashes(files: Iterable[Path]) -> dict[str, str]:
    """``{file name: "sha256:<hex>"}`` for the files an action used, to put in an entry."""
    hashes = {}
    for file in files:
        with file.open("rb") as handle:
            hashes[file.name] = f"sha256:{hashlib.file_digest(handle, 'sha256').hexdigest()}"
    return hashes


class _Chain:
    """The entries of one log (None for a malformed line), and how each links to the others."""

    def __init__(self, entries: Sequence[LogEntry | None]) -> None:
        self.entries = entries
        self.line_of: dict[str, int] = {}
        for number, entry in self._numbered():
            self.line_of.setdefault(entry.hash, number)
        self.referenced = {entry.prev for _, entry in self._numbered()}

    def problems(self) -> list[LogProblem]:
        """Where an entry's ``prev`` does not name the entry above it, and what that means."""
        return [
            problem
            for number, entry in self._numbered()
            if (problem := self._problem_at(number, entry)) is not None
        ]

    def _problem_at(self, number: int, entry: LogEntry) -> LogProblem | None:
        original = self.line_of[entry.hash]
        if original < number:
            return LogProblem(number, "inserted", f"it is a copy of line {original}")
        above = self._hash_at(number - 1)
        if above is None or entry.prev == above:
            return None  # linked, or the line above is malformed and reported as such
        if self._is_inserted(number):
            return None  # the next line's check names this one
        first = self._inserted_from(number, entry.prev)
        if first is not None:
            span = f"lines {first}-{number - 1} are" if first < number - 1 else f"line {first} is"
            return LogProblem(
                first,
                "inserted",
                f"{span} not part of the chain: line {number} follows line {first - 1}",
            )
        if entry.prev in self.line_of or entry.prev == GENESIS:
            after = self.line_of.get(entry.prev, 0)
            where = f"line {after}" if after else "the start of the log"
            return LogProblem(number, "reordered", f"entry #{entry.seq} belongs after {where}")
        previous = self.entries[number - 2] if number > 1 else None
        expected = previous.seq + 1 if previous is not None else 1
        if entry.seq == expected and previous is not None:
            return LogProblem(
                number - 1,
                "edited",
                f"line {number} recorded another hash for it: it was rewritten",
            )
        count = entry.seq - expected
        missing = (
            "1 entry is" if count == 1 else f"{count} entries are" if count > 1 else "entries are"
        )
        return LogProblem(
            number,
            "removed",
            f"{missing} missing before it (entry #{entry.seq} follows #{expected - 1})",
        )

    def _numbered(self) -> Iterator[tuple[int, LogEntry]]:
        for number, entry in enumerate(self.entries, start=1):
            if entry is not None:
                yield number, entry

    def _hash_at(self, number: int) -> str | None:
        """The hash of line ``number``; GENESIS above the first line; None for a malformed one."""
        if number == 0:
            return GENESIS
        entry = self.entries[number - 1]
        return entry.hash if entry is not None else None

    def _is_inserted(self, number: int) -> bool:
        """Nothing links to line ``number`` and the line below links past it."""
        entry = self.entries[number - 1]
        below = self.entries[number] if number < len(self.entries) else None
        return (
            entry is not None
            and below is not None
            and entry.hash not in self.referenced
            and below.prev == self._hash_at(number - 1)
        )

    def _inserted_from(self, number: int, prev: str) -> int | None:
        """The first of the lines above ``number`` that nothing links to, when ``prev`` names
        the line just above them: those lines were inserted."""
        first = number - 1
        while first >= 1 and (entry := self.entries[first - 1]) is not None:
            if entry.hash in self.referenced:
                return None
            if self._hash_at(first - 1) == prev:
                return first
            first -= 1
        return None


@dataclass(frozen=True)
class _Fragment:
    """The incomplete last line a killed writer left, from ``offset`` to the end of the file."""

    line: int
    offset: int
    data: bytes

    def repair_facts(self) -> dict[str, Any]:
        return _facts(
            "log-repair",
            None,
            None,
            None,
            None,
            "ok",
            {
                "reason": "the last line was incomplete: a writer was stopped mid-write",
                "line": self.line,
                "fragment": self.data.decode("utf-8", errors="replace"),
                "fragment_sha256": hashlib.sha256(self.data).hexdigest(),
            },
        )


def _against_anchor(
    intact: Sequence[LogEntry], head: LogHead, where: str, line: int
) -> LogProblem | None:
    """Whether the log still holds the entry ``where`` recorded as its head."""
    found = next((entry for entry in intact if entry.seq == head.seq), None)
    if found is not None and found.hash == head.hash:
        return None
    last = intact[-1].seq if intact else 0
    if found is None and head.seq > last:
        missing = f"#{head.seq}" if head.seq == last + 1 else f"#{last + 1}-#{head.seq}"
        return LogProblem(
            line,
            "removed",
            f"entries {missing} are missing from the end: {where} records entry "
            f"#{head.seq} (hash {head.hash})",
        )
    return LogProblem(
        line,
        "removed",
        f"entry #{head.seq} is not the one {where} recorded (hash {head.hash}): the log was "
        "cut and written again",
    )


def _log_key(log: Path) -> str:
    return str(log.expanduser().resolve())


def _anchor_heads(anchor: Path) -> dict[str, Any]:
    try:
        data = json.loads(anchor.read_bytes())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise AuditLogError(
            f"{anchor}: the audit log anchor cannot be read: {error}",
            hint="keep it as evidence; verify the log with --expected-head if you noted one",
        ) from None
    heads = data.get("heads") if isinstance(data, dict) else None
    if not isinstance(heads, dict):
        raise AuditLogError(f"{anchor}: not an audit log anchor (no 'heads' table)")
    return heads


def _move_anchor(
    anchor: Path, log: Path, descriptor: int, entry: LogEntry, *, after: LogEntry | None
) -> None:
    """Copy the head ``entry`` to ``anchor`` — unless the anchor disagrees with the log: then
    it is left as it is, so that :func:`verify_log` keeps reporting the cut. Called under the
    log's lock, after appending the entries that followed ``after`` (the head before)."""
    from anya_plugins.config.atomic import write_atomic

    try:
        kept = read_anchor(anchor, log)
    except AuditLogError:
        return  # an edited anchor is evidence: verify_log reports it
    if kept is not None:
        if after is not None and kept.seq == after.seq:
            agrees = kept.hash == after.hash
        else:
            entries = _entries_of(descriptor) if kept.seq < entry.seq else []
            agrees = bool(entries) and _against_anchor(entries, kept, "", 0) is None
        if not agrees:
            return
    heads = _anchor_heads(anchor)
    heads[_log_key(log)] = {"seq": entry.seq, "hash": entry.hash}
    try:
        anchor.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(anchor, json.dumps({"heads": heads}, indent=2, sort_keys=True) + "\n")
    except OSError as error:
        raise AuditLogError(
            f"{anchor}: the audit log's head cannot be anchored: {error.strerror or error}",
            hint=f"entry #{entry.seq} was written to {log}; check the permissions of "
            f"{anchor.parent}",
        ) from None


def _entries_of(descriptor: int) -> list[LogEntry]:
    return [
        entry
        for line in _entry_lines(_read_descriptor(descriptor))
        if isinstance(entry := _parse(line), LogEntry)
    ]


def _facts(
    action: Action,
    extension: str | None,
    version: str | None,
    source: str | None,
    hashes: Mapping[str, str] | None,
    result: Result,
    details: Mapping[str, Any] | None,
) -> dict[str, Any]:
    return {
        "action": action,
        "extension": extension,
        "version": version,
        "source": source,
        "hashes": dict(hashes or {}),
        "result": result,
        "details": dict(details or {}),
    }


def _tail(descriptor: int, path: Path) -> tuple[LogEntry | None, _Fragment | None]:
    """The last complete entry (None for an empty log) and the incomplete line after it, read
    backwards from the end so that an append costs the same however long the log is."""
    size = os.fstat(descriptor).st_size
    start, data = size, b""
    while start > 0 and data.count(b"\n") < 2:
        step = min(_READ_CHUNK, start)
        start -= step
        data = os.pread(descriptor, step, start) + data
    cut = data.rfind(b"\n") + 1
    fragment = None
    if cut < len(data):
        lines_before = _read_descriptor(descriptor).count(b"\n")
        fragment = _Fragment(line=lines_before + 1, offset=start + cut, data=data[cut:])
    complete = data[:cut].splitlines()
    if fragment is not None and isinstance(whole := _parse(fragment.data), LogEntry):
        # Only its newline is missing: a whole entry is never a torn write.
        os.write(descriptor, b"\n")
        os.fsync(descriptor)
        return whole, None
    if not complete:
        return None, fragment
    entry = _parse(complete[-1])
    if isinstance(entry, str):
        raise AuditLogError(
            f"{path}: the last entry is not valid: {entry}",
            hint="run verify_log on the log; nothing was appended",
        )
    return entry, fragment


def _append(
    descriptor: int,
    path: Path,
    previous: LogEntry | None,
    facts: Mapping[str, Any],
    *,
    sync: bool = True,
) -> LogEntry:
    import rfc8785

    content = {
        "seq": previous.seq + 1 if previous is not None else 1,
        "time": datetime.now(UTC).isoformat(timespec="microseconds"),
        "user": _user(),
        "host": socket.gethostname(),
        **facts,
        "prev": previous.hash if previous is not None else GENESIS,
    }
    try:
        entry = LogEntry(**content, hash=_hash(content))
        line = rfc8785.dumps({**content, "hash": entry.hash}) + b"\n"
    except (TypeError, ValueError, rfc8785.CanonicalizationError) as error:
        raise AuditLogError(
            f"{path}: the entry for {facts['action']!r} cannot be written as JSON: {error}",
            hint="this is a bug in the caller: details must be JSON data",
        ) from None
    view = memoryview(line)
    while view:
        view = view[os.write(descriptor, view) :]
    if sync:
        os.fsync(descriptor)
    return entry


def _hash(content: Mapping[str, Any]) -> str:
    import rfc8785

    return hashlib.sha256(rfc8785.dumps(dict(content))).hexdigest()


_FIELDS: Final[Mapping[str, tuple[type, ...]]] = {
    "seq": (int,),
    "time": (str,),
    "user": (str,),
    "host": (str,),
    "action": (str,),
    "extension": (str, type(None)),
    "version": (str, type(None)),
    "source": (str, type(None)),
    "hashes": (dict,),
    "result": (str,),
    "details": (dict,),
    "prev": (str,),
    "hash": (str,),
}


def _parse(line: bytes) -> LogEntry | str:
    """The entry on one line, or what is wrong with the line."""
    try:
        data = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return f"not JSON ({error})"
    if not isinstance(data, dict):
        return "not a JSON object"
    if set(data) != set(_FIELDS):
        missing, extra = sorted(set(_FIELDS) - set(data)), sorted(set(data) - set(_FIELDS))
        return f"not an audit entry (missing {missing}, unknown {extra})"
    for name, types in _FIELDS.items():
        if not isinstance(data[name], types) or (name == "seq" and isinstance(data[name], bool)):
            return f"field {name!r} has the wrong type"
    return LogEntry(**data)


def _entry_lines(data: bytes) -> list[bytes]:
    """The complete lines, and the last line when it lacks only its newline (it parses as an
    entry: no strict prefix of a JSON object does)."""
    lines = _complete_lines(data)
    last = data[data.rfind(b"\n") + 1 :]
    if last and isinstance(_parse(last), LogEntry):
        lines.append(last)
    return lines


def _complete_lines(data: bytes) -> list[bytes]:
    """The lines that end with a newline; the incomplete line after the last one is left out."""
    return data[: data.rfind(b"\n") + 1].splitlines()


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise AuditLogError(
            f"{path}: cannot read the audit log: {error.strerror or error}"
        ) from None


def _read_descriptor(descriptor: int) -> bytes:
    chunks = []
    offset = 0
    while chunk := os.pread(descriptor, _READ_CHUNK, offset):
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"
