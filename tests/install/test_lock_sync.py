"""``anya-ext lock`` and ``sync``: a lock reproduces the whole set of an environment's
extensions — every distribution they need, by file and hash, each from its own source —
and ``sync`` installs exactly that set or changes nothing.

One environment is locked per module: ``lsfeat[tor]`` (which brings ``lsdep``) from the
primary index and ``lsvault`` from ACME's private index. ``anya-plugins`` and its own
dependencies come from the test's wheel, not from an index, so they are locked as not
reproducible (``--allow-unlocked``) and every fresh venv gets them the same way.
"""

from __future__ import annotations

import base64
import hashlib
import json
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from anya_sigstore_local import LocalSigstore
from tests.install.test_signed_install import RELEASER, _publish
from tests.registry_fixtures import PASSWORDS, Registry, Upload
from tests.support import (
    ExtensionBuilder,
    ExtensionSpec,
    Venv,
    VenvFactory,
    installing_signed_from,
)

pytestmark = pytest.mark.slow

LOCKED = {
    "anya-ext-lsfeat": ("1.0.0", "primary"),
    "anya-ext-lsdep": ("1.0.0", "primary"),
    "anya-ext-lsvault": ("0.1.0", "enterprise.acme"),
}


@pytest.fixture(scope="module")
def published(registry: Registry, upload: Upload, build_extension: ExtensionBuilder) -> Registry:
    uploads = [
        ("anya/primary", "anya", ExtensionSpec("lsdep", "core/bitcoin", version="1.0.0")),
        ("anya/primary", "anya",
         ExtensionSpec("lsfeat", "core/bitcoin", version="1.0.0", features=("tor",),
                       feature_requirements=(("tor", "anya-ext-lsdep>=1"),))),
        ("anya/primary", "anya", ExtensionSpec("lsextra", "core/bitcoin", version="1.0.0")),
        ("acme/private", "acme", ExtensionSpec("lsvault", "enterprise/custody")),
    ]  # fmt: skip
    for index, user, spec in uploads:
        done = upload(index, build_extension(spec), user=user)
        assert done.returncode == 0, done.stdout + done.stderr
    return registry


def _configured(venv: Venv, registry: Registry, cache: Path) -> Venv:
    venv.extra_env.update(
        ANYA_SOURCES__PRIMARY__URL=f"{registry.url}/anya/primary/+simple/",
        ANYA_SOURCES__ENTERPRISE__ACME__URL=registry.simple_url("acme/private", "acme"),
        ANYA_CACHE_DIR=str(cache),
        ANYA_TRUST__REQUIRE_SIGNATURES="false",
        **registry.trust_env(),
    )
    return venv


@dataclass(frozen=True)
class Locked:
    venv: Venv
    path: Path

    @property
    def document(self) -> dict[str, Any]:
        return json.loads(self.path.read_text())  # type: ignore[no-any-return]

    def edited(self, directory: Path, **changes: Any) -> Path:
        """A copy of the lock with top-level keys replaced."""
        copy = directory / "edited.lock"
        copy.write_text(json.dumps({**self.document, **changes}))
        return copy


@pytest.fixture(scope="module")
def locked(
    published: Registry, make_venv: VenvFactory, tmp_path_factory: pytest.TempPathFactory
) -> Locked:
    directory = tmp_path_factory.mktemp("locked")
    venv = _configured(make_venv(), published, directory / "cache")
    for args in (("lsfeat[tor]",), ("lsvault", "--source", "enterprise", "--org", "acme")):
        done = venv.anya_ext("install", *args)
        assert done.returncode == 0, done.stderr
    path = directory / "anya.lock"
    done = venv.anya_ext("lock", "--allow-unlocked", str(path))
    assert done.returncode == 0, done.stderr
    assert "not reproducible: anya-plugins" in done.stdout
    return Locked(venv, path)


@pytest.fixture
def fresh(published: Registry, make_venv: VenvFactory, tmp_path: Path) -> Venv:
    """A new venv with anya-plugins as the locked one got it, and its own download cache."""
    return _configured(make_venv(), published, tmp_path / "cache")


