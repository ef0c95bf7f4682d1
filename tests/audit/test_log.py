"""The audit log: entries chained by hashes; every kind of tampering named with its line; a
writer killed mid-line told apart from tampering; concurrent writers keep one chain."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import rfc8785

from anya_plugins.audit.errors import AuditLogError, AuditLogTampered, AuditLogTruncated
from anya_plugins.audit.log import GENESIS, AuditLog, file_hashes, read_log, verify_log
from tests.support import REPO


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "audit.jsonl"


@pytest.fixture
def five_entries(log_path: Path) -> Path:
    """A log of five real entries: install, update, refused verify, config change, uninstall."""
    log = AuditLog(log_path)
    log.record("install", extension="btc-wallet", version="1.0.0", source="primary")
    log.record("update", extension="btc-wallet", version="1.1.0", source="primary")
    log.record("verify", extension="web5-did", version="0.3.0", result="refused")
    log.record("config-change", extension="btc-wallet", details={"key": "btc-wallet.port"})
    log.record("uninstall", extension="btc-wallet", version="1.1.0")
    return log_path


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def write_lines(path: Path, lines: list[bytes]) -> None:
    path.write_bytes(b"".join(lines))


def rehashed(line: bytes, **changes: Any) -> bytes:
    """The entry on ``line`` with ``changes``, its hash recomputed as the log computes it."""
    entry = json.loads(line)
    entry.update(changes)
    del entry["hash"]
    entry["hash"] = hashlib.sha256(rfc8785.dumps(entry)).hexdigest()
    return rfc8785.dumps(entry) + b"\n"


def problems(path: Path) -> list[tuple[int, str]]:
    return [(problem.line, problem.kind) for problem in verify_log(path).problems]


def test_recorded_entry_holds_who_what_and_when(log_path: Path, tmp_path: Path) -> None:
    wheel = tmp_path / "anya_ext_btc_wallet-1.0.0-py3-none-any.whl"
    wheel.write_bytes(b"wheel bytes")
    entry = AuditLog(log_path).record(
        "install",
        extension="btc-wallet",
        version="1.0.0",
        source="primary",
        hashes=file_hashes([wheel]),
        details={"gate": "allowed"},
    )
    assert (entry.seq, entry.action, entry.result) == (1, "install", "ok")
    assert entry.hashes == {wheel.name: f"sha256:{hashlib.sha256(b'wheel bytes').hexdigest()}"}
    assert entry.user and entry.host
    assert entry.time.endswith("+00:00")
    assert entry.prev == GENESIS
    assert read_log(log_path) == (entry,)


def test_each_entry_carries_the_hash_of_the_one_before(five_entries: Path) -> None:
    entries = read_log(five_entries)
    assert [entry.seq for entry in entries] == [1, 2, 3, 4, 5]
    assert [entry.prev for entry in entries[1:]] == [entry.hash for entry in entries[:-1]]


def test_entry_hash_is_sha256_of_its_canonical_json(five_entries: Path) -> None:
    line = lines_of(five_entries)[0]
    entry = json.loads(line)
    recorded = entry.pop("hash")
    assert recorded == hashlib.sha256(rfc8785.dumps(entry)).hexdigest()
    assert line == rfc8785.dumps({**entry, "hash": recorded}) + b"\n"


def test_untouched_log_verifies(five_entries: Path) -> None:
    report = verify_log(five_entries)
    assert report.ok
    assert report.entries == 5
    assert report.head == read_log(five_entries)[-1].hash
    report.check()


def test_missing_log_verifies_as_empty(log_path: Path) -> None:
    report = verify_log(log_path)
    assert (report.ok, report.entries, report.head) == (True, 0, None)


def test_new_log_is_private_to_the_user(five_entries: Path) -> None:
    assert stat.S_IMODE(five_entries.stat().st_mode) == 0o600


def test_edited_entry_is_named(five_entries: Path) -> None:
    lines = lines_of(five_entries)
    lines[2] = lines[2].replace(b'"result":"refused"', b'"result":"ok"')
    write_lines(five_entries, lines)
    assert problems(five_entries) == [(3, "edited")]
    with pytest.raises(AuditLogTampered, match=r"line 3: edited") as raised:
        verify_log(five_entries).check()
    assert raised.value.exit_code == 14


def test_edited_entry_with_a_recomputed_hash_is_named(five_entries: Path) -> None:
    lines = lines_of(five_entries)
    lines[2] = rehashed(lines[2], result="ok")
    write_lines(five_entries, lines)
    assert problems(five_entries) == [(3, "edited")]


def test_removed_entry_is_named(five_entries: Path) -> None:
    lines = lines_of(five_entries)
    del lines[2]
    write_lines(five_entries, lines)
    assert problems(five_entries) == [(3, "removed")]
    (problem,) = verify_log(five_entries).problems
    assert problem.message == "1 entry is missing before it (entry #4 follows #2)"


def test_removed_first_entry_is_named(five_entries: Path) -> None:
    write_lines(five_entries, lines_of(five_entries)[1:])
    assert problems(five_entries) == [(1, "removed")]


def test_entries_removed_from_the_end_show_against_the_expected_head(five_entries: Path) -> None:
    head = verify_log(five_entries).head
    write_lines(five_entries, lines_of(five_entries)[:-2])
    assert verify_log(five_entries).ok
    report = verify_log(five_entries, expected_head=head)
    assert [(p.line, p.kind) for p in report.problems] == [(4, "removed")]


def anchored_log(log_path: Path, anchors: list[Path], count: int = 5) -> AuditLog:
    log = AuditLog(log_path, anchors=anchors)
    for number in range(count):
        log.record("install", extension=f"ext-{number}", version="1.0.0")
    return log


def test_entries_removed_from_the_end_show_against_an_anchor(
    log_path: Path, tmp_path: Path
) -> None:
    anchors = [tmp_path / "user" / "audit-heads.json", tmp_path / "env" / "audit-head.json"]
    anchored_log(log_path, anchors)
    write_lines(log_path, lines_of(log_path)[:-2])
    assert verify_log(log_path).ok  # the cut chain alone looks intact
    report = verify_log(log_path, anchors=anchors)
    assert [(p.line, p.kind) for p in report.problems] == [(4, "removed"), (4, "removed")]
    assert "entries #4-#5 are missing from the end" in report.problems[0].message
    assert report.anchored == tuple(str(anchor) for anchor in anchors)


def test_consistent_anchors_pass(log_path: Path, tmp_path: Path) -> None:
    anchors = [tmp_path / "user" / "audit-heads.json", tmp_path / "env" / "audit-head.json"]
    log = anchored_log(log_path, anchors[:1], count=2)
    AuditLog(log_path, anchors=anchors).record("uninstall", extension="ext-0")
    log.record("install", extension="ext-9")  # the second anchor now lags: still consistent
    report = verify_log(log_path, anchors=anchors)
    assert report.ok, report.problems
    assert (report.entries, report.head_seq, len(report.anchored)) == (4, 4, 2)


def test_a_cut_stays_visible_after_later_appends(log_path: Path, tmp_path: Path) -> None:
    anchor = tmp_path / "env" / "audit-head.json"
    log = anchored_log(log_path, [anchor])
    write_lines(log_path, lines_of(log_path)[:-3])
    for number in range(4):
        log.record("install", extension=f"refill-{number}")
    report = verify_log(log_path, anchors=[anchor])
    assert [p.kind for p in report.problems] == ["removed"]
    assert "entry #5 is not the one" in report.problems[0].message


def test_an_anchor_of_another_log_is_not_used(log_path: Path, tmp_path: Path) -> None:
    anchor = tmp_path / "audit-heads.json"
    anchored_log(tmp_path / "other.jsonl", [anchor])
    anchored_log(log_path, [], count=2)
    report = verify_log(log_path, anchors=[anchor])
    assert report.ok
    assert report.anchored == ()


def test_reordered_entries_are_named(five_entries: Path) -> None:
    lines = lines_of(five_entries)
    lines[1], lines[2] = lines[2], lines[1]
    write_lines(five_entries, lines)
    found = problems(five_entries)
    assert found[0] == (2, "reordered")
    assert {kind for _, kind in found} == {"reordered"}


def test_inserted_entry_is_named(five_entries: Path) -> None:
    lines = lines_of(five_entries)
    previous = json.loads(lines[1])
    forged = rehashed(
        lines[1], seq=3, action="install", extension="backdoor", prev=previous["hash"]
    )
    write_lines(five_entries, [*lines[:2], forged, *lines[2:]])
    assert problems(five_entries) == [(3, "inserted")]


def test_inserted_entry_with_any_prev_is_named(five_entries: Path) -> None:
    lines = lines_of(five_entries)
    forged = rehashed(lines[1], seq=3, extension="backdoor", prev="f" * 64)
    write_lines(five_entries, [*lines[:2], forged, *lines[2:]])
    assert problems(five_entries) == [(3, "inserted")]


def test_entry_inserted_before_the_first_is_named(five_entries: Path) -> None:
    lines = lines_of(five_entries)
    forged = rehashed(lines[0], extension="backdoor")
    write_lines(five_entries, [forged, *lines])
    assert problems(five_entries) == [(1, "inserted")]


def test_duplicated_entry_is_named(five_entries: Path) -> None:
    lines = lines_of(five_entries)
    write_lines(five_entries, [*lines[:2], lines[1], *lines[2:]])
    assert problems(five_entries) == [(3, "inserted")]
    assert verify_log(five_entries).problems[0].message == "it is a copy of line 2"


def test_line_that_is_not_an_entry_is_malformed(five_entries: Path) -> None:
    lines = lines_of(five_entries)
    lines[3] = b"rm -rf history\n"
    write_lines(five_entries, lines)
    assert problems(five_entries) == [(4, "malformed")]
    with pytest.raises(AuditLogError, match=r"audit\.jsonl:4: not JSON"):
        read_log(five_entries)


def test_truncated_last_line_is_not_tampering(five_entries: Path) -> None:
    with five_entries.open("ab") as handle:
        handle.write(b'{"action":"install","details":{},"exten')
    report = verify_log(five_entries)
    assert [(p.line, p.kind) for p in report.problems] == [(6, "truncated")]
    assert report.truncated
    assert not report.tampered
    assert report.entries == 5
    with pytest.raises(AuditLogTruncated, match=r"the last entry is incomplete"):
        report.check()


def test_truncated_line_is_left_out_of_the_entries(five_entries: Path) -> None:
    with five_entries.open("ab") as handle:
        handle.write(b'{"action":"inst')
    assert len(read_log(five_entries)) == 5


def test_next_append_repairs_a_truncated_log_and_keeps_the_fragment(five_entries: Path) -> None:
    fragment = b'{"action":"install","details":{},"exten'
    with five_entries.open("ab") as handle:
        handle.write(fragment)
    entry = AuditLog(five_entries).record("install", extension="ml-models", version="2.0")
    assert verify_log(five_entries).ok
    *_, repair, last = read_log(five_entries)
    assert (repair.seq, repair.action) == (6, "log-repair")
    assert repair.details["line"] == 6
    assert repair.details["fragment"] == fragment.decode()
    assert repair.details["fragment_sha256"] == hashlib.sha256(fragment).hexdigest()
    assert last == entry
    assert entry.seq == 7


def test_last_entry_without_its_newline_is_an_entry_not_a_torn_write(five_entries: Path) -> None:
    five_entries.write_bytes(five_entries.read_bytes().removesuffix(b"\n"))
    report = verify_log(five_entries)
    assert report.ok
    assert report.entries == 5
    assert len(read_log(five_entries)) == 5


def test_append_after_a_lost_final_newline_keeps_that_entry_whole(five_entries: Path) -> None:
    before = read_log(five_entries)
    five_entries.write_bytes(five_entries.read_bytes().removesuffix(b"\n"))
    entry = AuditLog(five_entries).record("install", extension="ml-models", version="2.0")
    assert verify_log(five_entries).ok
    assert read_log(five_entries) == (*before, entry)
    assert (entry.seq, entry.prev) == (6, before[-1].hash)
    assert "log-repair" not in [logged.action for logged in read_log(five_entries)]


def test_append_after_a_broken_last_entry_is_refused(five_entries: Path) -> None:
    with five_entries.open("ab") as handle:
        handle.write(b"garbage\n")
    with pytest.raises(AuditLogError, match=r"the last entry is not valid"):
        AuditLog(five_entries).record("install", extension="x")
    assert lines_of(five_entries)[-1] == b"garbage\n"


def test_details_that_are_not_json_are_refused(log_path: Path) -> None:
    with pytest.raises(AuditLogError, match=r"cannot be written as JSON"):
        AuditLog(log_path).record("install", details={"when": object()})
    assert verify_log(log_path).entries == 0


def test_unwritable_location_is_an_audit_log_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(AuditLogError, match=r"cannot be written") as raised:
        AuditLog(blocker / "audit.jsonl").record("install")
    assert raised.value.hint is not None
    assert "ANYA_AUDIT_LOG" in raised.value.hint


def test_log_that_stays_locked_is_an_audit_log_error(log_path: Path) -> None:
    from filelock import FileLock

    log_path.parent.mkdir(parents=True)
    with (
        FileLock(log_path.with_name("audit.jsonl.lock")),
        pytest.raises(AuditLogError, match=r"kept the audit log locked"),
    ):
        AuditLog(log_path, lock_timeout=0.1).record("install")


APPENDER = """
import sys
from pathlib import Path
from anya_plugins.audit.log import AuditLog

log = AuditLog(Path(sys.argv[1]))
for number in range(int(sys.argv[3])):
    log.record("install", extension=f"writer-{sys.argv[2]}", version=f"{number}.0")
"""


def test_concurrent_appends_from_several_processes_keep_one_chain(log_path: Path) -> None:
    writers, each = 4, 15
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", APPENDER, str(log_path), str(writer), str(each)],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        for writer in range(writers)
    ]
    assert [process.wait(timeout=120) for process in processes] == [0] * writers
    report = verify_log(log_path)
    assert report.ok, report.problems
    entries = read_log(log_path)
    assert [entry.seq for entry in entries] == list(range(1, writers * each + 1))
    for writer in range(writers):
        versions = [e.version for e in entries if e.extension == f"writer-{writer}"]
        assert versions == [f"{number}.0" for number in range(each)]
