"""Nothing reaches the environment unverified: signed publish, verified install, and every
refusal leaving the environment exactly as it was, with the reason said.

Signing and verification run end to end offline through sigstore-python against the local
Sigstore instance; publishing goes through ``anya-ext publish`` (twine with PEP 740
attestations, stored by the registry plugin) and installing through ``anya-ext install``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from anya_sigstore_local import LocalSigstore
from tests.registry_fixtures import PASSWORDS, PUBLISHER, Registry
from tests.support import ExtensionBuilder, ExtensionSpec, Venv, VenvFactory, signed_by

pytestmark = pytest.mark.slow

RELEASER = PUBLISHER
MALLORY = "mallory@evil.example"
INDEX = "anya/primary"
UNCHECKED = "community/experimental"
"""Where the files the client must refuse are published: anya/primary itself takes only
uploads its publisher signed (tests/registry/test_lockdown.py); this index checks no
signatures and serves anya/primary's releases too, through its bases."""

ADVISORY = {
    "schema_version": "1.6.0",
    "id": "GHSA-anya-vuln-0001",
    "aliases": ["PYSEC-2026-1"],
    "summary": "vulnlib leaks private keys",
    "modified": "2026-11-01T00:00:00Z",
    "published": "2026-11-01T00:00:00Z",
    "affected": [
        {
            "package": {"ecosystem": "PyPI", "name": "anya-ext-vulnlib"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.1.0"}]}],
        }
    ],
    "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
}


def _publish(
    registry: Registry,
    sigstore: LocalSigstore,
    wheel: Path,
    identity: str | None,
    index: str = INDEX,
) -> None:
    """``anya-ext publish`` of one wheel, signed by ``identity`` (None: unsigned)."""
    user = index.split("/", 1)[0]
    command = [sys.executable, "-m", "anya_plugins.cli.main", "publish", str(wheel),
               "--index", index, "--url", registry.url]  # fmt: skip
    if identity is None:
        command.append("--no-sign")
    else:
        command += ["--trust-config", str(sigstore.trust_config_path),
                    "--identity-token", sigstore.issue_token(identity)]  # fmt: skip
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(wheel.parent),
             "ANYA_PUBLISH_PASSWORD": PASSWORDS[user]},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def signed_index(
    registry: Registry,
    local_sigstore: LocalSigstore,
    untrusted_sigstore: LocalSigstore,
    build_extension: ExtensionBuilder,
) -> Registry:
    def core(name: str, **extra: object) -> Path:
        return build_extension(ExtensionSpec(name, category="core/web5", **extra))  # type: ignore[arg-type]

    def unchecked(name: str) -> Path:
        return build_extension(ExtensionSpec(name, category=UNCHECKED))

    _publish(registry, local_sigstore, core("trusted"), RELEASER)
    _publish(registry, local_sigstore, unchecked("impostor"), MALLORY, index=UNCHECKED)
    _publish(registry, local_sigstore, unchecked("unsigned"), None, index=UNCHECKED)
    _publish(registry, untrusted_sigstore, unchecked("forged"), RELEASER, index=UNCHECKED)
    _publish(registry, local_sigstore, core("vulnlib", version="1.0.0"), RELEASER)
    _publish(registry, local_sigstore, core("vulnlib", version="1.1.0"), RELEASER)
    _publish(
        registry, local_sigstore, core("needs-vulnlib", dependencies=("anya-ext-vulnlib<1.1",)),
        RELEASER,
    )  # fmt: skip
    return registry


@pytest.fixture
def venv(
    signed_index: Registry, local_sigstore: LocalSigstore, make_venv: VenvFactory, tmp_path: Path
) -> Venv:
    venv = make_venv()
    advisories = tmp_path / "advisories"
    advisories.mkdir()
    (advisories / "GHSA-anya-vuln-0001.json").write_text(json.dumps(ADVISORY))
    venv.config_file.parent.mkdir(parents=True, exist_ok=True)
    venv.config_file.write_text(
        signed_by(local_sigstore, RELEASER) + "\n"
        "[audit]\n"
        f'advisories = "{advisories}"\n'
        'max_severity = "high"\n'
    )
    venv.extra_env.update(
        ANYA_SOURCES__PRIMARY__URL=f"{signed_index.url}/{UNCHECKED}/+simple/",
        ANYA_CACHE_DIR=str(tmp_path / "cache"),
    )
    return venv


