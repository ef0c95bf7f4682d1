"""The install journal puts an environment back exactly as it was."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from anya_plugins.install import journal
from anya_plugins.install.environment import TargetEnvironment
from anya_plugins.install.installer import UvInstaller, VerifiedFile
from anya_plugins.install.resolver import find_uv
from tests.support import ExtensionBuilder, ExtensionSpec, VenvFactory

pytestmark = pytest.mark.slow


def _tree(env: TargetEnvironment) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for root in (*env.library_dirs, env.scripts):
        for directory, _dirs, names in os.walk(root):
            for name in names:
                path = Path(directory, name)
                if "__pycache__" not in path.parts:
                    files[str(path)] = path.read_bytes()
    return files


def _verified(wheel: Path, name: str, version: str) -> VerifiedFile:
    import hashlib

    return VerifiedFile(name, version, wheel, hashlib.sha256(wheel.read_bytes()).hexdigest())


def test_rollback_after_an_upgrade_restores_the_old_version_byte_for_byte(
    build_extension: ExtensionBuilder, make_venv: VenvFactory
) -> None:
    old = build_extension(ExtensionSpec("journaled", version="1.0.0"))
    new = build_extension(ExtensionSpec("journaled", version="2.0.0", features=("tor",)))
    venv = make_venv(old)
    env = TargetEnvironment.of(venv.python)
    before = _tree(env)

    journal.begin(env, [env.installed()["anya-ext-journaled"]], installing=[new])
    uv = find_uv()
    assert uv is not None
    UvInstaller(uv).install(env, [_verified(new, "anya-ext-journaled", "2.0.0")])
    assert env.installed_versions()["anya-ext-journaled"] == "2.0.0"

    recovery = journal.rollback(env)

    assert recovery is not None and recovery.removed > 0 and recovery.restored > 0
    assert env.installed_versions()["anya-ext-journaled"] == "1.0.0"
    assert _tree(env) == before
    assert not journal.pending(env)


def test_rollback_removes_a_fresh_install_entirely(
    build_extension: ExtensionBuilder, make_venv: VenvFactory
) -> None:
    venv = make_venv()
    env = TargetEnvironment.of(venv.python)
    before = _tree(env)
    wheel = build_extension(ExtensionSpec("journaled", version="1.0.0"))
    journal.begin(env, [], installing=[wheel])
    uv = find_uv()
    assert uv is not None
    UvInstaller(uv).install(env, [_verified(wheel, "anya-ext-journaled", "1.0.0")])

    journal.rollback(env)

    assert "anya-ext-journaled" not in env.installed_versions()
    assert _tree(env) == before


def test_rollback_removes_what_a_wheel_added_to_a_directory_already_there(
    make_venv: VenvFactory, tmp_path: Path
) -> None:
    """A wheel writing into a directory another distribution made (a namespace package):
    rollback removes its files there, and the directories no wheel names are not walked."""
    import json

    from tests.upstream_index import plain_wheel

    env = TargetEnvironment.of(make_venv().python)
    site = env.library_dirs[0]
    (site / "shared_ns").mkdir()
    (site / "shared_ns" / "kept.py").write_text("KEPT = 1\n")
    (site / "untouched").mkdir()
    (site / "untouched" / "big.py").write_text("BIG = 1\n")
    wheel = plain_wheel(tmp_path, "ns-addon", "1.0.0", modules={"shared_ns/addon": "ADDON = 1\n"})
    before = _tree(env)

    journal.begin(env, [], installing=[wheel])
    state = json.loads((journal.journal_dir(env) / "journal.json").read_text())
    uv = find_uv()
    assert uv is not None
    UvInstaller(uv).install(env, [_verified(wheel, "ns-addon", "1.0.0")])
    assert (site / "shared_ns" / "addon.py").exists()
    recovery = journal.rollback(env)

    assert recovery is not None and recovery.removed >= 2  # the module and the dist-info
    assert _tree(env) == before
    assert str(site / "shared_ns" / "kept.py") in state["existing"]
    assert str(site / "untouched") in state["existing"]
    assert str(site / "untouched" / "big.py") not in state["existing"]


def test_the_journal_walks_the_names_a_wheels_data_lands_under(
    make_venv: VenvFactory, tmp_path: Path
) -> None:
    """``.data/purelib`` and ``.data/data`` paths that land in the library count as the
    wheel's names, as do those of the distribution replaced; other names are not walked."""
    import json
    import zipfile

    env = TargetEnvironment.of(make_venv().python)
    site = env.library_dirs[0]
    inside = site.relative_to(env.prefix).as_posix()
    wheel = tmp_path / "odd-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("odd-1.0.data/purelib/from_purelib/x.py", "")
        archive.writestr(f"odd-1.0.data/data/{inside}/from_data/y.txt", "")
        archive.writestr("odd-1.0.data/data/share/doc/z.txt", "")
        archive.writestr("odd-1.0.data/scripts/tool", "")
        archive.writestr("plain_module.py", "")
    pip = next(d for name, d in env.installed().items() if name == "pip")

    journal.begin(env, [pip], installing=[wheel])
    state = json.loads((journal.journal_dir(env) / "journal.json").read_text())
    journal.commit(env)

    assert {"from_purelib", "from_data", "plain_module.py", "pip", "__pycache__"} <= set(
        state["deep"]
    )
    assert not {"share", "odd-1.0.data", "tool", ".."} & set(state["deep"])


