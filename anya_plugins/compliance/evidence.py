"""The evidence of one period, by kind, from the artifacts a site keeps: the registry's audit
trail, the clients' audit logs and CycloneDX SBOMs (with their vulnerabilities, as ``anya-ext
sbom`` writes them). Each kind is present or missing; a missing kind says why (a gap)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from anya_plugins.audit.errors import AuditLogError
from anya_plugins.audit.log import LogEntry, read_log, verify_log
from anya_plugins.compliance.period import Period

EVIDENCE_KINDS: Final[dict[str, str]] = {
    "server-trail": "Registry audit trail, hash chain intact",
    "client-audit-log": "Client audit logs, hash chains intact",
    "access-refusals": "Refused requests recorded (401/403)",
    "sign-in-failures": "Failed sign-ins recorded",
    "configuration-changes": "Configuration changes recorded",
    "published-signed": "Published releases carry signatures (PEP 740 attestations)",
    "installed-verified": "Installed extensions verified against their signatures",
    "sbom": "Software bill of materials (CycloneDX)",
    "vulnerability-status": "No known vulnerabilities in the SBOMs",
    "advisory-updates": "Advisory database updated in the period",
}
_SHOWN: Final = 50
"""Records listed per kind; the count covers them all."""


@dataclass(frozen=True)
class EvidenceSources:
    """Where the evidence comes from (each optional; what is not given is a gap)."""

    server_trail: Path | None = None
    client_logs: tuple[Path, ...] = ()
    sboms: tuple[Path, ...] = ()


@dataclass(frozen=True)
class Evidence:
    kind: str
    title: str
    present: bool
    summary: str
    count: int = 0
    records: tuple[str, ...] = ()
    """What supports it, one line each (when, who, from where, what), at most 50."""
    gaps: tuple[str, ...] = ()
    """Why it is missing or incomplete."""


@dataclass(frozen=True)
class _Log:
    """One audit log's entries of the period, or why it cannot be used."""

    path: Path
    entries: tuple[LogEntry, ...] = ()
    problem: str | None = None
    head: str = ""
    """``path: N entries, head #SEQ HASH``: what an auditor notes to detect a later cut."""

    @property
    def usable(self) -> bool:
        return self.problem is None


@dataclass(frozen=True)
class _Material:
    period: Period
    trail: _Log | None
    clients: tuple[_Log, ...]
    sboms: tuple[dict[str, Any], ...]
    sbom_problems: tuple[str, ...] = field(default=())


def gather_evidence(sources: EvidenceSources, period: Period) -> tuple[Evidence, ...]:
    """Every kind of :data:`EVIDENCE_KINDS` for ``period``, in that order."""
    sboms, sbom_problems = _read_sboms(sources.sboms)
    material = _Material(
        period,
        _read_log(sources.server_trail, period) if sources.server_trail else None,
        tuple(_read_log(path, period) for path in sources.client_logs),
        sboms,
        sbom_problems,
    )
    return tuple(_GATHERERS[kind](material) for kind in EVIDENCE_KINDS)


def _read_log(path: Path, period: Period) -> _Log:
    if not path.is_file():
        return _Log(path, problem=f"{path} is not a file")
    report = verify_log(path)
    if not report.ok:
        first = report.problems[0]
        return _Log(path, problem=f"{path}: chain broken at line {first.line}: {first.kind}")
    try:
        entries = read_log(path)
    except AuditLogError as error:
        return _Log(path, problem=error.message)
    head = f"{path}: {report.entries} entries, head #{report.head_seq} {report.head}"
    return _Log(path, tuple(entry for entry in entries if period.holds(entry.time)), head=head)


def _read_sboms(paths: Sequence[Path]) -> tuple[tuple[dict[str, Any], ...], tuple[str, ...]]:
    documents, problems = [], []
    for path in paths:
        try:
            document = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError) as error:
            problems.append(f"{path}: not a readable SBOM ({error})")
            continue
        if not isinstance(document, dict) or document.get("bomFormat") != "CycloneDX":
            problems.append(f"{path}: not a CycloneDX SBOM")
            continue
        documents.append({**document, "_path": str(path)})
    return tuple(documents), tuple(problems)


def _line(entry: LogEntry) -> str:
    what = (
        " ".join(
            str(part)
            for part in (
                entry.source,
                entry.extension,
                entry.version,
                entry.details.get("filename"),
            )
            if part
        )
        or " ".join(str(entry.details.get(key, "")) for key in ("method", "path", "key")).strip()
    )
    tried = entry.details.get("attempted_user")
    what += f" (as {tried})" if tried else ""
    status = entry.details.get("status")
    outcome = f"{entry.result}" + (f" ({status})" if status else "")
    return f"{entry.time} {entry.user}@{entry.host} {entry.action} {what} -> {outcome}".strip()


def _evidence(
    kind: str, entries: Sequence[LogEntry], summary: str, gaps: Sequence[str] = ()
) -> Evidence:
    return Evidence(
        kind,
        EVIDENCE_KINDS[kind],
        present=not gaps,
        summary=summary,
        count=len(entries),
        records=tuple(_line(entry) for entry in entries[:_SHOWN]),
        gaps=tuple(gaps),
    )


def _trail_gaps(material: _Material) -> list[str]:
    trail = material.trail
    if trail is None:
        return ["no registry audit trail was given"]
    if not trail.usable:
        return [str(trail.problem)]
    if not trail.entries:
        return [f"the registry audit trail has no entry in {material.period.label}"]
    return []


