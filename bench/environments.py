"""Throwaway venvs, and distributions generated directly as files.

A :class:`Distribution` is written either installed (its module and ``.dist-info`` straight
into a site-packages directory, as an installer would leave them) or as a wheel: a thousand
installed extensions take a second this way, where building a thousand wheels takes minutes.
"""

from __future__ import annotations

import atexit
import base64
import functools
import hashlib
import os
import secrets
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bench.measure import BenchError, check_output
from bench.report import REPO

ENTRY_POINT_GROUP = "anya.extensions"
CONTRACT_KEYWORDS = (
    "anya-extension",
    "anya-category:community/experimental",
    "anya-host-api:>=1.0",
    "anya-host-api:<2",
)
EXTENSION_MODULE = '''"""A generated extension: one hook implementation, as small as they get."""

from anya_plugins import hookimpl


@hookimpl
def anya_health():
    return None
'''


@dataclass(frozen=True)
class Distribution:
    """A pure-Python distribution: its modules and the core metadata around them."""

    name: str
    version: str = "1.0.0"
    modules: Mapping[str, str] = field(default_factory=dict)
    """Paths relative to site-packages, and their source."""
    keywords: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    entry_points: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Group -> name -> ``module:attribute``."""
    summary: str = "A generated distribution for the Anya benchmarks."
    extras: tuple[str, ...] = ()
    """Provides-Extra: an extension's features."""

    @property
    def project(self) -> str:
        """The name as it appears in file names (PEP 427 / PEP 503 escaping)."""
        return self.name.replace("-", "_").replace(".", "_").lower()

    @property
    def dist_info(self) -> str:
        return f"{self.project}-{self.version}.dist-info"

    @property
    def wheel_name(self) -> str:
        return f"{self.project}-{self.version}-py3-none-any.whl"

    def metadata(self) -> str:
        lines = [
            "Metadata-Version: 2.1",
            f"Name: {self.name}",
            f"Version: {self.version}",
            f"Summary: {self.summary}",
        ]
        if self.keywords:
            lines.append(f"Keywords: {','.join(self.keywords)}")
        lines += [f"Requires-Dist: {requirement}" for requirement in self.requires]
        lines += [f"Provides-Extra: {extra}" for extra in self.extras]
        return "\n".join(lines) + "\n"

    def files(self) -> dict[str, bytes]:
        """Every file of the installed distribution, RECORD last (it lists the others)."""
        files = {path: source.encode() for path, source in self.modules.items()}
        files[f"{self.dist_info}/METADATA"] = self.metadata().encode()
        files[f"{self.dist_info}/WHEEL"] = (
            b"Wheel-Version: 1.0\nGenerator: anya-bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        if self.entry_points:
            text = "".join(
                f"[{group}]\n" + "".join(f"{name} = {value}\n" for name, value in entries.items())
                for group, entries in self.entry_points.items()
            )
            files[f"{self.dist_info}/entry_points.txt"] = text.encode()
        record = [f"{path},sha256={_record_hash(data)},{len(data)}" for path, data in files.items()]
        record.append(f"{self.dist_info}/RECORD,,")
        files[f"{self.dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
        return files


def extension(
    name: str,
    *,
    module: str = EXTENSION_MODULE,
    requires: tuple[str, ...] = (),
    extras: tuple[str, ...] = (),
) -> Distribution:
    """``anya-ext-<name>``: the contract keywords and an ``anya.extensions`` entry point;
    ``extras``: its features."""
    package = f"anya_ext_{name}".replace("-", "_")
    return Distribution(
        f"anya-ext-{name}",
        modules={f"{package}/__init__.py": module},
        keywords=CONTRACT_KEYWORDS,
        requires=requires,
        entry_points={ENTRY_POINT_GROUP: {name: package}},
        summary=f"Generated extension {name} for the Anya benchmarks.",
        extras=extras,
    )


def plain(name: str, *, payload: int = 0) -> Distribution:
    """A library that is not an extension; ``payload`` characters of random hex data in its
    module (which compresses to about half: wheels of a realistic size)."""
    package = name.replace("-", "_")
    data = secrets.token_hex(payload // 2)
    source = f"VALUE = {name!r}\n" + (f"DATA = {data!r}\n" if payload else "")
    return Distribution(name, modules={f"{package}/__init__.py": source})


def write_installed(dist: Distribution, site_packages: Path) -> None:
    """Put ``dist`` into ``site_packages`` as an installer would (INSTALLER included)."""
    for relative, data in dist.files().items():
        path = site_packages / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (site_packages / dist.dist_info / "INSTALLER").write_text("anya-bench\n")


def remove_installed(dist: Distribution, site_packages: Path) -> None:
    for relative in dist.files():
        top = site_packages / relative.split("/", 1)[0]
        if top.is_dir():
            shutil.rmtree(top)


def write_wheel(dist: Distribution, directory: Path) -> Path:
    path = directory / dist.wheel_name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for relative, data in dist.files().items():
            archive.writestr(relative, data)
    return path


def _record_hash(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


@dataclass(frozen=True)
class Venv:
    path: Path

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    def script(self, name: str) -> Path:
        return self.path / "bin" / name

    @property
    def site_packages(self) -> Path:
        (site,) = self.path.glob("lib/python3*/site-packages")
        return site


def uv() -> str:
    """uv beside this interpreter (the ``dev`` extra installs it), else on PATH."""
    beside = Path(sys.executable).with_name("uv")
    found = str(beside) if beside.exists() else shutil.which("uv")
    if found is None:
        raise BenchError("uv is needed to make the benchmark venvs: pip install uv")
    return found


def beside_python(script: str) -> str:
    """A console script of this environment (``anya-ext``, ``twine``...)."""
    path = Path(sys.executable).with_name(script)
    if not path.exists():
        raise BenchError(f"{script} is not installed beside {sys.executable}")
    return str(path)


def make_venv(path: Path, *, seed: bool = False) -> Venv:
    """A venv of this interpreter (``seed``: with pip in it, for ``pip install``)."""
    command = [uv(), "venv", "--quiet", "--python", sys.executable, str(path)]
    if seed:
        command.insert(3, "--seed")
    check_output(command)
    return Venv(path)


def install_into(venv: Venv, *requirements: str | Path) -> None:
    """uv installs without compiling bytecode (pip compiles): every timed command gets an
    untimed warm-up run first, which compiles what it imports."""
    check_output([uv(), "pip", "install", "--quiet", "--python", venv.python, *requirements])


def anya_venv(path: Path, *extra: str) -> Venv:
    """A venv holding this checkout of anya-plugins as a user's would (installed from its
    wheel, no extras: the dev extras make some imports far slower), plus ``extra``."""
    venv = make_venv(path)
    install_into(venv, anya_wheel(), *extra)
    return venv


@functools.cache
def anya_wheel() -> Path:
    """This checkout built into a wheel once per process (removed when the process ends)."""
    directory = Path(tempfile.mkdtemp(prefix="anya-bench-wheel-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    check_output([uv(), "build", "--wheel", "--quiet", "--out-dir", directory, REPO])
    (wheel,) = directory.glob("*.whl")
    return wheel


def path_without(command: str) -> str:
    """``$PATH`` without the directories that hold ``command``."""
    return os.pathsep.join(
        directory
        for directory in os.environ.get("PATH", "").split(os.pathsep)
        if directory and not os.access(Path(directory) / command, os.X_OK)
    )


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without ANYA_, virtualenv, pip, uv and Python variables, plus
    ``extra``: ``PYTHONDONTWRITEBYTECODE`` in particular would make every run compile."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ANYA_", "VIRTUAL_ENV", "PIP_", "UV_", "PYTHON"))
    }
    env.update(extra)
    return env


def require_tool(command: str, package: str) -> str:
    """The path of a system tool, or BenchError saying which Debian package brings it."""
    found = shutil.which(command)
    if found is None:
        raise BenchError(
            f"{command} is not installed: apt-get install -y {package} "
            "(nox -s bench installs it when run as root)"
        )
    return found
