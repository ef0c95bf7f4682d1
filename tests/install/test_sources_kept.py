"""Every installed extension keeps the source it came from: ``update`` and ``outdated`` ask
that source, and nothing replaces it from another one — a private (enterprise) extension
never, a public one only with ``--switch-source``.

The registry holds ``keep-core`` on the primary index, ``keep-vault`` on ACME's private
index and a public ``keep-vault`` 9.0.0 on community/verified (the private index's base).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.registry_fixtures import Registry, Upload
from tests.support import (
    ExtensionBuilder,
    ExtensionSpec,
    Venv,
    VenvFactory,
    installing_unsigned_from,
)

pytestmark = pytest.mark.slow

ACME = ("--source", "enterprise", "--org", "acme")


@pytest.fixture(scope="module")
def published(registry: Registry, upload: Upload, build_extension: ExtensionBuilder) -> Registry:
    uploads = [
        *(
            ("anya/primary", "anya", ExtensionSpec("keep-core", "core/bitcoin", version=v))
            for v in ("1.0.0", "1.1.0")
        ),
        *(
            ("acme/private", "acme", ExtensionSpec("keep-vault", "enterprise/custody", version=v))
            for v in ("1.0.0", "1.1.0")
        ),
        # The same name in public, newer: what dependency confusion would install.
        ("community/verified", "community",
         ExtensionSpec("keep-vault", "community/verified", version="9.0.0")),
    ]  # fmt: skip
    for index, user, spec in uploads:
        done = upload(index, build_extension(spec), user=user)
        assert done.returncode == 0, done.stdout + done.stderr
    return registry


@pytest.fixture
def venv(published: Registry, make_venv: VenvFactory, tmp_path: Path) -> Venv:
    return installing_unsigned_from(
        make_venv(),
        published,
        tmp_path / "cache",
        ANYA_SOURCES__COMMUNITY__URL=f"{published.url}/community/verified/+simple/",
        ANYA_SOURCES__ENTERPRISE__ACME__URL=published.simple_url("acme/private", "acme"),
    )


def _versions(venv: Venv) -> dict[str, str]:
    done = venv.python_code(
        "import json, importlib.metadata as m;"
        "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))"
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def _receipt_source(venv: Venv, name: str) -> str:
    receipt = json.loads((venv.path / ".anya-receipts" / f"{name}.json").read_text())
    return str(receipt["source"])


def _install(venv: Venv, *args: str) -> None:
    done = venv.anya_ext("install", *args)
    assert done.returncode == 0, done.stderr


def test_update_all_takes_each_extension_from_the_source_it_came_from(venv: Venv) -> None:
    _install(venv, "keep-core@1.0.0")
    _install(venv, "keep-vault@1.0.0", *ACME)

    assert venv.anya_json("outdated") == [
        {"name": "anya-ext-keep-core", "installed": "1.0.0", "latest": "1.1.0",
         "source": "primary"},
        {"name": "anya-ext-keep-vault", "installed": "1.0.0", "latest": "1.1.0",
         "source": "enterprise.acme"},
    ]  # fmt: skip
    updated = venv.anya_json("update", "--all")
    assert {(c["name"], c["new_version"]) for c in updated["changes"]} == {
        ("anya-ext-keep-core", "1.1.0"),
        ("anya-ext-keep-vault", "1.1.0"),
    }
    versions = _versions(venv)
    assert versions["anya-ext-keep-core"] == "1.1.0"
    assert versions["anya-ext-keep-vault"] == "1.1.0"  # never the public 9.0.0
    assert _receipt_source(venv, "anya-ext-keep-core") == "primary"
    assert _receipt_source(venv, "anya-ext-keep-vault") == "enterprise.acme"
    assert venv.anya_json("outdated") == []


def test_a_private_extension_is_never_replaced_from_a_public_source(venv: Venv) -> None:
    _install(venv, "keep-vault@1.0.0", *ACME)
    before = _versions(venv)
    attempts = [
        ("install", "keep-vault@9.0.0", "--source", "community"),
        ("install", "keep-vault", "--upgrade", "--source", "community", "--switch-source"),
        ("update", "keep-vault", "--source", "community", "--switch-source"),
    ]
    for attempt in attempts:
        done = venv.anya_ext(*attempt)
        assert done.returncode == 11, (attempt, done.stdout, done.stderr)
        assert "was installed from enterprise.acme" in done.stderr
        assert "never replaced from community" in done.stderr
        assert _versions(venv) == before
    assert _receipt_source(venv, "anya-ext-keep-vault") == "enterprise.acme"
    log = (venv.home / "data" / "audit.jsonl").read_text().splitlines()
    refusals = [entry for entry in map(json.loads, log) if entry["result"] == "refused"]
    assert [(entry["action"], entry["details"]["error"]) for entry in refusals] == [
        ("install", "SourceSwitchRefused"),
        ("install", "SourceSwitchRefused"),
        ("update", "SourceSwitchRefused"),
    ]


def test_a_public_extension_changes_source_only_when_asked(venv: Venv) -> None:
    _install(venv, "keep-core@1.0.0")
    before = _versions(venv)

    refused = venv.anya_ext("update", "keep-core", "--source", "community")
    assert refused.returncode == 11, refused.stderr
    assert "was installed from primary, not from community" in refused.stderr
    assert "--switch-source" in refused.stderr
    assert _versions(venv) == before

    switched = venv.anya_ext("update", "keep-core", "--source", "community", "--switch-source")
    assert switched.returncode == 0, switched.stderr
    assert _versions(venv)["anya-ext-keep-core"] == "1.1.0"
    assert _receipt_source(venv, "anya-ext-keep-core") == "community"


def test_an_extension_installed_without_anya_ext_is_updated_from_the_default_source(
    venv: Venv, build_extension: ExtensionBuilder
) -> None:
    venv.install(build_extension(ExtensionSpec("keep-core", "core/bitcoin", version="1.0.0")))
    assert venv.anya_json("outdated") == [
        {"name": "anya-ext-keep-core", "installed": "1.0.0", "latest": "1.1.0",
         "source": "primary"},
    ]  # fmt: skip
    assert venv.anya_ext("update", "keep-core").returncode == 0
    assert _versions(venv)["anya-ext-keep-core"] == "1.1.0"
