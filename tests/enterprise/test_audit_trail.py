"""The server's audit trail: uploads, downloads, failed sign-ins, refusals and configuration
changes recorded (who, what, when, from where) in one hash chain, read only by its readers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from anya_plugins.audit.log import LogEntry, read_log
from anya_plugins.registry.audit_trail import verify_trail
from anya_plugins.registry.devpi import Credentials
from anya_plugins.registry.trail_client import download_trail
from tests.enterprise.compliance_fixtures import (
    INDEX,
    PASSWORDS,
    TrailRegistry,
    make_wheel,
    trail_registry,
)

__all__ = ["trail_registry"]

WRONG_PASSWORD = "not-the-password-41"


@dataclass(frozen=True)
class Activity:
    registry: TrailRegistry
    started: datetime
    wheel: str


@pytest.fixture(scope="module")
def activity(trail_registry: TrailRegistry, tmp_path_factory: pytest.TempPathFactory) -> Activity:
    """One of each: an upload, a refused upload, a download, a failed sign-in, an index change."""
    started = datetime.now(UTC)
    wheels = tmp_path_factory.mktemp("trail-wheels")
    accepted = trail_registry.upload(make_wheel(wheels, "trailpkg", "1.0"), "dev")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    refused = trail_registry.upload(make_wheel(wheels, "trailpkg", "1.1"), "outsider")
    assert refused.returncode != 0
    assert trail_registry.download("trailpkg-1.0-py3-none-any.whl") == 200
    assert not trail_registry.client().check_password(Credentials("dev", WRONG_PASSWORD))
    trail_registry.client("root").modify_index(INDEX, {"acl_upload": ["dev", "auditor"]})
    return Activity(trail_registry, started, "trailpkg-1.0-py3-none-any.whl")


def entries(activity: Activity, action: str) -> list[LogEntry]:
    return [
        entry
        for entry in read_log(activity.registry.trail)
        if entry.action == action and datetime.fromisoformat(entry.time) >= activity.started
    ]


def test_an_upload_is_recorded_with_who_what_when_and_from_where(activity: Activity) -> None:
    (upload,) = [e for e in entries(activity, "upload") if e.result == "ok"]

    assert (upload.user, upload.host) == ("dev", "127.0.0.1")
    assert (upload.source, upload.extension, upload.version) == (INDEX, "trailpkg", "1.0")
    assert upload.details["filename"] == activity.wheel
    assert upload.details["status"] == 200
    assert datetime.fromisoformat(upload.time) - activity.started < timedelta(minutes=5)


def test_an_upload_without_permission_is_a_permission_refusal(activity: Activity) -> None:
    refusals = [e for e in entries(activity, "permission-refused") if e.user == "outsider"]

    assert [(e.result, e.details["status"], e.details["method"]) for e in refusals] == [
        ("refused", 403, "POST")
    ]
    assert (refusals[0].extension, refusals[0].version) == ("trailpkg", "1.1")


def test_a_download_is_recorded_for_an_anonymous_client(activity: Activity) -> None:
    (download,) = entries(activity, "download")

    assert (download.user, download.host, download.source) == ("anonymous", "127.0.0.1", INDEX)
    assert (download.extension, download.version) == ("trailpkg", "1.0")
    assert download.details["filename"] == activity.wheel


def test_a_failed_sign_in_names_the_user_tried_and_never_the_password(
    activity: Activity,
) -> None:
    (failure,) = entries(activity, "sign-in-failure")

    assert failure.details["attempted_user"] == "dev"
    assert (failure.user, failure.result, failure.details["status"]) == (
        "anonymous",
        "refused",
        401,
    )
    trail = activity.registry.trail.read_text()
    for secret in (WRONG_PASSWORD, *PASSWORDS.values()):
        assert secret not in trail


def test_an_index_change_is_recorded_with_what_it_set(activity: Activity) -> None:
    changes = [e for e in entries(activity, "config-change") if e.source == INDEX]

    assert [(c.user, c.details["method"], c.details["values"]) for c in changes] == [
        ("root", "PATCH", {"acl_upload": ["dev", "auditor"]})
    ]


def test_the_trail_is_one_intact_hash_chain(activity: Activity) -> None:
    report = verify_trail(activity.registry.trail)

    assert report.ok, report.problems
    assert report.entries == len(read_log(activity.registry.trail)) >= 6


def test_a_reader_downloads_the_trail_others_are_refused(activity: Activity) -> None:
    registry = activity.registry

    export = download_trail(registry.url, registry.credentials("auditor"), since=activity.started)

    actions = [json.loads(line)["action"] for line in export.lines.splitlines()]
    assert {"upload", "download", "sign-in-failure", "permission-refused"} <= set(actions)
    assert not export.complete
    assert status_of(f"{registry.url}/+audit-trail") == 401
    outsider = registry.client("outsider")
    with pytest.raises(Exception, match="403"):
        outsider.fetch("/+audit-trail")
    refused = [
        e for e in entries(activity, "permission-refused") if e.details["path"] == "/+audit-trail"
    ]
    assert {e.user for e in refused} >= {"anonymous", "outsider"}


def test_the_cli_exports_the_trail_and_names_an_edited_line(
    activity: Activity, tmp_path: Path
) -> None:
    registry = activity.registry
    exported = tmp_path / "trail.jsonl"
    env = {
        **os.environ,
        "ANYA_REGISTRY_URL": registry.url,
        "ANYA_REGISTRY_USER": "auditor",
        "ANYA_REGISTRY_PASSWORD": PASSWORDS["auditor"],
    }

    done = anya_ext(env, "registry", "audit-log", "export", "-o", str(exported))
    assert done.returncode == 0, done.stderr
    verified = anya_ext(env, "--json", "registry", "audit-log", "verify", str(exported))
    assert verified.returncode == 0, verified.stderr
    assert json.loads(verified.stdout)["problems"] == []
    remote = anya_ext(env, "registry", "audit-log", "verify")
    assert remote.returncode == 0, remote.stderr
    assert "chain intact" in remote.stdout

    lines = exported.read_bytes().splitlines(keepends=True)
    number = next(n for n, line in enumerate(lines) if b'"action":"upload"' in line)
    lines[number] = lines[number].replace(b'"user":"dev"', b'"user":"mallory"')
    exported.write_bytes(b"".join(lines))
    tampered = anya_ext(env, "registry", "audit-log", "verify", str(exported))
    assert tampered.returncode == 1
    assert f"{exported}:{number + 1}: edited" in tampered.stderr


def anya_ext(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "anya_plugins.cli.main", *args],
        capture_output=True, text=True, check=False, env=env,
    )  # fmt: skip


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_an_index_change_keeps_no_credential_of_a_mirror_url(activity: Activity) -> None:
    registry = activity.registry
    secret_url = "https://mirror-user:mirror-secret-9@pypi.acme.example/simple/"

    registry.client("root").create_index(
        "dev/upstream", {"type": "mirror", "mirror_url": secret_url}
    )

    (created,) = [e for e in entries(activity, "config-change") if e.source == "dev/upstream"]
    assert created.details["values"]["mirror_url"] == (
        "https://mirror-user:****@pypi.acme.example/simple/"
    )
    assert "mirror-secret-9" not in registry.trail.read_text()