def test_nothing_to_roll_back_without_a_journal(make_venv: VenvFactory) -> None:
    env = TargetEnvironment.of(make_venv().python)
    assert journal.rollback(env) is None


def test_rollback_restores_the_install_fingerprints_with_the_files(
    build_extension: ExtensionBuilder, make_venv: VenvFactory
) -> None:
    from anya_plugins.host import integrity
    from anya_plugins.install.receipts import receipts_dir, write_all_fingerprints

    old = build_extension(ExtensionSpec("journaled", version="1.0.0"))
    new = build_extension(ExtensionSpec("journaled", version="2.0.0", features=("tor",)))
    env = TargetEnvironment.of(make_venv(old).python)
    fingerprints = write_all_fingerprints(env, ["anya-ext-journaled"])[0]
    recorded = fingerprints.read_bytes()

    journal.begin(env, [env.installed()["anya-ext-journaled"]], installing=[new])
    uv = find_uv()
    assert uv is not None
    UvInstaller(uv).install(env, [_verified(new, "anya-ext-journaled", "2.0.0")])
    write_all_fingerprints(env, ["anya-ext-journaled"])
    assert fingerprints.read_bytes() != recorded
    journal.rollback(env)

    assert fingerprints.read_bytes() == recorded
    # the restored files are new inodes: the check hashes them and finds them as installed
    site = str(env.installed()["anya-ext-journaled"].locate_file(""))
    found = integrity.check(str(receipts_dir(env)), "anya-ext-journaled", "1.0.0", site)
    assert found == (integrity.VERIFIED, "")


def test_rollback_never_writes_into_files_the_installer_linked_from_its_cache(
    build_extension: ExtensionBuilder, make_venv: VenvFactory
) -> None:
    from anya_plugins.trust.installed import verify_installed

    old = build_extension(ExtensionSpec("journaled", version="1.0.0"))
    new = build_extension(ExtensionSpec("journaled", version="4.0.0"))
    env = TargetEnvironment.of(make_venv(old).python)
    journal.begin(env, [env.installed()["anya-ext-journaled"]], installing=[new])
    uv = find_uv()
    assert uv is not None
    UvInstaller(uv).install(env, [_verified(new, "anya-ext-journaled", "4.0.0")])
    journal.rollback(env)

    # uv hard-links installed files from its cache: another install of the new wheel
    # gets them from there, and they must still be the wheel's own
    other = TargetEnvironment.of(make_venv(new).python)
    report = verify_installed(other.installed()["anya-ext-journaled"])
    assert report.intact, report.findings


@pytest.mark.parametrize("change", ["edited", "deleted", "no RECORD"])
def test_fingerprints_are_refused_for_files_that_are_not_what_record_lists(
    build_extension: ExtensionBuilder, make_venv: VenvFactory, change: str
) -> None:
    """Right after an install, a file the installer left different from RECORD (or no RECORD)
    is an error, and no fingerprint is written."""
    from anya_plugins.host.integrity import fingerprint_file
    from anya_plugins.install.receipts import (
        InstalledFilesDiffer,
        receipts_dir,
        write_all_fingerprints,
    )

    wheel = build_extension(ExtensionSpec("fingered", version="1.0.0"))
    env = TargetEnvironment.of(make_venv(wheel).python)
    dist = env.installed()["anya-ext-fingered"]
    module = next(Path(str(dist.locate_file(f))) for f in dist.files or () if f.suffix == ".py")
    if change == "edited":
        module.write_text(module.read_text() + "\n# changed\n")
    elif change == "deleted":
        module.unlink()
    else:
        record = next(f for f in dist.files or () if f.name == "RECORD")
        Path(str(dist.locate_file(record))).unlink()

    with pytest.raises(InstalledFilesDiffer, match="anya-ext-fingered"):
        write_all_fingerprints(env, ["anya-ext-fingered"])
    assert not Path(fingerprint_file(str(receipts_dir(env)), "anya-ext-fingered")).exists()


def test_a_journal_left_without_its_record_is_cleared_by_the_next_command(
    build_extension: ExtensionBuilder, make_venv: VenvFactory
) -> None:
    """A process killed while its step began or committed leaves the journal directory
    (backups) without ``journal.json``: the next command, even ``list``, removes it and
    changes nothing else."""
    venv = make_venv(build_extension(ExtensionSpec("leftover", version="1.0.0")))
    env = TargetEnvironment.of(venv.python)
    journal.begin(env, [env.installed()["anya-ext-leftover"]], installing=[])
    (journal.journal_dir(env) / "journal.json").unlink()
    before = _tree(env)

    listing = venv.anya_ext("list")

    assert listing.returncode == 0, listing.stderr
    assert not journal.journal_dir(env).exists()
    assert "rolled back" not in listing.stderr
    assert _tree(env) == before


def test_commit_forgets_the_step_before_removing_its_backups(
    build_extension: ExtensionBuilder, make_venv: VenvFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    venv = make_venv(build_extension(ExtensionSpec("committing", version="1.0.0")))
    env = TargetEnvironment.of(venv.python)
    journal.begin(env, [env.installed()["anya-ext-committing"]], installing=[])

    def killed(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt  # the process dies while the backups are being removed

    monkeypatch.setattr(journal.shutil, "rmtree", killed)
    with pytest.raises(KeyboardInterrupt):
        journal.commit(env)
    assert not journal.pending(env)
