"""Install: a verified ``anya-ext install`` against unverified ``pip install`` and ``uv pip
install``, from the same local devpi index and the same files, each into a fresh venv.

The registry is the embedded devpi (``bench.registry``). Every file is signed by a local
Sigstore instance: the extensions are published with ``anya-ext publish --trust-config
--identity-token`` (contract check, PEP 740 attestation, twine), the dependencies (plain
libraries, which ``publish`` refuses) are attested with the same signing API and uploaded
with twine ``--attestations``. ``anya-ext`` runs with a trust policy that requires signatures
and trusts that signer only, so every file's provenance is verified before install; the
run afterwards checks, with ``anya-ext verify``, that each installed file was signed.

``anya-ext`` runs from a venv of its own holding anya-plugins as a user installs it (no dev
extras), twice: with uv beside it (it then resolves and installs with uv) and without uv
anywhere on ``PATH`` (it falls back to pip for both), the two ways it runs for users.

Cold: every cache emptied before each run (Anya's download cache, uv's cache used by its
resolver and installer, pip's and uv's own). Warm: the caches of the previous run kept.
Before each run, untimed: a fresh target venv, a hard-linked copy of one whose pip is
compiled as ``python -m venv`` leaves it. Each case starts with an untimed warm-up run.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from anya_plugins.publish.uploading import upload
from anya_sigstore_local import LocalSigstore
from bench.environments import (
    Venv,
    anya_venv,
    beside_python,
    clean_env,
    extension,
    make_venv,
    path_without,
    plain,
    uv,
    write_wheel,
)
from bench.measure import BenchError, check_output, time_process
from bench.options import Options, log, run_alone
from bench.registry import DEPS_INDEX, EXTENSIONS_INDEX, BenchRegistry, given_or_own
from bench.report import Row, Section, Target, find, with_ratios
from bench.signing import IDENTITY, attest, trust_toml

TITLE = "Install an extension and its dependencies from a local devpi"

SIZES = (0, 10, 50)
QUICK_SIZES = (1,)
RUNS = 5
DEPENDENCY_PAYLOAD = 20_000
"""Bytes of data in each dependency's module: small libraries, but not empty ones."""
TARGET_VS_PIP = 1.0
TARGET_VS_UV = 1.5

ANYA = "anya-ext install (verified), with uv"
ANYA_PIP = "anya-ext install (verified), pip only"
PIP = "pip install (unverified)"
UV = "uv pip install (unverified)"


@dataclass(frozen=True)
class Installer:
    label: str
    command: Callable[[Venv, str], list[str]]
    caches: tuple[str, ...]
    """Environment variables naming the directories this tool caches in."""
    env: dict[str, str] = field(default_factory=dict)
    anya_ext: Path | None = None
    """For anya-ext: the one that installed, to check with ``anya-ext verify``."""
    tool_inside: str | None = None
    """For anya-ext: the resolver and installer it must have used (uv or pip)."""


def run(options: Options, registry: BenchRegistry | None = None) -> Section:
    """``registry``: a running benchmark registry to use instead of starting one."""
    sizes = options.sizes(SIZES, QUICK_SIZES)
    runs = options.repeats(RUNS)
    rows: list[Row] = []
    with (
        options.work_dir("install") as work,
        LocalSigstore(work / "sigstore") as sigstore,
        given_or_own(registry, work / "registry") as registry,
    ):
        extensions = _publish(registry, sigstore, work / "dist", sizes)
        home = work / "home"
        home.mkdir()
        config = home / "anya.toml"
        config.write_text(trust_toml(sigstore))
        env = clean_env(
            HOME=str(home),
            ANYA_CONFIG=str(config),
            ANYA_DATA_DIR=str(home / "data"),
            ANYA_SOURCES__PRIMARY__URL=registry.simple_url(),
            PIP_DISABLE_PIP_VERSION_CHECK="1",
        )
        # A quick run measures nothing: it skips what only accuracy needs.
        target = work / "target"
        template = _template_venv(work / "template", compiled=not options.quick)
        installers = _installers(registry, work)
        for number, installer in enumerate(installers):
            caches = [work / "caches" / str(number) / variable for variable in installer.caches]
            installer_env = {
                **env,
                **installer.env,
                **dict(zip(installer.caches, map(str, caches), strict=True)),
            }
            for size, name in zip(sizes, extensions, strict=True):
                for state in ("cold", "warm"):
                    log(f"install: {installer.label}, {size} dependencies, {state} cache")
                    timing = time_process(
                        installer.command(Venv(target), name),
                        runs=runs,
                        warmup=0 if options.quick and state == "cold" else 1,
                        env=installer_env,
                        before_each=_fresh(target, template, caches if state == "cold" else []),
                        memory_in_timed_runs=True,
                    )
                    case = f"{size} deps, {state}"
                    rows.append(
                        Row(case, installer.label, timing.median_s, "s", detail=timing.detail())
                    )
            _check_installed(Venv(target), extensions[-1], sizes[-1], installer, installer_env)
        pip_version = check_output([Venv(target).python, "-m", "pip", "--version"]).split()[1]
    tools = [installer.label for installer in installers]
    ordered = sorted(rows, key=lambda row: (_case_order(row.case, sizes), tools.index(row.tool)))
    rows_with_ratios = with_ratios(ordered, UV)
    return Section(
        "install",
        TITLE,
        UV,
        rows_with_ratios,
        _targets(rows_with_ratios, sizes),
        (
            f"pip {pip_version} (seeded by `uv venv --seed`, then compiled as ensurepip would) "
            "and this environment's uv; each run installs into a fresh venv (made untimed) "
            "from the same index and files.",
            "No advisory database is installed, so `anya-ext install` skips its vulnerability "
            "gate (and says so); its cost is not in these figures.",
            "anya-ext resolves (`uv pip install --dry-run`, or pip's `--dry-run --report` "
            "without uv), downloads every file itself, verifies hashes, provenance (PEP 740, "
            "local Sigstore) and the contract, then installs the verified files (uv or pip); "
            "it also writes receipts and the audit log. It runs from a venv of its own, as a "
            "user installs it; the targets use the uv variant.",
        ),
    )