def _trail_entries(material: _Material, *actions: str) -> list[LogEntry]:
    if material.trail is None:
        return []
    return [entry for entry in material.trail.entries if entry.action in actions]


def _client_gaps(material: _Material) -> list[str]:
    if not material.clients:
        return ["no client audit log was given"]
    gaps = [str(log.problem) for log in material.clients if not log.usable]
    if not any(log.entries for log in material.clients):
        gaps.append(f"no client audit log has an entry in {material.period.label}")
    return gaps


def _client_entries(material: _Material, *actions: str) -> list[LogEntry]:
    return [entry for log in material.clients for entry in log.entries if entry.action in actions]


def _server_trail(material: _Material) -> Evidence:
    entries = material.trail.entries if material.trail else ()
    heads = (material.trail.head,) if material.trail and material.trail.usable else ()
    return replace(
        _evidence(
            "server-trail",
            [],
            f"{len(entries)} entries in {material.period.label}, chain verified",
            _trail_gaps(material),
        ),
        records=heads,
    )


def _client_audit_log(material: _Material) -> Evidence:
    count = sum(len(log.entries) for log in material.clients)
    return replace(
        _evidence(
            "client-audit-log",
            [],
            f"{len(material.clients)} log(s), {count} entries in {material.period.label}, "
            "chains verified",
            _client_gaps(material),
        ),
        records=tuple(log.head for log in material.clients if log.usable),
    )


def _from_trail(kind: str, *actions: str) -> Callable[[_Material], Evidence]:
    def gather(material: _Material) -> Evidence:
        entries = _trail_entries(material, *actions)
        return _evidence(kind, entries, f"{len(entries)} recorded", _trail_gaps(material))

    return gather


def _configuration_changes(material: _Material) -> Evidence:
    entries = [
        *_trail_entries(material, "config-change"),
        *_client_entries(material, "config-change"),
    ]
    return _evidence(
        "configuration-changes",
        entries,
        f"{len(entries)} changes recorded (registry and clients)",
        _trail_gaps(material),
    )


def _published_signed(material: _Material) -> Evidence:
    uploads = [e for e in _trail_entries(material, "upload") if e.result == "ok"]
    unsigned = [e for e in uploads if not e.details.get("attested")]
    gaps = _trail_gaps(material) + [f"published without a signature: {_line(e)}" for e in unsigned]
    return _evidence(
        "published-signed",
        uploads,
        f"{len(uploads) - len(unsigned)} of {len(uploads)} releases published with attestations",
        gaps,
    )


def _installed_verified(material: _Material) -> Evidence:
    installs = [e for e in _client_entries(material, "install", "update") if e.result == "ok"]
    unverified = [e for e in installs if not _signatures(e)]
    gaps = _client_gaps(material) if not material.clients or not installs else []
    gaps += [
        str(log.problem) for log in material.clients if not log.usable and log.problem not in gaps
    ]
    gaps += [f"installed without a verified signature: {_line(e)}" for e in unverified]
    if material.clients and not installs:
        gaps.append(f"no extension was installed in {material.period.label}: nothing verified")
    return _evidence(
        "installed-verified",
        installs,
        f"{len(installs) - len(unverified)} of {len(installs)} installs verified by signature",
        list(dict.fromkeys(gaps)),
    )


def _signatures(entry: LogEntry) -> list[Any]:
    trust = entry.details.get("trust")
    signatures = trust.get("signatures") if isinstance(trust, dict) else None
    return signatures if isinstance(signatures, list) else []


def _sbom(material: _Material) -> Evidence:
    components = sum(len(document.get("components", [])) for document in material.sboms)
    gaps = list(material.sbom_problems)
    if not material.sboms:
        gaps.append("no SBOM was given (anya-ext sbom -o FILE)")
    return Evidence(
        "sbom",
        EVIDENCE_KINDS["sbom"],
        present=not gaps,
        summary=f"{len(material.sboms)} SBOM(s), {components} components",
        count=components,
        records=tuple(str(document["_path"]) for document in material.sboms),
        gaps=tuple(gaps),
    )


def _vulnerability_status(material: _Material) -> Evidence:
    found = [
        f"{vulnerability.get('id', '?')} in {affected.get('ref', '?')} ({document['_path']})"
        for document in material.sboms
        for vulnerability in document.get("vulnerabilities", [])
        for affected in vulnerability.get("affects", [{}])
    ]
    gaps = [f"known vulnerability: {line}" for line in found]
    if not material.sboms:
        gaps.append("no SBOM with vulnerability data was given")
    return Evidence(
        "vulnerability-status",
        EVIDENCE_KINDS["vulnerability-status"],
        present=not gaps,
        summary=f"{len(found)} known vulnerabilities",
        count=len(found),
        gaps=tuple(gaps),
    )


def _advisory_updates(material: _Material) -> Evidence:
    updates = _client_entries(material, "advisories-update")
    gaps = [] if updates else [f"the advisory database was not updated in {material.period.label}"]
    return _evidence("advisory-updates", updates, f"{len(updates)} updates", gaps)


_GATHERERS: Final[dict[str, Callable[[_Material], Evidence]]] = {
    "server-trail": _server_trail,
    "client-audit-log": _client_audit_log,
    "access-refusals": _from_trail("access-refusals", "permission-refused"),
    "sign-in-failures": _from_trail("sign-in-failures", "sign-in-failure"),
    "configuration-changes": _configuration_changes,
    "published-signed": _published_signed,
    "installed-verified": _installed_verified,
    "sbom": _sbom,
    "vulnerability-status": _vulnerability_status,
    "advisory-updates": _advisory_updates,
}
