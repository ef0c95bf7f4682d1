"""Publisher pins (trust on first use): the first verified install pins its signer; an update
signed by someone else is refused (or warned about) even when the policy's glob allows them;
``trust repin`` changes a pin on purpose, in the audit log; lock files carry the signer.

Real devpi, real venvs, real signatures from the local Sigstore instance. The policy allows
every ``*@anya.example`` identity, so only the pin tells Alice's releases from Bob's. Both
publish to community/experimental: the registry's signed indexes take neither (their publisher
is the session's releaser), so the pin is what guards an index that checks no signer.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anya_sigstore_local import LocalSigstore
from tests.install.test_signed_install import UNCHECKED, _freeze, _log_entries, _publish
from tests.registry_fixtures import Registry
from tests.support import ExtensionBuilder, ExtensionSpec, Venv, VenvFactory, signed_by

pytestmark = pytest.mark.slow

ALICE = "alice@anya.example"
BOB = "bob@anya.example"
NAME = "anya-ext-pinned-a"


@pytest.fixture(scope="module")
def pinned_index(
    registry: Registry, local_sigstore: LocalSigstore, build_extension: ExtensionBuilder
) -> Registry:
    """``pinned-a`` 1.0.0 signed by Alice, 2.0.0 signed by Bob."""
    for version, signer in (("1.0.0", ALICE), ("2.0.0", BOB)):
        wheel = build_extension(ExtensionSpec("pinned-a", category=UNCHECKED, version=version))
        _publish(registry, local_sigstore, wheel, signer, index=UNCHECKED)
    return registry


@pytest.fixture
def venv(
    pinned_index: Registry, local_sigstore: LocalSigstore, make_venv: VenvFactory, tmp_path: Path
) -> Venv:
    venv = make_venv()
    venv.config_file.parent.mkdir(parents=True, exist_ok=True)
    venv.config_file.write_text(signed_by(local_sigstore, "*@anya.example", "anya-ext-pinned-*"))
    venv.extra_env.update(
        ANYA_SOURCES__PRIMARY__URL=f"{pinned_index.url}/{UNCHECKED}/+simple/",
        ANYA_CACHE_DIR=str(tmp_path / "cache"),
    )
    assert venv.anya_ext("install", "pinned-a@1.0.0").returncode == 0
    return venv


def _pins(venv: Venv) -> dict[str, tuple[str, str]]:
    listing = venv.anya_json("trust", "pins")
    return {pin["name"]: (pin["identity"], pin["issuer"]) for pin in listing["pins"]}


def test_first_verified_install_pins_signer_and_issuer(
    venv: Venv, local_sigstore: LocalSigstore
) -> None:
    assert _pins(venv) == {NAME: (ALICE, local_sigstore.issuer_url)}
    receipt = json.loads((venv.path / ".anya-receipts" / f"{NAME}.json").read_text())
    assert (receipt["signer"], receipt["issuer"]) == (ALICE, local_sigstore.issuer_url)
    table = venv.anya_ext("trust", "pins", COLUMNS="250")
    assert NAME in table.stdout
    assert ALICE in table.stdout


def test_update_signed_by_another_allowed_identity_is_refused_naming_both(venv: Venv) -> None:
    done = venv.anya_ext("update", "pinned-a")
    assert done.returncode == 13, done.stdout + done.stderr
    assert ALICE in done.stderr
    assert BOB in done.stderr
    assert "publisher changed" in done.stderr
    assert _freeze(venv)[NAME] == "1.0.0"
    refused = [e for e in _log_entries(venv) if e["result"] == "refused"]
    assert refused[-1]["details"]["error"] == "PublisherChanged"  # type: ignore[index]


def test_warn_policy_installs_the_update_with_a_warning_and_keeps_the_pin(
    venv: Venv, local_sigstore: LocalSigstore
) -> None:
    done = venv.anya_ext("--config", "trust.on_publisher_change=warn", "update", "pinned-a")
    assert done.returncode == 0, done.stderr
    assert "publisher changed" in done.stdout
    assert ALICE in done.stdout
    assert BOB in done.stdout
    assert _freeze(venv)[NAME] == "2.0.0"
    assert _pins(venv) == {NAME: (ALICE, local_sigstore.issuer_url)}


def test_repin_lets_the_update_in_and_is_in_the_audit_log(
    venv: Venv, local_sigstore: LocalSigstore
) -> None:
    done = venv.anya_ext("trust", "repin", "pinned-a", "--identity", BOB)
    assert done.returncode == 0, done.stderr
    assert _pins(venv) == {NAME: (BOB, local_sigstore.issuer_url)}
    (repin,) = [e for e in _log_entries(venv) if e["action"] == "trust-repin"]
    assert repin["extension"] == NAME
    assert repin["details"]["from"]["identity"] == ALICE  # type: ignore[index]
    assert repin["details"]["to"]["identity"] == BOB  # type: ignore[index]
    updated = venv.anya_ext("update", "pinned-a")
    assert updated.returncode == 0, updated.stderr
    assert _freeze(venv)[NAME] == "2.0.0"


def test_pin_outlives_an_uninstall(venv: Venv) -> None:
    assert venv.anya_ext("uninstall", "pinned-a").returncode == 0
    done = venv.anya_ext("install", "pinned-a")
    assert done.returncode == 13, done.stdout + done.stderr
    assert BOB in done.stderr
    assert NAME not in _freeze(venv)


def test_lock_carries_the_issuer_and_sync_refuses_another(
    venv: Venv, local_sigstore: LocalSigstore
) -> None:
    lock = venv.home / "anya.lock"
    assert venv.anya_ext("lock", str(lock), "--allow-unlocked").returncode == 0
    document = json.loads(lock.read_text())
    (entry,) = [p for p in document["packages"] if p["name"] == NAME]
    assert (entry["signer"], entry["issuer"]) == (ALICE, local_sigstore.issuer_url)
    entry["issuer"] = "https://issuer.elsewhere.example"
    lock.write_text(json.dumps(document))
    assert venv.anya_ext("uninstall", "pinned-a").returncode == 0
    done = venv.anya_ext("sync", str(lock))
    assert done.returncode == 13, done.stdout + done.stderr
    assert "https://issuer.elsewhere.example" in done.stderr
    assert NAME not in _freeze(venv)


def test_audit_log_cut_from_the_end_is_reported_without_an_expected_head(venv: Venv) -> None:
    intact = venv.anya_ext("audit-log", "verify")
    assert intact.returncode == 0, intact.stderr
    assert "chain intact" in intact.stdout
    assert "agrees with 2 anchor(s)" in intact.stdout
    log = venv.home / "data" / "audit.jsonl"
    log.write_bytes(b"".join(log.read_bytes().splitlines(keepends=True)[:-1]))
    cut = venv.anya_ext("audit-log", "verify")
    assert cut.returncode == 1
    assert "missing from the end" in cut.stderr


def test_verify_reports_an_installed_file_whose_signer_is_not_the_pinned_one(
    venv: Venv, local_sigstore: LocalSigstore
) -> None:
    assert venv.anya_ext("verify", "pinned-a").returncode == 0
    updated = venv.anya_ext("--config", "trust.on_publisher_change=warn", "update", "pinned-a")
    assert updated.returncode == 0, updated.stderr

    done = venv.anya_ext("--json", "verify", "pinned-a")

    assert done.returncode == 1, done.stdout + done.stderr
    (check,) = json.loads(done.stdout)
    assert check["files_intact"] is True
    assert check["ok"] is False
    assert check["signature"].startswith(
        f"anya_ext_pinned_a-2.0.0-py3-none-any.whl: {NAME} is pinned to {ALICE} (issuer "
        f"{local_sigstore.issuer_url}), but this file is signed by {BOB} (issuer "
        f"{local_sigstore.issuer_url}): the publisher changed"
    )
    assert venv.anya_ext("trust", "repin", "pinned-a", "--identity", BOB).returncode == 0
    assert venv.anya_ext("verify", "pinned-a").returncode == 0
