"""Real parts for the tests: wheels built from the template, throwaway venvs, the real CLI.

Wheels are built once per session (``python -m build``), venvs are made with uv
and every extension is installed with a real installer, so the host meets exactly
what a user's environment would hold.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from anya_plugins.authoring.new import new_extension
from anya_sigstore_local import LocalSigstore
from tests.registry_fixtures import registry, upload
from tests.support import (
    REPO,
    ExtensionBuilder,
    ExtensionSpec,
    Venv,
    VenvFactory,
    build_wheel,
    retag,
    run,
    uv,
)

__all__ = ["registry", "upload"]  # session fixtures shared by every test folder

DEVPI_TEST_KEY_DERIVATION = {
    "DEVPISERVER_ARGON2_MEMORY_COST": "8",
    "DEVPISERVER_ARGON2_TIME_COST": "1",
    "DEVPISERVER_ARGON2_PARALLELISM": "1",
}
"""devpi-server derives its keys from its secret file with argon2 at every start: 512 MiB,
16 passes, 8 lanes by default, 5-40 s of both cores on the test machine. Every server the
tests start (their environment is inherited: primaries, replicas, deployments, the bench)
derives them at the lowest cost instead, as devpi's own tests do."""


@pytest.fixture(scope="session", autouse=True)
def cheap_devpi_key_derivation() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in DEVPI_TEST_KEY_DERIVATION.items():
            patch.setenv(name, value)
        yield


@pytest.fixture(scope="session")
def anya_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This checkout of anya-plugins, built into a wheel once per session."""
    return build_wheel(REPO, tmp_path_factory.mktemp("anya-wheel"))


@pytest.fixture(scope="session")
def build_extension(tmp_path_factory: pytest.TempPathFactory) -> ExtensionBuilder:
    """Generate an extension with ``anya-ext new``'s code path, edit it, build its wheel."""
    built: dict[ExtensionSpec, Path] = {}
    root = tmp_path_factory.mktemp("extensions")

    def build(spec: ExtensionSpec) -> Path:
        if spec in built:
            return built[spec]
        workdir = root / f"{spec.name}-{len(built)}"
        workdir.mkdir()
        project = new_extension(
            spec.name,
            spec.category,
            output_dir=workdir,
            features=spec.features,
            default_features=spec.default_features,
        )
        pyproject = project.path / "pyproject.toml"
        text = pyproject.read_text()
        if spec.host_api is not None:
            text = text.replace("anya-host-api:>=1.0", f"anya-host-api:>={spec.host_api[0]}")
            text = text.replace("anya-host-api:<2", f"anya-host-api:<{spec.host_api[1]}")
        if spec.keywords_edit is not None:
            old, new = spec.keywords_edit
            assert old in text, f"{old!r} not in the generated pyproject.toml"
            text = text.replace(old, new)
        if spec.dependencies:
            requirements = ", ".join(f'"{dependency}"' for dependency in spec.dependencies)
            text = text.replace(
                'dependencies = ["anya-plugins>=0.1"]',
                f'dependencies = ["anya-plugins>=0.1", {requirements}]',
            )
        for feature, requirement in spec.feature_requirements:
            assert f"{feature} = []" in text, f"feature {feature} is not generated"
            text = text.replace(f"{feature} = []", f'{feature} = ["{requirement}"]')
        pyproject.write_text(text)
        package_dir = project.path / "src" / project.package
        if spec.version != "0.1.0":
            init = package_dir / "__init__.py"
            init.write_text(init.read_text().replace('"0.1.0"', f'"{spec.version}"'))
        if spec.plugin_source is not None:
            (package_dir / "plugin.py").write_text(spec.plugin_source)
        for number in range(spec.bulk_modules):
            (package_dir / f"bulk_{number}.py").write_text(f"VALUE = {number}\n")
        wheel = build_wheel(project.path, workdir / "dist")
        if spec.platform_tag is not None:
            wheel = retag(wheel, spec.platform_tag)
        built[spec] = wheel
        return wheel

    return build


@pytest.fixture(scope="session")
def venv_template(tmp_path_factory: pytest.TempPathFactory, anya_wheel: Path) -> Venv:
    """A venv with anya-plugins installed and byte-compiled, made once and never run:
    :func:`make_venv` copies it (a copy costs a third of creating a venv and installing
    anya-plugins' dependencies, and its processes start without compiling their imports)."""
    root = tmp_path_factory.mktemp("venv-template")
    template = Venv(root / "venv", root)
    run([uv(), "venv", "--quiet", "--seed", "--python", sys.executable, template.path])
    template.install(anya_wheel, compile_bytecode=True)
    return template


@pytest.fixture(scope="session")
def make_venv(tmp_path_factory: pytest.TempPathFactory, venv_template: Venv) -> VenvFactory:
    """Create venvs with anya-plugins (and the given wheels) really installed."""

    def make(*wheels: Path) -> Venv:
        root = tmp_path_factory.mktemp("venv")
        home = root / "home"
        home.mkdir()
        venv = Venv.copied_from(venv_template, root / "venv", home)
        if wheels:
            venv.install(*wheels)
        return venv

    return make


@pytest.fixture(scope="session")
def local_sigstore(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSigstore]:
    """The instance the tests sign with and the verifier trusts."""
    with LocalSigstore(tmp_path_factory.mktemp("local-sigstore")) as sigstore:
        yield sigstore


@pytest.fixture(scope="session")
def untrusted_sigstore(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSigstore]:
    """Another instance with its own keys, whose root the verifier does not trust."""
    with LocalSigstore(tmp_path_factory.mktemp("untrusted-sigstore"), name="untrusted") as other:
        yield other