def _installers(registry: BenchRegistry, work: Path) -> list[Installer]:
    index = registry.simple_url()
    log("install: venvs with anya-plugins, with and without uv")
    with_uv, pip_only = anya_venv(work / "anya-with-uv", "uv"), anya_venv(work / "anya-pip-only")

    def anya(venv: Venv) -> Callable[[Venv, str], list[str]]:
        def command(target: Venv, name: str) -> list[str]:
            return [str(venv.script("anya-ext")), "install", "--python", str(target.python), name]

        return command

    def pip(target: Venv, name: str) -> list[str]:
        return [str(target.python), "-m", "pip", "install", "--no-input", "--index-url", index,
                f"anya-ext-{name}"]  # fmt: skip

    def uv_pip(target: Venv, name: str) -> list[str]:
        return [uv(), "pip", "install", "--python", str(target.python), "--index-url", index,
                f"anya-ext-{name}"]  # fmt: skip

    return [
        Installer(ANYA, anya(with_uv), ("ANYA_CACHE_DIR", "UV_CACHE_DIR"),
                  anya_ext=with_uv.script("anya-ext"), tool_inside="uv"),
        Installer(ANYA_PIP, anya(pip_only), ("ANYA_CACHE_DIR", "PIP_CACHE_DIR"),
                  {"PATH": path_without("uv"), "ANYA_INSTALL__TOOL": "pip"},
                  anya_ext=pip_only.script("anya-ext"),
                  tool_inside="pip"),
        Installer(PIP, pip, ("PIP_CACHE_DIR",)),
        Installer(UV, uv_pip, ("UV_CACHE_DIR",)),
    ]  # fmt: skip


def _fresh(target: Path, template: Path, caches: Sequence[Path]) -> Callable[[], None]:
    """Before each run: a fresh venv at ``target`` (a hard-linked copy of ``template``), and
    the ``caches`` emptied."""

    def prepare() -> None:
        shutil.rmtree(target, ignore_errors=True)
        for cache in caches:
            shutil.rmtree(cache, ignore_errors=True)
        shutil.copytree(template, target, symlinks=True, copy_function=os.link)

    return prepare


def _template_venv(path: Path, *, compiled: bool) -> Path:
    """A venv with pip, ``compiled`` as ``python -m venv`` (ensurepip) leaves it: ``uv venv
    --seed`` compiles nothing, and pip would pay for that in every fresh venv."""
    venv = make_venv(path, seed=True)
    if compiled:
        check_output([venv.python, "-m", "compileall", "-q", venv.site_packages], env=clean_env())
    return path


