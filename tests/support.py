"""Helpers behind the fixtures: building wheels, making venvs, running the real CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from anya_sigstore_local import LocalSigstore
    from tests.registry_fixtures import Registry

REPO = Path(__file__).resolve().parent.parent


def uv() -> str:
    beside = Path(sys.executable).with_name("uv")
    found = str(beside) if beside.exists() else shutil.which("uv")
    if not found:
        pytest.fail("uv is required by the test suite; install the 'dev' extra")
    return found


def run(command: Sequence[str | Path], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run a command and fail the test with its output when it fails."""
    done = subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, check=False, **kwargs
    )
    if done.returncode != 0:
        pytest.fail(f"{command} exited {done.returncode}\n{done.stdout}\n{done.stderr}")
    return done


def build_wheel(project: Path, outdir: Path) -> Path:
    """``python -m build --wheel`` (no isolation: the backends are in the test environment,
    so their check is skipped too: it costs a process asking the backend what it needs)."""
    before = set(outdir.glob("*.whl")) if outdir.exists() else set()
    run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--skip-dependency-check",
         "--outdir", outdir, project])  # fmt: skip
    (wheel,) = set(outdir.glob("*.whl")) - before
    return wheel


@dataclass(frozen=True)
class ExtensionSpec:
    """How to make one test extension from the template."""

    name: str
    category: str = "community/experimental"
    features: tuple[str, ...] = ("metrics",)
    default_features: tuple[str, ...] = ()
    host_api: tuple[str, str] | None = None
    plugin_source: str | None = None
    version: str = "0.1.0"
    dependencies: tuple[str, ...] = ()
    feature_requirements: tuple[tuple[str, str], ...] = ()
    """(feature, requirement) pairs added to the generated extras."""
    bulk_modules: int = 0
    """Extra empty modules, to make the install step take measurable time."""
    keywords_edit: tuple[str, str] | None = None
    platform_tag: str | None = None


ExtensionBuilder = Callable[[ExtensionSpec], Path]


def retag(wheel: Path, platform_tag: str) -> Path:
    """Give a pure wheel a platform tag with the ``wheel tags`` tool, as a platform build would."""
    run([sys.executable, "-m", "wheel", "tags", "--platform-tag", platform_tag, "--remove", wheel])
    (retagged,) = wheel.parent.glob(f"*{platform_tag}.whl")
    return retagged


def wheel_metadata(wheel: Path) -> str:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return archive.read(name).decode()


