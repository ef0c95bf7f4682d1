"""Every ```python block of docs/howto.md, run in order in one namespace against the session
registry and the local Sigstore: the how-to cannot drift from the API."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from anya_plugins import RegistryClient, Signing
from anya_sigstore_local import LocalSigstore
from tests.api.conftest import INDEX, RELEASER
from tests.registry_fixtures import Registry
from tests.support import REPO, ExtensionBuilder, ExtensionSpec, VenvFactory

pytestmark = pytest.mark.slow  # installs into real venvs from the session registry

SHARED = "anya-ext-btc-shared"
HOWTO = REPO / "docs" / "howto.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
ADVISORY = {
    "schema_version": "1.6.0",
    "id": "GHSA-howto-0001",
    "summary": "btc-shared 1.x signs with a weak nonce",
    "modified": "2026-11-01T00:00:00Z",
    "affected": [
        {
            "package": {"ecosystem": "PyPI", "name": "anya-ext-btc-shared"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0.0"}]}],
        }
    ],
}


def _blocks() -> list[str]:
    return BLOCK.findall(HOWTO.read_text())


def test_the_howto_has_an_example_for_every_scenario() -> None:
    code = "\n".join(_blocks())
    for call in ("Installer(", "RegistryClient(", "Resolver(", "Verifier(", "VulnerabilityScanner(",
                 "PackageCache(", "Platform("):  # fmt: skip
        assert call in code


def test_every_howto_example_runs(
    registry: Registry,
    local_sigstore: LocalSigstore,
    build_extension: ExtensionBuilder,
    make_venv: VenvFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    specs = [
        ExtensionSpec("btc-wallet", category="core/bitcoin", version="1.0.0"),
        ExtensionSpec("btc-wallet", category="core/bitcoin", version="1.1.0"),
        ExtensionSpec("btc-shared", category="core/bitcoin", version="1.0.0"),
        ExtensionSpec("btc-shared", category="core/bitcoin", version="2.0.0"),
        ExtensionSpec("btc-left", category="core/bitcoin", dependencies=(f"{SHARED}<2",)),
        ExtensionSpec("btc-right", category="core/bitcoin", dependencies=(f"{SHARED}>=2",)),
    ]  # fmt: skip
    wheels = [build_extension(spec) for spec in specs]
    RegistryClient.publish(
        wheels,
        registry_url=registry.url,
        index=INDEX,
        credentials=registry.credentials("anya"),
        signing=Signing(
            identity_token=local_sigstore.issue_token(RELEASER),
            trust_config=local_sigstore.trust_config_path,
        ),
    )
    (tmp_path / "dist").mkdir()
    for path in (wheels[1], Path(f"{wheels[1]}.publish.attestation")):
        shutil.copy(path, tmp_path / "dist" / path.name)
    (tmp_path / ".venv").symlink_to(make_venv().path)
    advisories = tmp_path / "advisories"
    advisories.mkdir()
    (advisories / "GHSA-howto-0001.json").write_text(json.dumps(ADVISORY))
    config_file = tmp_path / "extensions.toml"
    config_file.write_text(
        f'[sources.primary]\nurl = "{registry.url}/{INDEX}/+simple/"\n\n'
        f'[sources.cache]\ndir = "{tmp_path / "cache"}"\n\n'
        f'[trust]\ntrusted_root = "{local_sigstore.trusted_root_path}"\n'
        "require_signatures = true\n\n"
        f'[[trust.publishers]]\nidentity = "{RELEASER}"\n'
        f'issuer = "{local_sigstore.issuer_url}"\nnames = ["anya-ext-btc-*"]\n\n'
        f'[audit]\nadvisories = "{advisories}"\nlog = "{tmp_path / "audit.jsonl"}"\n'
    )
    monkeypatch.setenv("ANYA_CONFIG", str(config_file))
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}

    for number, block in enumerate(_blocks(), start=1):
        exec(compile(block, f"{HOWTO}:block{number}", "exec"), namespace)

    printed = capsys.readouterr().out
    assert "anya-ext-btc-wallet 1.1.0 into" in printed and f"signed by {RELEASER}" in printed
    assert "('anya-ext-btc-wallet', '1.0.0', '1.1.0')" in printed
    assert "anya-ext-btc-shared" in printed  # the conflict's explanation
    assert "GHSA-howto-0001" in printed
    assert "status='emulated'" in printed and "Rosetta 2" in printed and "qemu-user" in printed
