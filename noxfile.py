"""Every routine job, each in its own fresh environment: ``nox -s demo``, ``nox -s tests``..."""

from __future__ import annotations

import shutil
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.error_on_missing_interpreters = True


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite on real venvs, wheels and services (``-- -m "not slow"`` skips e2e tests)."""
    session.install("-e", ".[dev]")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    session.install("-e", ".[dev]")
    session.run("mypy")


@nox.session
def demo(session: nox.Session) -> None:
    """The main job on a local default: make an extension, build it, install it, use it."""
    session.install("-e", ".[dev]")
    work = Path(session.create_tmp()).resolve() / "demo"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    env = {"ANYA_CONFIG": str(work / "extensions.toml"), "ANYA_DATA_DIR": str(work / "data")}
    session.run(
        "anya-ext", "new", "hello", "--category", "core/bitcoin", "--features",
        "metrics,lightning", "--default-features", "metrics", "--output-dir", str(work),
    )  # fmt: skip
    session.run("python", "-m", "build", "--wheel", "--no-isolation", "--outdir",
                str(work / "dist"), str(work / "anya-ext-hello"), silent=True)  # fmt: skip
    session.install(*(str(wheel) for wheel in (work / "dist").glob("*.whl")))
    session.run("anya-ext", "list", env=env)
    session.run("anya-ext", "info", "hello", env=env)
    session.run("anya-ext", "hello-greet", "--who", "Anya", env=env)
    session.run("anya-ext", "config", "set", "hello.greeting", "gm", env=env)
    session.run("anya-ext", "hello-greet", "--who", "Anya", env=env)
    session.run("anya-ext", "config", "show", "--origin", env=env)
    session.run("anya-ext", "doctor", env=env)
