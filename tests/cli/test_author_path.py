"""The extension author's path as a new user walks it: ``anya-ext new`` with its flags, the
compiled (``--platform``) variant built locally, no byte-code left behind, the generated
README followed as written, and ``publish`` without a CI identity explaining how to sign."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from anya_sigstore_local import LocalSigstore
from tests.registry_fixtures import PASSWORDS, Registry
from tests.support import Venv, VenvFactory, build_wheel

CI_VARIABLES = ("ACTIONS_ID_TOKEN_REQUEST", "GITHUB_", "GITLAB_", "BUILDKITE", "CIRCLE", "GOOGLE_")


def _no_ci_env(tmp_path: Path) -> dict[str, str]:
    """A developer's machine: no CI identity, no token, nothing of Anya's configured."""
    keep = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ANYA_", "SIGSTORE_", *CI_VARIABLES)) and k != "CI"
    }
    return {**keep, "HOME": str(tmp_path), "ANYA_CONFIG": str(tmp_path / "extensions.toml")}


def anya(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "anya_plugins.cli", *args],
        capture_output=True,
        text=True,
        env={**_no_ci_env(tmp_path), **env},
        check=False,
        cwd=tmp_path,
    )


def new(tmp_path: Path, name: str, *args: str) -> Path:
    done = anya(tmp_path, "--json", "new", name, "--output-dir", str(tmp_path), *args)
    assert done.returncode == 0, done.stderr
    return Path(json.loads(done.stdout)["path"])


def pyproject(project: Path) -> dict[str, object]:
    return tomllib.loads((project / "pyproject.toml").read_text())["project"]  # type: ignore[no-any-return]


# --- anya-ext new's flags -------------------------------------------------------------


def test_author_email_and_dependencies_go_into_the_project_metadata(tmp_path: Path) -> None:
    project = new(
        tmp_path, "fee-watch", "--category", "core/bitcoin",
        "--author", "Ada Lovelace", "--email", "ada@example.org",
        "--dependency", "httpx>=0.27", "--dependency", 'tomli; python_version < "3.11"',
    )  # fmt: skip
    metadata = pyproject(project)
    assert metadata["authors"] == [{"name": "Ada Lovelace", "email": "ada@example.org"}]
    assert metadata["dependencies"] == [
        "anya-plugins>=0.1",
        "httpx>=0.27",
        'tomli; python_version < "3.11"',
    ]


def test_without_dependencies_only_the_host_is_required(tmp_path: Path) -> None:
    project = new(tmp_path, "bare", "--category", "core/ml")
    assert pyproject(project)["dependencies"] == ["anya-plugins>=0.1"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--dependency", "httpx>=>0.27"), "--dependency 'httpx>=>0.27' is not a requirement"),
        (("--email", "ada at example"), "--email 'ada at example' is not an e-mail address"),
        (("--author", " "), "--author is empty"),
    ],
)
def test_bad_author_details_are_refused_before_anything_is_written(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    done = anya(tmp_path, "new", "x", "--category", "core/ml", "--output-dir", str(out), *args)
    assert done.returncode == 2
    assert message in done.stderr
    assert list(out.iterdir()) == []


def test_a_pure_python_extension_has_no_compiled_part_and_a_plain_release(tmp_path: Path) -> None:
    project = new(tmp_path, "pure", "--category", "core/ml")
    assert not (project / "setup.py").exists()
    assert not list(project.rglob("*.c"))
    workflow = (project / ".github" / "workflows" / "release.yml").read_text()
    assert "cibuildwheel" not in workflow
    assert "python -m build" in workflow
    assert "anya-ext publish dist/*.whl dist/*.tar.gz" in workflow
    assert "ANYA_INDEX: anya/primary" in workflow


def test_platform_adds_a_c_module_and_a_cibuildwheel_release(tmp_path: Path) -> None:
    project = new(tmp_path, "fast", "--category", "community/verified", "--platform")
    assert (project / "setup.py").is_file()
    assert (project / "src" / "anya_ext_fast" / "_native.c").is_file()
    workflow = (project / ".github" / "workflows" / "release.yml").read_text()
    assert "uses: pypa/cibuildwheel@" in workflow
    assert "ANYA_INDEX: community/verified" in workflow
    assert "id-token: write" in workflow
    configured = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["cibuildwheel"]
    assert configured["test-groups"] == ["test"]


# --- signing without an identity --------------------------------------------------------


THREE_WAYS = (
    "(1) in CI, the job's own",
    "(2) at a terminal, --interactive",
    "(3) offline, for testing, a local Sigstore instance: --trust-config FILE",
)


def test_signing_with_no_ci_identity_names_the_three_ways_to_sign(tmp_path: Path) -> None:
    wheel = tmp_path / "anya_ext_x-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"not read: the identity is looked for first")
    done = anya(tmp_path, "sign", str(wheel), "--attest")
    assert done.returncode == 13, done.stderr
    assert "no identity token: none was given and no CI credential was found" in done.stderr
    for way in THREE_WAYS:
        assert way in done.stderr


@pytest.mark.slow
def test_publish_with_no_ci_identity_names_the_three_ways_to_sign(
    tmp_path: Path, registry: Registry
) -> None:
    project = new(tmp_path, "unsigned-yet", "--category", "core/ml")
    wheel = build_wheel(project, tmp_path / "dist")
    done = anya(
        tmp_path, "publish", str(wheel), "--index", "anya/primary", "--url", registry.url,
        ANYA_PUBLISH_PASSWORD=PASSWORDS["anya"],
    )  # fmt: skip
    assert done.returncode == 13, done.stdout + done.stderr
    for way in THREE_WAYS:
        assert way in done.stderr
    assert "--no-sign" in done.stderr


# --- in a real environment ------------------------------------------------------------


@pytest.fixture(scope="module")
def venv(make_venv: VenvFactory) -> Venv:
    """anya-plugins installed, its template byte-compiled as pip compiles every installed
    ``.py`` file (uv does not by default)."""
    venv = make_venv()
    template = venv.site_packages / "anya_plugins" / "_template"
    # as pip does: what compiles (the template's __init__.py) gets byte-code, the rest
    # (Jinja in Python files) is skipped
    subprocess.run(
        [venv.python, "-m", "compileall", "-q", template], capture_output=True, check=False
    )
    assert list(template.rglob("__pycache__")), "nothing to test: no byte-code in the template"
    return venv


@pytest.mark.slow
def test_new_leaves_no_bytecode_behind(venv: Venv, tmp_path: Path) -> None:
    done = venv.anya_ext("new", "tidy", "--category", "core/ml", "--output-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    project = tmp_path / "anya-ext-tidy"
    assert (project / "src" / "anya_ext_tidy" / "plugin.py").is_file()
    assert list(project.rglob("__pycache__")) == []
    assert list(project.rglob("*.pyc")) == []


@pytest.mark.slow
def test_the_platform_variant_builds_locally_and_runs_its_compiled_part(
    venv: Venv, tmp_path: Path
) -> None:
    done = venv.anya_ext(
        "new", "quick", "--category", "core/ml", "--platform", "--output-dir", str(tmp_path)
    )
    assert done.returncode == 0, done.stderr
    wheel = build_wheel(tmp_path / "anya-ext-quick", tmp_path / "dist")
    assert not wheel.name.endswith("-none-any.whl"), wheel.name  # a platform wheel
    venv.install(wheel)
    greeting = venv.anya_ext("quick-greet", "--who", "satoshi")
    assert greeting.stdout.strip() == "hello, satoshi!", greeting.stderr
    native = venv.python_code("import anya_ext_quick._native as n; print(n.greeting('gm', 'x'))")
    assert native.stdout.strip() == "gm, x!"


# --- the generated README, followed -----------------------------------------------------


def _shell_block(readme: str, section: str) -> list[str]:
    """The commands of the first ```sh block under ``## section`` (continuations joined)."""
    body = readme.split(f"## {section}\n", 1)[1]
    block = body.split("```sh\n", 1)[1].split("```", 1)[0]
    joined = block.replace("\\\n", " ")
    return [line.split("  #", 1)[0].strip() for line in joined.splitlines() if line.strip()]


@pytest.mark.slow
def test_the_generated_readme_install_section_works_as_written(
    tmp_path: Path, registry: Registry, local_sigstore: LocalSigstore, make_venv: VenvFactory
) -> None:
    project = new(tmp_path, "readme-check", "--category", "community/experimental")
    readme = (project / "README.md").read_text()
    assert "published to the Anya index `community/experimental`" in readme

    # Publish as the README's Publish section says, signing the third way (a local instance):
    # the session registry takes signed releases from its publisher. The wheel is built
    # beforehand without isolation (publish would build it in a fresh environment from PyPI).
    publish = _shell_block(readme, "Publish: build, sign, upload")[-1]
    assert publish == "anya-ext publish --index community/experimental --interactive"
    wheel = build_wheel(project, tmp_path / "dist")
    published = anya(
        tmp_path, *publish.split()[1:-1], str(wheel), "--url", registry.url,
        "--trust-config", str(local_sigstore.trust_config_path),
        "--identity-token", local_sigstore.issue_token(registry.publisher.identity),
        ANYA_PUBLISH_PASSWORD=PASSWORDS["community"],
    )  # fmt: skip
    assert published.returncode == 0, published.stdout + published.stderr

    # Install as a user, line by line: this registry for 127.0.0.1:3141, this registry's
    # publisher for the GitHub workflow (its trusted root, as a private instance needs).
    venv = make_venv()
    venv.extra_env.update(
        ANYA_TRUST__TRUSTED_ROOT=str(local_sigstore.trusted_root_path),
        ANYA_CACHE_DIR=str(tmp_path / "cache"),
    )
    workflow = re.escape("https://github.com/OWNER/REPO/.github/workflows/release.yml@refs/tags/*")
    outputs = []
    for line in _shell_block(readme, "Install"):
        if line.startswith("pip install anya-plugins"):
            continue  # make_venv installed this checkout's anya-plugins
        line = line.replace("http://127.0.0.1:3141", registry.url)
        line = re.sub(f'"{workflow}"', registry.publisher.identity, line)
        line = line.replace(
            "https://token.actions.githubusercontent.com", registry.publisher.issuer
        )
        done = subprocess.run(
            ["bash", "-c", line], capture_output=True, text=True, env=venv.env(), cwd=venv.home,
            check=False,
        )  # fmt: skip
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
        outputs.append(done.stdout)
    assert outputs[-1].strip() == "hello, you!"