@dataclass
class Venv:
    """A throwaway virtual environment with its own HOME, config file and data dir."""

    path: Path
    home: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    """Environment every command in this venv gets (e.g. which index to use)."""

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    @property
    def site_packages(self) -> Path:
        (site,) = self.path.glob("lib/python3*/site-packages")
        return site

    @property
    def config_file(self) -> Path:
        return self.home / "anya" / "extensions.toml"

    def env(self, **extra: str) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("ANYA_", "VIRTUAL_ENV"))}
        keep.update(
            HOME=str(self.home),
            ANYA_CONFIG=str(self.config_file),
            ANYA_DATA_DIR=str(self.home / "data"),
            PATH=f"{self.path / 'bin'}{os.pathsep}{keep.get('PATH', '')}",
        )
        keep.update(self.extra_env)
        keep.update(extra)
        return keep

    @classmethod
    def copied_from(cls, template: Venv, path: Path, home: Path) -> Venv:
        """A copy of ``template`` at ``path``, as if made there: the scripts in ``bin`` (whose
        shebangs and activate files name the venv's own path) are rewritten to name ``path``.
        A full copy, not hard links: tests edit and byte-compile installed files."""
        run(["cp", "-a", template.path, path])
        old, new = bytes(template.path), bytes(path)
        for script in (path / "bin").iterdir():
            if script.is_file() and not script.is_symlink():
                data = script.read_bytes()
                if old in data:
                    script.write_bytes(data.replace(old, new))
        return cls(path, home)

    def install(self, *wheels: Path, compile_bytecode: bool = False) -> None:
        """Copies, not uv's default hard links into its cache: tests edit installed files,
        and an edit through a hard link would change the cached copy for later installs
        (pytest reuses its temporary paths, so a later session can install from it).
        ``compile_bytecode``: as pip does by default, so that every process started in the
        venv reads byte-code instead of compiling its imports again (the tests run with
        PYTHONDONTWRITEBYTECODE=1, which makes every process pay that)."""
        compile_option = ["--compile-bytecode"] if compile_bytecode else []
        run(
            [uv(), "pip", "install", "--quiet", "--link-mode", "copy", *compile_option,
             "--python", self.python, *wheels],
        )  # fmt: skip

    def install_foreign(self, wheel: Path, platform_tag: str) -> None:
        """Put a wheel built for another platform into site-packages, as a shared or copied
        environment would hold it: pip installs it only when told the target platform."""
        run(
            [
                self.python, "-m", "pip", "install", "--quiet", "--no-deps", "--upgrade",
                "--only-binary=:all:", "--platform", platform_tag,
                "--target", self.site_packages, wheel,
            ]
        )  # fmt: skip

    def uninstall(self, *names: str) -> None:
        run([uv(), "pip", "uninstall", "--quiet", "--python", self.python, *names])

    def python_code(self, code: str, **env: str) -> subprocess.CompletedProcess[str]:
        """Run Python in the venv; the result's stdout is what the code printed."""
        return subprocess.run(
            [str(self.python), "-c", code],
            capture_output=True,
            text=True,
            env=self.env(**env),
            check=False,
            cwd=self.home,
        )

    def anya_ext(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.path / "bin" / "anya-ext"), *args],
            capture_output=True,
            text=True,
            env=self.env(**env),
            check=False,
            cwd=self.home,
        )

    def freeze(self) -> dict[str, str]:
        """Every distribution installed in the venv: name (as its metadata spells it) -> version."""
        done = self.python_code(
            "import json, importlib.metadata as m;"
            "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))"
        )
        return json.loads(done.stdout)  # type: ignore[no-any-return]

    def anya_json(self, *args: str, **env: str) -> Any:
        done = self.anya_ext("--json", *args, **env)
        assert done.returncode == 0, f"anya-ext {args} exited {done.returncode}: {done.stderr}"
        return json.loads(done.stdout)


VenvFactory = Callable[..., Venv]


def signed_by(sigstore: LocalSigstore, identity: str, names: str = "anya-ext-*") -> str:
    """A ``[trust]`` section (TOML): signatures required under ``sigstore``'s trusted root,
    from ``identity`` (a glob) for the distributions ``names`` (a glob)."""
    return (
        "[trust]\n"
        f'trusted_root = "{sigstore.trusted_root_path}"\n'
        "require_signatures = true\n\n"
        "[[trust.publishers]]\n"
        f'identity = "{identity}"\n'
        f'issuer = "{sigstore.issuer_url}"\n'
        f'names = ["{names}"]\n'
    )


def installing_signed_from(
    venv: Venv, sigstore: LocalSigstore, identity: str, index_url: str, cache: Path
) -> Venv:
    """Point ``venv``'s anya-ext at ``index_url`` (a simple API root) with a download cache
    of its own, signatures by ``identity`` required (:func:`signed_by`)."""
    venv.config_file.parent.mkdir(parents=True, exist_ok=True)
    venv.config_file.write_text(signed_by(sigstore, identity))
    venv.extra_env.update(ANYA_SOURCES__PRIMARY__URL=index_url, ANYA_CACHE_DIR=str(cache))
    return venv


def installing_unsigned_from(venv: Venv, registry: Registry, cache: Path, **env: str) -> Venv:
    """Point ``venv``'s anya-ext at the session registry's ``anya/primary`` with a download
    cache of its own, signatures not required (signed installs are the subject of
    tests/install/test_signed_install.py) but verified where served: the signed indexes
    serve their publisher's, checked against the registry's trust root. ``env`` adds
    settings (other sources)."""
    venv.extra_env.update(
        ANYA_SOURCES__PRIMARY__URL=f"{registry.url}/anya/primary/+simple/",
        ANYA_CACHE_DIR=str(cache),
        ANYA_TRUST__REQUIRE_SIGNATURES="false",
        **registry.trust_env(),
        **env,
    )
    return venv
