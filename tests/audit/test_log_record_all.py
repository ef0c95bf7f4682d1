"""Several entries appended at once (one install of many distributions): one chain, in
order, the anchors at the last entry, and a cut found as with entries appended one by one."""

from __future__ import annotations

from pathlib import Path

from anya_plugins.audit.log import AuditLog, read_log, verify_log


def installs(count: int) -> list[dict[str, object]]:
    return [
        {"action": "install", "extension": f"dep-{n}", "version": "1.0.0", "source": "primary"}
        for n in range(count)
    ]


def test_entries_appended_together_chain_like_entries_appended_one_by_one(
    tmp_path: Path,
) -> None:
    log_path = tmp_path / "audit.jsonl"
    anchors = [tmp_path / "user" / "audit-heads.json", tmp_path / "env" / "audit-head.json"]
    log = AuditLog(log_path, anchors=anchors)
    log.record("install", extension="anya-ext-demo", version="1.0.0")

    written = log.record_all(installs(3))
    log.record("uninstall", extension="dep-0", version="1.0.0")

    entries = read_log(log_path)
    assert [entry.seq for entry in entries] == [1, 2, 3, 4, 5]
    assert entries[1:4] == tuple(written)
    assert [entry.extension for entry in written] == ["dep-0", "dep-1", "dep-2"]
    report = verify_log(log_path, anchors=anchors)
    assert report.ok and report.anchored == tuple(str(anchor) for anchor in anchors)


def test_entries_appended_together_and_then_cut_show_against_the_anchor(
    tmp_path: Path,
) -> None:
    log_path = tmp_path / "audit.jsonl"
    anchor = tmp_path / "user" / "audit-heads.json"
    AuditLog(log_path, anchors=[anchor]).record_all(installs(4))
    lines = log_path.read_bytes().splitlines(keepends=True)
    log_path.write_bytes(b"".join(lines[:2]))  # the last two entries removed

    report = verify_log(log_path, anchors=[anchor])

    assert not report.ok
    assert [(problem.line, problem.kind) for problem in report.problems] == [(3, "removed")]


def test_nothing_to_append_writes_nothing(tmp_path: Path) -> None:
    log_path = tmp_path / "audit.jsonl"

    assert AuditLog(log_path).record_all([]) == []
    assert not log_path.exists()