def _freeze(venv: Venv) -> dict[str, str]:
    done = venv.python_code(
        "import json, importlib.metadata as m;"
        "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))"
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def _log_entries(venv: Venv) -> list[dict[str, object]]:
    log = venv.home / "data" / "audit.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()]


def _refused(venv: Venv, *args: str) -> str:
    """Install must fail, change nothing, and say why (the returned stderr)."""
    before = _freeze(venv)
    done = venv.anya_ext("install", *args)
    assert done.returncode != 0, done.stdout
    assert _freeze(venv) == before
    return done.stderr


def test_signed_by_an_allowed_publisher_installs_and_is_recorded(venv: Venv) -> None:
    done = venv.anya_ext("install", "trusted")
    assert done.returncode == 0, done.stderr
    assert _freeze(venv)["anya-ext-trusted"] == "0.1.0"
    (entry,) = [e for e in _log_entries(venv) if e["action"] == "install"]
    assert entry["extension"] == "anya-ext-trusted"
    trust = entry["details"]["trust"]  # type: ignore[index]
    assert trust["signatures"][0]["identity"] == RELEASER
    verified = venv.anya_json("verify", "trusted")
    assert verified[0]["ok"] is True
    assert RELEASER in verified[0]["signature"]


def test_a_reinstall_takes_the_provenance_that_verified_the_file_from_its_verdict(
    venv: Venv,
) -> None:
    """The provenance a file was verified with is kept with its verdict: installing that file
    again asks the index only for its page, and the receipt and ``verify`` still have it."""
    assert venv.anya_ext("install", "trusted").returncode == 0
    assert venv.anya_ext("uninstall", "trusted").returncode == 0

    again = venv.anya_ext("-v", "install", "trusted")

    assert again.returncode == 0, again.stderr
    assert "provenance as verified before (not fetched again)" in again.stderr
    assert "/+provenance/" not in again.stderr
    verified = venv.anya_json("verify", "trusted")
    assert verified[0]["ok"] is True
    assert RELEASER in verified[0]["signature"]

    # kept under another user's key, it is not taken: the index is asked again
    (venv.home / "data" / "verdict-key").write_text("00" * 32)
    assert venv.anya_ext("uninstall", "trusted").returncode == 0
    fetched = venv.anya_ext("-v", "install", "trusted")
    assert fetched.returncode == 0, fetched.stderr
    assert "/+provenance/anya_ext_trusted-0.1.0-py3-none-any.whl" in fetched.stderr
    assert "as verified before" not in fetched.stderr


def test_signer_outside_the_policy_is_refused_naming_both_identities(venv: Venv) -> None:
    stderr = _refused(venv, "impostor")
    assert MALLORY in stderr
    assert RELEASER in stderr
    (entry,) = [e for e in _log_entries(venv) if e["result"] == "refused"]
    assert entry["extension"] == "impostor"


def test_missing_signature_is_refused_when_signatures_are_required(venv: Venv) -> None:
    stderr = _refused(venv, "unsigned")
    assert "no signature" in stderr
    assert "anya_ext_unsigned-0.1.0-py3-none-any.whl" in stderr


def test_allow_unsigned_is_refused_where_the_policy_forbids_it(venv: Venv) -> None:
    stderr = _refused(venv, "unsigned", "--allow-unsigned")
    assert "does not permit --allow-unsigned" in stderr


def test_certificate_from_an_untrusted_authority_is_refused(venv: Venv) -> None:
    stderr = _refused(venv, "forged")
    assert "anya_ext_forged-0.1.0-py3-none-any.whl" in stderr
    assert "trusted Sigstore instance" in stderr


def test_known_vulnerable_dependency_is_refused_then_allowed_once(venv: Venv) -> None:
    stderr = _refused(venv, "needs-vulnlib")
    assert "GHSA-anya-vuln-0001" in stderr
    assert "anya-ext-vulnlib" in stderr
    done = venv.anya_ext("install", "needs-vulnlib", "--allow", "GHSA-anya-vuln-0001")
    assert done.returncode == 0, done.stderr
    assert _freeze(venv)["anya-ext-vulnlib"] == "1.0.0"
    audit = venv.anya_ext("--json", "audit")
    assert audit.returncode == 1
    assert json.loads(audit.stdout)["refused"]


def test_sbom_lists_the_installed_extensions(venv: Venv) -> None:
    assert venv.anya_ext("install", "trusted").returncode == 0
    sbom = json.loads(venv.anya_ext("sbom").stdout)
    assert sbom["bomFormat"] == "CycloneDX"
    assert "pkg:pypi/anya-ext-trusted@0.1.0" in {c["purl"] for c in sbom["components"]}


def test_installed_file_modified_after_install_is_reported(venv: Venv) -> None:
    assert venv.anya_ext("install", "trusted").returncode == 0
    plugin = venv.site_packages / "anya_ext_trusted" / "plugin.py"
    plugin.write_text(plugin.read_text() + "\nSTOLEN = True\n")
    done = venv.anya_ext("--json", "verify", "trusted")
    assert done.returncode == 1
    (check,) = json.loads(done.stdout)
    assert check["files_intact"] is False
    assert "anya_ext_trusted/plugin.py" in " ".join(check["findings"])


def test_edited_audit_log_is_detected_with_its_line(venv: Venv) -> None:
    assert venv.anya_ext("install", "trusted").returncode == 0
    assert venv.anya_ext("config", "set", "trusted.greeting", "gm").returncode == 0
    assert venv.anya_ext("audit-log", "verify").returncode == 0
    log = venv.home / "data" / "audit.jsonl"
    lines = log.read_text().splitlines()
    lines[0] = lines[0].replace("anya-ext-trusted", "anya-ext-innocent")
    log.write_text("\n".join(lines) + "\n")
    done = venv.anya_ext("audit-log", "verify")
    assert done.returncode == 1
    assert f"{log}:1: edited" in done.stderr
