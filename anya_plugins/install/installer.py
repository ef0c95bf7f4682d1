"""The install step itself, handed to uv or pip: only verified local files, hashes pinned."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from anya_plugins.errors import AnyaError
from anya_plugins.install import envlock
from anya_plugins.install.child import run_child
from anya_plugins.install.environment import TargetEnvironment
from anya_plugins.install.resolver import find_uv, resolver_environment
from anya_plugins.install.scratch import scratch_dir

if TYPE_CHECKING:
    from anya_plugins.sources.cache import DownloadCache


class InstallStepFailed(AnyaError):
    """The installer refused or crashed; the journal rolls the environment back."""

    exit_code = 11


@dataclass(frozen=True)
class VerifiedFile:
    """A downloaded distribution file whose hash was checked against the index."""

    name: str
    version: str
    path: Path
    sha256: str


class Installer(Protocol):
    name: str

    def install(
        self,
        env: TargetEnvironment,
        files: Sequence[VerifiedFile],
        meanwhile: Callable[[], object] = lambda: None,
    ) -> None:
        """Install ``files``; ``meanwhile`` is called while the installer runs (its failure
        is raised once the installer succeeded; the installer's own comes first)."""
        ...

    def uninstall(self, env: TargetEnvironment, names: Sequence[str]) -> None: ...


def default_installer() -> Installer:
    uv = find_uv()
    return UvInstaller(uv) if uv else PipInstaller()


def _pinned_requirements(files: Sequence[VerifiedFile], directory: Path) -> Path:
    """``name @ file:///... --hash=sha256:...`` lines: the installer re-checks every hash."""
    lines = [
        f"{file.name} @ {file.path.resolve().as_uri()} --hash=sha256:{file.sha256}"
        for file in files
    ]
    requirements = directory / "verified.txt"
    requirements.write_text("\n".join(lines) + "\n")
    return requirements


def _run(
    command: Sequence[str],
    what: str,
    env: TargetEnvironment,
    meanwhile: Callable[[], object] = lambda: None,
) -> None:
    """Run the installer, ``meanwhile`` called while it runs; it inherits the environment's
    lock, so the lock is free only once neither we nor the installer can write any more.
    Like the resolver, it runs without the user's uv/pip settings (a ``target`` or
    ``prefix`` in pip.conf would move the install)."""
    lock = envlock.descriptor(env.prefix)
    failed: list[Exception] = []

    def guarded() -> None:
        try:
            meanwhile()
        except Exception as error:  # raised below, after the installer's own failure if any
            failed.append(error)

    try:
        done = run_child(
            command,
            keep_fds=() if lock is None else (lock,),
            environ=resolver_environment(os.environ),
            meanwhile=guarded,
        )
    except OSError as error:
        raise InstallStepFailed(f"could not run the installer for {what}: {error}") from error
    if done.returncode != 0:
        raise InstallStepFailed(
            f"the installer failed during {what} (exit {done.returncode}):\n"
            f"{(done.stderr or done.stdout).strip()}"
        )
    if failed:
        raise failed[0]


class UvInstaller:
    """Installs with uv. With a download ``cache``, each file is handed to uv from its staged
    path there (:meth:`DownloadCache.stage_all`), the same in every run, so that uv unpacks a
    wheel once rather than in every install; uv checks every hash either way."""

    name = "uv"

    def __init__(self, uv: str, cache: DownloadCache | None = None) -> None:
        self._uv = uv
        self._cache = cache

    def install(
        self,
        env: TargetEnvironment,
        files: Sequence[VerifiedFile],
        meanwhile: Callable[[], object] = lambda: None,
    ) -> None:
        if self._cache is not None:
            staged = self._cache.stage_all(
                [(file.sha256, file.path.name, file.path) for file in files]
            )
            files = [
                VerifiedFile(file.name, file.version, path, file.sha256)
                for file, path in zip(files, staged, strict=True)
            ]
        with scratch_dir("install") as scratch:
            requirements = _pinned_requirements(files, scratch)
            _run(
                [
                    self._uv, "pip", "install", "--python", str(env.python), "--no-deps",
                    "--offline", "--no-config", "--require-hashes", "-r", str(requirements),
                ],
                "install",
                env,
                meanwhile,
            )  # fmt: skip

    def uninstall(self, env: TargetEnvironment, names: Sequence[str]) -> None:
        _run([self._uv, "pip", "uninstall", "--python", str(env.python), *names], "uninstall", env)


class PipInstaller:
    name = "pip"

    def install(
        self,
        env: TargetEnvironment,
        files: Sequence[VerifiedFile],
        meanwhile: Callable[[], object] = lambda: None,
    ) -> None:
        with scratch_dir("install") as scratch:
            requirements = _pinned_requirements(files, scratch)
            _run(
                [
                    str(env.python), "-m", "pip", "install", "--no-deps", "--no-index",
                    "--require-hashes", "--disable-pip-version-check", "-r", str(requirements),
                ],
                "install",
                env,
                meanwhile,
            )  # fmt: skip

    def uninstall(self, env: TargetEnvironment, names: Sequence[str]) -> None:
        _run(
            [str(env.python), "-m", "pip", "uninstall", "--yes", "--disable-pip-version-check",
             *names],
            "uninstall",
            env,
        )  # fmt: skip