def _publish(
    registry: BenchRegistry, sigstore: LocalSigstore, dist_dir: Path, sizes: Sequence[int]
) -> list[str]:
    """Sign and upload the dependencies and one extension per size; the extension names."""
    dist_dir.mkdir()
    dependencies = [
        plain(f"bench-dep-{number:03d}", payload=DEPENDENCY_PAYLOAD) for number in range(max(sizes))
    ]
    dep_wheels = [write_wheel(dist, dist_dir) for dist in dependencies]
    if dep_wheels:
        log(f"install: signing and uploading {len(dep_wheels)} dependencies")
        upload(
            dep_wheels,
            f"{registry.url}/{DEPS_INDEX}/",
            registry.credentials,
            attestations=attest(sigstore, dep_wheels),
        )
    names = []
    extension_wheels = []
    for size in sizes:
        name = f"install-{size}"
        requires = tuple(f"{dist.name}>=1.0" for dist in dependencies[:size])
        extension_wheels.append(write_wheel(extension(name, requires=requires), dist_dir))
        names.append(name)
    log("install: anya-ext publish of the extensions (signed)")
    check_output(
        [beside_python("anya-ext"), "publish", "--url", registry.url, "--index",
         EXTENSIONS_INDEX, "--user", registry.credentials.user,
         "--trust-config", str(sigstore.trust_config_path),
         "--identity-token", sigstore.issue_token(IDENTITY), *map(str, extension_wheels)],
        env=clean_env(ANYA_PUBLISH_PASSWORD=registry.credentials.password),
    )  # fmt: skip
    _check_provenance(registry, [*dep_wheels, *extension_wheels])
    return names


def _check_provenance(registry: BenchRegistry, wheels: Sequence[Path]) -> None:
    """Every file is served with its attestation: else there would be nothing to verify."""
    client = registry.client()
    missing = [w.name for w in wheels if client.provenance(EXTENSIONS_INDEX, w.name) is None]
    if missing:
        raise BenchError(f"{EXTENSIONS_INDEX} serves no provenance for {', '.join(missing)}")


def _check_installed(
    venv: Venv, name: str, size: int, installer: Installer, env: dict[str, str]
) -> None:
    """After a tool's last run: the extension and its dependencies are installed; for
    anya-ext, each one verified as signed by the benchmark's publisher, and uv or pip used
    inside as intended."""
    listing = (
        "import json, importlib.metadata as m; print(json.dumps([d.metadata['Name'] "
        "for d in m.distributions()]))"
    )
    names = json.loads(check_output([venv.python, "-c", listing]))
    expected = {f"anya-ext-{name}", *(f"bench-dep-{n:03d}" for n in range(size))}
    if not expected <= set(names):
        raise BenchError(f"{installer.label} left out {sorted(expected - set(names))}")
    if installer.anya_ext is None:
        return
    checks = json.loads(
        check_output(
            [installer.anya_ext, "--json", "verify", "--all", "--python", venv.python], env=env
        )
    )
    unsigned = [c["name"] for c in checks if not c["ok"] or IDENTITY not in c["signature"]]
    if unsigned or not checks:
        raise BenchError(f"anya-ext installed files not verified as signed: {unsigned}")
    plan = json.loads(
        check_output(
            [installer.anya_ext, "--json", "install", "--dry-run", "--python", venv.python, name],
            env=env,
        )
    )
    used = {plan["resolver"], plan["installer"]}
    if used != {installer.tool_inside}:
        raise BenchError(f"{installer.label} resolved and installed with {sorted(used)}")


def _case_order(case: str, sizes: Sequence[int]) -> tuple[int, int]:
    size, _, state = case.partition(" deps, ")
    return sizes.index(int(size)), 0 if state == "cold" else 1


def _targets(rows: tuple[Row, ...], sizes: Sequence[int]) -> tuple[Target, ...]:
    cases = [f"{size} deps, {state}" for size in sizes for state in ("cold", "warm")]
    against: dict[str, list[tuple[str, float]]] = {PIP: [], UV: []}
    for case in cases:
        anya = find(rows, case, ANYA)
        for tool, found in against.items():
            other = find(rows, case, tool)
            if anya is None or other is None or not anya.value or not other.value:
                return ()
            found.append((case, anya.value / other.value))
    return (
        Target(
            "Verified `anya-ext install` no slower than unverified `pip install`",
            "; ".join(f"{case}: {ratio:.2f}x" for case, ratio in against[PIP]),
            all(ratio <= TARGET_VS_PIP for _, ratio in against[PIP]),
        ),
        Target(
            f"Verified `anya-ext install` within {TARGET_VS_UV}x of unverified `uv pip install`",
            "; ".join(f"{case}: {ratio:.2f}x" for case, ratio in against[UV]),
            all(ratio <= TARGET_VS_UV for _, ratio in against[UV]),
        ),
    )


def main(argv: list[str] | None = None) -> int:
    return run_alone(run, "Verified anya-ext install against pip and uv from a local devpi", argv)


if __name__ == "__main__":
    raise SystemExit(main())
