"""``anya-ext new``: the template generates a project that builds, installs and runs."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from anya_plugins.metadata.contract import read_wheel
from anya_plugins.metadata.taxonomy import CATEGORIES, RESERVED_NAMES
from tests.support import REPO, Venv, VenvFactory, build_wheel, run


def _new(tmp_path: Path, *args: str, tmpdir: Path | None = None) -> tuple[int, str, str]:
    import subprocess

    done = subprocess.run(
        [sys.executable, "-m", "anya_plugins.cli.main", *args, "--output-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "TMPDIR": str(tmpdir)} if tmpdir else None,
    )
    return done.returncode, done.stdout, done.stderr


def test_template_hook_knows_the_same_categories_and_reserved_names() -> None:
    hook = (REPO / "template" / "hooks" / "pre_gen_project.py").read_text()
    for category in CATEGORIES:
        assert f'"{category}"' in hook
    for name in RESERVED_NAMES:
        assert f'"{name}"' in hook


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("new", "Bad_Name", "--category", "core/ml"), "invalid extension name 'Bad_Name'"),
        (("new", "ok", "--category", "core/doge"), "unknown category 'core/doge'"),
        (("new", "host", "--category", "core/ml"), "invalid extension name 'host'"),
        (
            ("new", "ok", "--category", "core/ml", "--features", "a", "--default-features", "b"),
            "default feature(s) b are not among the features",
        ),
    ],
)
def test_bad_input_is_refused_before_anything_is_written(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    code, _out, err = _new(tmp_path, *args)
    assert code == 2
    assert message in err
    assert list(tmp_path.iterdir()) == []


def test_existing_directory_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "anya-ext-taken").mkdir()
    (tmp_path / "anya-ext-taken" / "keep.txt").write_text("mine")
    code, _out, err = _new(tmp_path, "new", "taken", "--category", "core/ml")
    assert code == 2
    assert "already exists" in err
    assert (tmp_path / "anya-ext-taken" / "keep.txt").read_text() == "mine"


def test_new_leaves_nothing_in_the_temporary_directory(tmp_path: Path) -> None:
    """Cookiecutter leaves each rendered hook there; ours remove themselves."""
    tmp, out = tmp_path / "tmp", tmp_path / "out"
    tmp.mkdir()
    code, _out, err = _new(out, "new", "tidy", "--category", "core/ml", tmpdir=tmp)
    assert code == 0, err
    assert (out / "anya-ext-tidy" / "pyproject.toml").is_file()
    assert (REPO / "template" / "hooks" / "post_gen_project.py").is_file()
    assert list(tmp.iterdir()) == []


@pytest.mark.slow
def test_generated_extension_builds_installs_and_is_called(
    tmp_path: Path, make_venv: VenvFactory
) -> None:
    code, out, err = _new(
        tmp_path, "--json", "new", "lightning-watch", "--category", "core/bitcoin",
        "--features", "metrics,tor", "--default-features", "metrics",
    )  # fmt: skip
    assert code == 0, err
    project = Path(json.loads(out)["path"])
    assert (project / ".github" / "workflows" / "release.yml").is_file()
    assert (project / "tests" / "test_plugin.py").is_file()
    wheel = build_wheel(project, tmp_path / "dist")

    contract = read_wheel(wheel)
    assert contract.category == "core/bitcoin"
    assert {f.name: f.enables for f in contract.features} == {
        "full": ("metrics", "tor"),
        "metrics": (),
        "tor": (),
    }

    venv: Venv = make_venv(wheel)
    (row,) = venv.anya_json("list")
    assert (row["name"], row["category"], row["status"]) == (
        "lightning-watch",
        "core/bitcoin",
        "active",
    )
    assert row["enabled_features"] == ["metrics"]
    info = venv.anya_ext("info", "lightning-watch")
    assert "full -> metrics+tor, metrics (default) [on], tor" in info.stdout
    greeting = venv.anya_ext("lightning-watch-greet", "--who", "satoshi")
    assert greeting.stdout.strip() == "hello, satoshi!"
    health = venv.anya_json("doctor")
    assert health["ok"] is True

    run([venv.python, "-m", "pip", "install", "--quiet", "pytest"])
    generated_tests = run(
        [venv.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", project / "tests"],
        cwd=project,
        env=venv.env(),
    )
    assert "passed" in generated_tests.stdout