def _versions(venv: Venv) -> dict[str, str]:
    done = venv.python_code(
        "import json, importlib.metadata as m;"
        "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))"
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def _receipts(venv: Venv) -> dict[str, dict[str, Any]]:
    directory = venv.path / ".anya-receipts"
    return {
        receipt["name"]: receipt
        for receipt in (json.loads(file.read_text()) for file in directory.glob("*.json"))
    }


def test_lock_refuses_distributions_it_knows_no_source_for(locked: Locked, tmp_path: Path) -> None:
    target = tmp_path / "strict.lock"
    done = locked.venv.anya_ext("lock", str(target))
    assert done.returncode == 4
    assert "no source is known for" in done.stderr
    assert "anya-plugins" in done.stderr
    assert "--allow-unlocked" in done.stderr
    assert not target.exists()


def test_the_lock_holds_the_whole_closure_by_file_hash_and_source(
    locked: Locked, published: Registry
) -> None:
    document = locked.document
    acme = base64.b64encode(f"acme:{PASSWORDS['acme']}".encode()).decode("ascii")
    assert document["lock-version"] == 2
    packages = {p["name"]: p for p in document["packages"]}
    assert {name: (p["version"], p["source"]) for name, p in packages.items()} == LOCKED
    assert packages["anya-ext-lsfeat"]["features"] == ["tor"]
    assert packages["anya-ext-lsfeat"]["requested"] is True
    assert packages["anya-ext-lsdep"]["requested"] is False
    for package in packages.values():
        # Read as acme, who may read the private index (and every public one).
        request = urllib.request.Request(package["url"], headers={"Authorization": f"Basic {acme}"})
        with urllib.request.urlopen(request) as response:
            assert hashlib.sha256(response.read()).hexdigest() == package["sha256"]
        assert package["filename"] == package["url"].rsplit("/", 1)[1].split("#")[0]
    unlocked = {u["name"]: u for u in document["unlocked"]}
    assert {"anya-plugins", "pluggy", "packaging"} <= set(unlocked)
    assert "not by anya-ext" in unlocked["anya-plugins"]["reason"]
    assert document["environment"]["python_version"]


def test_sync_installs_every_locked_file_into_a_fresh_venv(locked: Locked, fresh: Venv) -> None:
    done = fresh.anya_ext("sync", str(locked.path))
    assert done.returncode == 0, done.stderr
    assert "locked without a source" in done.stdout

    versions, receipts = _versions(fresh), _receipts(fresh)
    for package in locked.document["packages"]:
        name = package["name"]
        assert versions[name] == package["version"]
        assert receipts[name]["sha256"] == package["sha256"]
        assert receipts[name]["source"] == package["source"]
    (row,) = [r for r in fresh.anya_json("list") if r["name"] == "lsfeat"]
    assert row["enabled_features"] == ["tor"]
    imported = fresh.python_code("import anya_ext_lsfeat, anya_ext_lsdep, anya_ext_lsvault")
    assert imported.returncode == 0, imported.stderr

    again = fresh.anya_ext("sync", str(locked.path))
    assert again.returncode == 0, again.stderr
    assert "nothing to do" in again.stdout


def test_sync_removes_what_the_lock_does_not_hold_only_with_exact(
    locked: Locked, fresh: Venv
) -> None:
    assert fresh.anya_ext("install", "lsextra").returncode == 0

    assert fresh.anya_ext("sync", str(locked.path)).returncode == 0
    assert "anya-ext-lsextra" in _versions(fresh)

    done = fresh.anya_ext("sync", "--exact", str(locked.path))
    assert done.returncode == 0, done.stderr
    assert "removed anya-ext-lsextra 1.0.0 (not in the lock)" in done.stdout
    versions = _versions(fresh)
    assert "anya-ext-lsextra" not in versions
    assert "anya-ext-lsextra" not in _receipts(fresh)
    assert {"pip", "anya-plugins", "pluggy", *LOCKED} <= set(versions)


def test_a_lock_missing_a_dependency_is_refused_and_changes_nothing(
    locked: Locked, fresh: Venv, tmp_path: Path
) -> None:
    packages = [p for p in locked.document["packages"] if p["name"] != "anya-ext-lsdep"]
    broken = locked.edited(tmp_path, packages=packages)
    before = _versions(fresh)

    done = fresh.anya_ext("sync", str(broken))
    assert done.returncode == 11
    assert "would not import" in done.stderr
    assert "anya-ext-lsfeat 1.0.0 requires anya-ext-lsdep>=1" in done.stderr
    assert _versions(fresh) == before
    assert _receipts(fresh) == {}


def test_a_distribution_locked_without_a_source_must_already_be_here(
    locked: Locked, fresh: Venv, tmp_path: Path
) -> None:
    unlocked = [
        {**u, "version": "0.0.1"} if u["name"] == "anya-plugins" else u
        for u in locked.document["unlocked"]
    ]
    before = _versions(fresh)
    done = fresh.anya_ext("sync", str(locked.edited(tmp_path, unlocked=unlocked)))
    assert done.returncode == 11
    assert "anya-plugins 0.0.1 (here:" in done.stderr
    assert _versions(fresh) == before


def test_a_lock_of_the_first_format_is_a_clear_error(fresh: Venv, tmp_path: Path) -> None:
    old = tmp_path / "old.lock"
    old.write_text(json.dumps({"lock-version": 1, "packages": []}))
    done = fresh.anya_ext("sync", str(old))
    assert done.returncode == 4
    assert "lock-version 1" in done.stderr
    assert "anya-ext lock" in done.stderr


@pytest.fixture(scope="module")
def signed(
    registry: Registry, local_sigstore: LocalSigstore, build_extension: ExtensionBuilder
) -> Registry:
    _publish(registry, local_sigstore, build_extension(ExtensionSpec("lssigned", "core/web5")),
             RELEASER)  # fmt: skip
    return registry


def _trusting(venv: Venv, registry: Registry, sigstore: LocalSigstore, cache: Path) -> Venv:
    """A venv whose policy requires signatures by the releaser (the local Sigstore's)."""
    return installing_signed_from(
        venv, sigstore, RELEASER, registry.simple_url("anya/primary"), cache
    )


def test_the_lock_pins_the_signer_and_sync_holds_to_it(
    signed: Registry, local_sigstore: LocalSigstore, make_venv: VenvFactory, tmp_path: Path
) -> None:
    here = _trusting(make_venv(), signed, local_sigstore, tmp_path / "here")
    assert here.anya_ext("install", "lssigned").returncode == 0
    path = tmp_path / "signed.lock"
    assert here.anya_ext("lock", "--allow-unlocked", str(path)).returncode == 0
    document = json.loads(path.read_text())
    (package,) = document["packages"]
    assert (package["name"], package["signer"]) == ("anya-ext-lssigned", RELEASER)

    elsewhere = _trusting(make_venv(), signed, local_sigstore, tmp_path / "elsewhere")
    before = _versions(elsewhere)
    claimed = tmp_path / "claimed.lock"
    other = [{**package, "signer": "someone-else@anya.example"}]
    claimed.write_text(json.dumps({**document, "packages": other}))
    refused = elsewhere.anya_ext("sync", str(claimed))
    assert refused.returncode == 13
    assert "locked as signed by someone-else@anya.example" in refused.stderr
    assert f"signed by {RELEASER}" in refused.stderr
    assert _versions(elsewhere) == before

    done = elsewhere.anya_ext("sync", str(path))
    assert done.returncode == 0, done.stderr
    assert _receipts(elsewhere)["anya-ext-lssigned"]["signer"] == RELEASER

    # where it was verified before, sync takes the provenance kept with the verdict
    assert here.anya_ext("uninstall", "lssigned").returncode == 0
    again = here.anya_ext("-v", "sync", str(path))
    assert again.returncode == 0, again.stderr
    assert "provenance as verified before (not fetched again)" in again.stderr
    assert "/+provenance/" not in again.stderr
    assert _receipts(here)["anya-ext-lssigned"]["signer"] == RELEASER
    assert here.anya_json("verify", "lssigned")[0]["ok"] is True
