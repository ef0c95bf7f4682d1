"""Every routine job, each in its own fresh environment: ``nox -s demo``, ``nox -s tests``..."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.error_on_missing_interpreters = True

LOCAL_SIGSTORE = "./sigstore-local"
"""The local Sigstore the tests, demo and benchmarks sign with: its own distribution, so the
runtime wheel carries no signing service (a path dependency cannot be an extra on PyPI)."""


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite on real venvs, wheels and services (``-- -m "not slow"`` skips e2e tests)."""
    _debian_packages(session, TESTS_DEBIAN_PACKAGES, "the tests that need them skip")
    # Byte-code for everything the suite's hundreds of processes import (devpi-server,
    # anya-ext, twine): under PYTHONDONTWRITEBYTECODE=1 each would compile its imports again.
    session.install("-e", ".[dev]", "-e", LOCAL_SIGSTORE, env={"UV_COMPILE_BYTECODE": "1"})
    session.run("python", "-m", "compileall", "-q", "anya_plugins", LOCAL_SIGSTORE, silent=True)
    # One worker per core (at most 4), whole test files per worker: the suite mostly waits
    # on the processes it starts, and module-scoped registries stay in one worker.
    session.run(
        "pytest", "--numprocesses=auto", "--maxprocesses=4", "--dist=loadfile", *session.posargs
    )


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    session.install("-e", ".[dev]", "-e", LOCAL_SIGSTORE)
    session.run("mypy")


@nox.session
def docs(session: nox.Session) -> None:
    """The API reference (from the docstrings) and the how-to, built strictly: a warning fails."""
    session.install("-e", ".[docs]")
    session.run(
        "mkdocs", "build", "--strict", "--site-dir", str(Path(session.create_tmp(), "site"))
    )


@nox.session
def demo(session: nox.Session) -> None:
    """The main job on the embedded local default, end to end and offline: start a devpi
    registry and a local Sigstore, write an extension, publish it signed, install it
    verified into a fresh environment, use it, check it."""
    session.install("-e", ".[dev]", "-e", LOCAL_SIGSTORE)
    work = Path(session.create_tmp()).resolve() / "demo"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    python = str(Path(session.bin) / "python")
    registry_dir = work / "registry"
    port = os.environ.get("ANYA_DEMO_PORT", "3141")
    env = {
        "ANYA_CONFIG": str(work / "extensions.toml"),
        "ANYA_DATA_DIR": str(work / "data"),
        "ANYA_CACHE_DIR": str(work / "cache"),
        "ANYA_REGISTRY_DIR": str(registry_dir),
        "ANYA_SOURCES__PRIMARY__URL": f"http://127.0.0.1:{port}/anya/primary/+simple/",
    }
    sigstore = subprocess.Popen(
        [python, "-m", "anya_sigstore_local", "serve", str(work / "sigstore")],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    # Offline: the registry's upstream mirror is an empty local index instead of PyPI (the
    # app's own dependencies are installed already; an upstream would only be asked).
    (work / "upstream" / "simple").mkdir(parents=True)
    upstream_port = _free_port()
    upstream = subprocess.Popen(
        [python, "-m", "http.server", str(upstream_port), "--bind", "127.0.0.1",
         "--directory", str(work / "upstream")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        urls = _wait_for_ready(sigstore)
        # anya/primary takes only releases signed by its publisher, checked against the
        # local Sigstore's root.
        session.run(
            "anya-ext", "registry", "up", "--port", port,
            "--upstream", f"http://127.0.0.1:{upstream_port}/simple/",
            "--trusted-root", urls["trusted root"],
            "--publisher", "release@anya.example", "--issuer", urls["OIDC issuer"], env=env,
        )  # fmt: skip
        session.run(
            "anya-ext", "new", "hello", "--category", "core/bitcoin", "--features",
            "metrics,lightning", "--default-features", "metrics", "--output-dir", str(work),
            env=env,
        )  # fmt: skip
        token = session.run(
            python, "-m", "anya_sigstore_local", "token", str(work / "sigstore"),
            "release@anya.example", silent=True,
        )  # fmt: skip
        session.run(
            "anya-ext", "publish", str(work / "anya-ext-hello"), "--index", "anya/primary",
            "--trust-config", urls["trust config"],
            env={**env, "ANYA_IDENTITY_TOKEN": str(token).strip()},
        )  # fmt: skip
        (work / "extensions.toml").write_text(
            "[trust]\n"
            f'trusted_root = "{urls["trusted root"]}"\n\n'
            "[[trust.publishers]]\n"
            'identity = "release@anya.example"\n'
            f'issuer = "{urls["OIDC issuer"]}"\n'
            'names = ["anya-ext-*"]\n'
        )
        app = work / "app"
        session.run("uv", "venv", "--quiet", "--python", python, str(app))
        session.run("uv", "pip", "install", "--quiet", "--python", str(app / "bin" / "python"),
                    "-e", ".")  # fmt: skip
        anya = str(app / "bin" / "anya-ext")
        session.run(anya, "search", "hello", env=env, external=True)
        session.run(anya, "info", "hello", env=env, external=True)
        session.run(anya, "-v", "install", "hello", env=env, external=True)
        session.run(anya, "list", env=env, external=True)
        session.run(anya, "hello-greet", "--who", "Anya", env=env, external=True)
        session.run(anya, "config", "set", "hello.greeting", "gm", env=env, external=True)
        session.run(anya, "hello-greet", "--who", "Anya", env=env, external=True)
        session.run(anya, "verify", "hello", env=env, external=True)
        session.run(anya, "doctor", env=env, external=True)
        session.run(anya, "audit-log", "verify", env=env, external=True)
    finally:
        session.run("anya-ext", "registry", "down", env=env)
        for service in (sigstore, upstream):
            service.terminate()
            service.wait(timeout=10)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_ready(process: subprocess.Popen[str]) -> dict[str, str]:
    """Read the local Sigstore's banner (``name  value`` lines) up to ``ready``."""
    assert process.stdout is not None
    urls: dict[str, str] = {}
    for line in process.stdout:
        if line.strip() == "ready":
            return urls
        name, _, value = line.rstrip().rpartition("  ")
        if name:
            urls[name.strip()] = value.strip()
    raise RuntimeError("the local Sigstore instance exited before it was ready")


BENCH_DEBIAN_PACKAGES = {"wrk": "wrk", "nginx": "nginx-light", "/usr/bin/time": "time"}
"""What ``bench`` needs from Debian: the load generator, the cache tier, peak memory."""


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks against pip, uv, pluggy, stevedore, sha256sum and nginx; writes
    bench/results/latest.md (``-- --quick``: a smoke run; ``-- --only startup,hooks``)."""
    _debian_packages(
        session, BENCH_DEBIAN_PACKAGES, "the sections that need them will say they did not run"
    )
    session.install("-e", ".[dev]", "-e", LOCAL_SIGSTORE, "stevedore")
    session.run("python", "-m", "bench", *session.posargs)


TESTS_DEBIAN_PACKAGES = {
    "prometheus": "prometheus",
    "promtool": "prometheus",
    "slapd": "slapd",
    "ldapadd": "ldap-utils",
    "nginx": "nginx-light",
    "psql": "postgresql",  # tests/enterprise: registry deploy --storage postgresql://
    "chromium": "chromium",
    "pdftoppm": "poppler-utils",
    "chromedriver": "chromium-driver",  # tests/registry/test_hub_pages: Selenium drives chromium
    # tests/edge: the edge compresses with brotli where Debian's module is installed
    "/usr/lib/nginx/modules/ngx_http_brotli_filter_module.so": "libnginx-mod-http-brotli-filter",
    **BENCH_DEBIAN_PACKAGES,  # tests/bench: the smoke run of every section, serving included
}
"""What ``tests`` needs from Debian (a command, or the absolute path of a file): a real
Prometheus and promtool (tests/monitoring); slapd, ldap-utils, nginx and PostgreSQL
(tests/enterprise: the deployed private registry); nginx and its brotli module (tests/edge);
chromium, chromium-driver and pdftoppm (hub pages in a browser, compliance reports printed to
PDF and looked at as PNG); what ``bench`` needs, for its smoke test."""


def _present(tool: str) -> bool:
    """A command on the PATH, or (an absolute path) a file such as an nginx module."""
    path = Path(tool)
    return path.is_file() if path.is_absolute() else shutil.which(tool) is not None


def _debian_packages(session: nox.Session, tools: dict[str, str], otherwise: str) -> None:
    """Install the Debian packages of the missing ``{tool: package}`` when root; else warn."""
    missing = sorted({pkg for tool, pkg in tools.items() if not _present(tool)})
    if missing and os.geteuid() == 0:
        env = {"DEBIAN_FRONTEND": "noninteractive"}
        session.run("apt-get", "update", "-qq", external=True, env=env)
        session.run("apt-get", "install", "-y", "-qq", *missing, external=True, env=env)
    elif missing:
        session.warn(
            f"missing Debian packages: {' '.join(missing)} (sudo apt-get install -y "
            f"{' '.join(missing)}); {otherwise}"
        )
