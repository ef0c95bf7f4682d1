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
compiled as ``python -m venv`` leaves it. Each case starts with an untimed warm-up run, and
the tools take turns run by run (ours, pip, uv, ours...), so that a change in the machine's
load during a case reaches all of them.

Nothing is deleted while the tools are timed: the last run's venv and caches are moved
aside (:func:`_retire`) and deleted with the section's work directory when the whole run
ends (:meth:`bench.options.Options.work_dir`), and the timed cases start
once the files deleted before them are out of the file system's memory
(:func:`bench.measure.settle`). On ext4 without a journal — this machine's root file
system — every new inode is found by skipping, one at a time, the free inodes deleted
in the last 60 s (6 min while their inode block is not yet written back): emptying the
last run's venv and caches right before a run (thousands of files) made each run pay for
the one before, in proportion to the files it creates — uv's own CPU time for a cold
100-dependency install went from 0.5 s to 2.3 s, and 43 % of all samples of the whole
install were spent in that scan (``perf``, ``recently_deleted``). A journaled ext4 (the
usual kind) never scans. The case :data:`JUST_DELETED` still measures that way, beside the
others, so that the report shows what it costs.

The floor: Python's own start-up, a Python process importing only what an install needs
(our install path, urllib3), and one importing only what verifying signatures needs (our
verifier, sigstore, pypi-attestations: what the process ``anya-ext`` starts to verify in,
beside its own, imports), each timed the same way and exiting as anya-ext does (the heap
frozen: ``cli.console.main``). A cold install cannot end before the later of the two.
uv starts in a few milliseconds; no Python program can, so where a target is out of reach
the report says how much of the gap is that floor.

From 50 dependencies on, cold, also the floor of the design (``bench/verified_floor.py``):
the leanest verified install, one uv run through the checked pages with each wheel served
only once it passed the transaction's per-file checks — without the journal, the
set-level checks, receipts and audit log the real install adds — timed in turn with the
tools.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
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
from bench.measure import (
    EXIT_AS_ANYA_EXT,
    START_AS_ANYA_EXT,
    BenchError,
    ProcessTiming,
    check_output,
    run_measuring_memory,
    settle,
)
from bench.options import Options, log, run_alone
from bench.registry import DEPS_INDEX, EXTENSIONS_INDEX, BenchRegistry, given_or_own
from bench.report import Row, Section, Target, find, with_ratios
from bench.signing import IDENTITY, attest, trust_toml

TITLE = "Install an extension and its dependencies from a local devpi"

SIZES = (0, 10, 50, 100)
WARM_SIZES = (50,)
"""Sizes also measured with warm caches."""
POPULATED_SIZES = (0,)
"""Sizes also installed (cold) into a venv that already holds many distributions."""
POPULATED = "cold, populated venv"
JUST_DELETED = "cold, right after deleting the last run's venv and caches"
JUST_DELETED_SIZES = (100,)
"""Sizes also installed cold with the last run's files deleted just before (as users who
``rm -rf`` a venv and install again at once do): not a target, see the module's notes."""
PIP_ONLY_SIZES = (0, 10)
"""Sizes at which anya-ext without uv is measured too (it is not what the targets use)."""
QUICK_SIZES = (1,)
RUNS = 5
DEPENDENCY_PAYLOAD = 20_000
"""Bytes of data in each dependency's module: small libraries, but not empty ones."""
TARGET_VS_PIP = 1.0
TARGET_VS_UV = 1.5
TARGET_VS_UV_WARM = 3.0
TARGET_VS_UV_FROM = 50
"""The targets against uv apply from this many dependencies on (cold), and warm."""
FLOOR_MODULES = (
    "anya_plugins.cli.main",
    "anya_plugins.install.service",
    "anya_plugins.install.trustcheck",
    "anya_plugins.sources.snapshot",
    "urllib3",
)
"""What any install imports (a warm one verifies nothing: its verdicts are remembered)."""
VERIFIER_MODULES = (
    "anya_plugins.trust.verify_process",
    "anya_plugins.trust.verification",
    "sigstore.models",
    "sigstore.verify",
    "pypi_attestations",
)
"""What the process an install verifies in imports (:mod:`anya_plugins.trust.verify_process`)."""

ANYA = "anya-ext install (verified), with uv"
ANYA_PIP = "anya-ext install (verified), pip only"
PIP = "pip install (unverified)"
UV = "uv pip install (unverified)"
DESIGN_FLOOR = "floor: one uv run through the checked pages, each file verified before it is served"
PYTHON_START = "floor: python -c pass"
PYTHON_FLOOR_WARM = "floor: python importing what an install needs"
PYTHON_FLOOR = "floor: python importing what verifying needs (its own process)"


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
    warm_sizes = options.sizes(WARM_SIZES, QUICK_SIZES)
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
        populated, held = _populated_venv(work / "populated", template, Venv(work / "anya-with-uv"))
        environments = {
            installer.label: {
                **env,
                **installer.env,
                **{name: str(work / "caches" / str(number) / name) for name in installer.caches},
            }
            for number, installer in enumerate(installers)
        }
        cases = [(size, "cold") for size in sizes] + [(size, "warm") for size in warm_sizes]
        cases += [(size, POPULATED) for size in options.sizes(POPULATED_SIZES, QUICK_SIZES)]
        # Last: the files it deletes would slow down every case after it (module notes).
        cases += [(size, JUST_DELETED) for size in options.sizes(JUST_DELETED_SIZES, QUICK_SIZES)]
        pip_only = options.sizes(PIP_ONLY_SIZES, QUICK_SIZES)

        def runs_at(installer: Installer, size: int, state: str) -> bool:
            if installer.label == DESIGN_FLOOR:  # a quick run, too: so that it keeps working
                return state == "cold" and (size >= TARGET_VS_UV_FROM or options.quick)
            if state == JUST_DELETED:
                return installer.label in (ANYA, UV)
            return installer.label != ANYA_PIP or size in pip_only

        if not options.quick:
            log("install: waiting for the files deleted before to be forgotten")
            settle()
        for size, state in cases:
            chosen = [installer for installer in installers if runs_at(installer, size, state)]
            log(f"install: {size} dependencies, {state} cache, {len(chosen)} tools in turn")
            name = extensions[sizes.index(size)]
            timed = [
                _Timed(
                    installer.label,
                    installer.command(Venv(target), name),
                    environments[installer.label],
                    _fresh(
                        target,
                        populated if state == POPULATED else template,
                        _caches(environments[installer.label], installer, cold=state != "warm"),
                        delete=state == JUST_DELETED,
                    ),
                )
                for installer in chosen
            ]
            warmup = 0 if options.quick and state == "cold" else 1
            timings = _interleaved(timed, runs=runs, warmup=warmup)
            rows += [
                Row(f"{size} deps, {state}", label, timing.median_s, "s", detail=timing.detail())
                for label, timing in timings.items()
            ]
        for installer in installers:
            ran = [size for size, state in cases if runs_at(installer, size, state)]
            if not ran:
                continue
            size = max(ran)
            _fresh(target, template, ())()
            name = extensions[sizes.index(size)]
            installer_env = environments[installer.label]
            check_output(installer.command(Venv(target), name), env=installer_env)
            _check_installed(Venv(target), name, size, installer, installer_env)
        rows += _floor(Venv(work / "anya-with-uv"), runs if options.quick else max(runs, 5))
        pip_version = check_output([Venv(target).python, "-m", "pip", "--version"]).split()[1]
    tools = [installer.label for installer in installers]
    tools += [PYTHON_START, PYTHON_FLOOR_WARM, PYTHON_FLOOR]
    case_order = [f"{size} deps, {state}" for size, state in cases]
    ordered = sorted(
        rows,
        key=lambda row: (
            case_order.index(row.case) if row.case in case_order else len(case_order),
            tools.index(row.tool),
        ),
    )
    rows_with_ratios = with_ratios(ordered, UV)
    return Section(
        "install",
        TITLE,
        UV,
        rows_with_ratios,
        _targets(rows_with_ratios, cases),
        (
            f"pip {pip_version} (seeded by `uv venv --seed`, then compiled as ensurepip would) "
            "and this environment's uv; each run installs into a fresh venv (made untimed) "
            "from the same index and files; the tools take turns, run by run.",
            f"{POPULATED}: the same fresh venv holding also the {held} distributions "
            "anya-plugins itself installs with (`uv pip freeze` of its venv), as a user's "
            "environment would hold them: what each tool reads of the environment shows.",
            "No advisory database is installed, so `anya-ext install` skips its vulnerability "
            "gate (and says so); its cost is not in these figures.",
            "anya-ext resolves with `uv pip install --dry-run` against the pages it fetched and "
            "checked itself (served to uv on 127.0.0.1), fetches each file and its provenance "
            "while uv still resolves, verifies hashes, provenance (PEP 740, local Sigstore; a "
            "verdict is remembered per file, policy and trusted root with the provenance it "
            "was verified with, so a warm run neither verifies nor fetches it again) and the "
            "contract, then installs the verified files with uv (from staged paths in its "
            "cache, so uv reuses what it unpacked), under its journal; it also writes "
            "receipts, pins and the audit log. It runs from a venv of its own, as a user "
            "installs it; the targets use it with uv.",
            f"{DESIGN_FLOOR} (`bench/verified_floor.py`, from {TARGET_VS_UV_FROM} dependencies "
            "on, cold): the leanest verified install, not built — uv resolves, downloads and "
            "installs once, through the checked pages, and each wheel is served to it only "
            "after the transaction's per-file checks passed on it (its signature verified by "
            "the process started first thing); the fingerprints are written. It leaves out "
            "the journal, the vulnerability gate (which needs the whole plan before anything "
            "installs), receipts, pins and the audit log, so no verified install of this shape "
            "can be faster.",
            *_floor_notes(rows_with_ratios),
            *_deletion_notes(rows_with_ratios),
        ),
    )


@dataclass(frozen=True)
class _Timed:
    label: str
    command: list[str]
    env: dict[str, str]
    before: Callable[[], None]


def _interleaved(commands: Sequence[_Timed], *, runs: int, warmup: int) -> dict[str, ProcessTiming]:
    """Each command ``warmup`` times untimed, then ``runs`` timed runs taking turns: the load
    of a shared machine changes over minutes, and this way it reaches every tool alike. Peak
    memory from the timed runs themselves (under ``/usr/bin/time``)."""
    for _ in range(warmup):
        for timed in commands:
            timed.before()
            run_measuring_memory(timed.command, env=timed.env)
    seconds: dict[str, list[float]] = {timed.label: [] for timed in commands}
    peaks: dict[str, list[int]] = {timed.label: [] for timed in commands}
    for _ in range(runs):
        for timed in commands:
            timed.before()
            started = time.perf_counter()
            peak = run_measuring_memory(timed.command, env=timed.env)
            seconds[timed.label].append(time.perf_counter() - started)
            if peak is not None:
                peaks[timed.label].append(peak)
    return {
        label: ProcessTiming(tuple(seconds[label]), max(peaks[label]) if peaks[label] else None)
        for label in seconds
    }


def _caches(env: dict[str, str], installer: Installer, *, cold: bool) -> list[Path]:
    return [Path(env[name]) for name in installer.caches] if cold else []


def _floor(venv: Venv, runs: int) -> list[Row]:
    """Python's start-up, and a process importing only what a verified install needs, each
    timed ``runs`` times (a measuring run asks at least 5: each takes a fraction of a
    second; a quick run, one)."""

    def importing(label: str, modules: Sequence[str]) -> _Timed:
        imports = [f"import {module}" for module in modules]
        code = "; ".join([START_AS_ANYA_EXT, *imports, EXIT_AS_ANYA_EXT]) if imports else "pass"
        return _Timed(label, [str(venv.python), "-c", code], clean_env(), lambda: None)

    timings = _interleaved(
        [
            importing(PYTHON_START, ()),
            importing(PYTHON_FLOOR_WARM, FLOOR_MODULES),
            importing(PYTHON_FLOOR, VERIFIER_MODULES),
        ],
        runs=runs,
        warmup=1,
    )
    return [
        Row(FLOOR_CASE, label, timing.median_s, "s", detail=timing.detail())
        for label, timing in timings.items()
    ]


FLOOR_CASE = "floor"


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

    def design_floor(target: Venv, name: str) -> list[str]:
        return [str(with_uv.python), "-P", str(Path(__file__).with_name("verified_floor.py")),
                f"anya-ext-{name}", str(target.python), uv()]  # fmt: skip

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
        Installer(DESIGN_FLOOR, design_floor, ("ANYA_CACHE_DIR", "UV_CACHE_DIR")),
    ]  # fmt: skip


def _fresh(
    target: Path, template: Path, caches: Sequence[Path], *, delete: bool = False
) -> Callable[[], None]:
    """Before each run: a fresh venv at ``target`` (a hard-linked copy of ``template``), and
    the ``caches`` emptied: the last run's moved aside (:func:`_retire`), or, ``delete``,
    deleted."""

    def prepare() -> None:
        for path in (target, *caches):
            if delete:
                shutil.rmtree(path, ignore_errors=True)
            else:
                _retire(path)
        shutil.copytree(template, target, symlinks=True, copy_function=os.link)

    return prepare


def _retire(path: Path) -> None:
    """Move ``path`` (if there) into ``.retired/`` beside it, out of the next run's way but
    not deleted: it is deleted with the section's work directory when the whole run ends
    (see the module's notes)."""
    if not path.exists():
        return
    retired = path.parent / ".retired"
    retired.mkdir(exist_ok=True)
    path.rename(retired / f"{path.name}-{uuid.uuid4().hex}")


def _populated_venv(path: Path, template: Path, source: Venv) -> tuple[Path, int]:
    """A copy of ``template`` holding also what ``source`` holds but anya-plugins (the
    versions installed there, from uv's cache); and how many distributions it holds."""
    shutil.copytree(template, path, symlinks=True, copy_function=os.link)
    frozen = check_output([uv(), "pip", "freeze", "--python", str(source.python)])
    requirements = path.parent / f"{path.name}-requirements.txt"
    requirements.write_text(
        "".join(f"{line}\n" for line in frozen.splitlines() if "anya" not in line.lower())
    )
    venv = Venv(path)
    check_output([uv(), "pip", "install", "--quiet", "--python", str(venv.python),
                  "--requirement", str(requirements)])  # fmt: skip
    return path, len(list(venv.site_packages.glob("*.dist-info")))


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


def _targets(rows: tuple[Row, ...], cases: Sequence[tuple[int, str]]) -> tuple[Target, ...]:
    """One target per case, as the benchmark issue states them: ``anya-ext install`` (with
    uv) against pip always, and against uv from :data:`TARGET_VS_UV_FROM` dependencies on
    (and warm)."""
    targets = []
    for size, state in cases:
        case = f"{size} deps, {state}"
        ours, pip, uv_row = (find(rows, case, tool) for tool in (ANYA, PIP, UV))
        if not (ours and pip and uv_row and ours.value and pip.value and uv_row.value):
            continue
        limits = [(PIP, pip.value, TARGET_VS_PIP)]
        if state == "warm":
            limits.append((UV, uv_row.value, TARGET_VS_UV_WARM))
        elif size >= TARGET_VS_UV_FROM:
            limits.append((UV, uv_row.value, TARGET_VS_UV))
        goal = " and ".join(f"≤ {limit:.1f}x {tool.split()[0]}" for tool, _, limit in limits)
        ratios = [(tool, ours.value / value, limit) for tool, value, limit in limits]
        measured = f"{_ms(ours.value)} vs pip {_ms(pip.value)}, uv {_ms(uv_row.value)}: " + (
            ", ".join(f"{ratio:.2f}x {tool.split()[0]}" for tool, ratio, _ in ratios)
        )
        if state != "warm" and size < TARGET_VS_UV_FROM:
            measured += f" ({ours.value / uv_row.value:.1f}x uv)"
        design = find(rows, case, DESIGN_FLOOR)
        if design is not None and design.value:
            measured += (
                f"; the floor of a verified design, one uv run with each file verified "
                f"before it is served: {_ms(design.value)}, "
                f"{design.value / uv_row.value:.2f}x uv"
            )
        where = f"{state} cache" if state in ("cold", "warm") else state
        targets.append(
            Target(
                f"Verified `anya-ext install`, {size} deps, {where}: {goal}",
                measured,
                all(ratio <= limit for _, ratio, limit in ratios),
            )
        )
    return tuple(targets)


def _floor_notes(rows: Sequence[Row]) -> tuple[str, ...]:
    """What the floor says about the targets against uv."""
    start, warm, cold = (
        find(rows, FLOOR_CASE, tool) for tool in (PYTHON_START, PYTHON_FLOOR_WARM, PYTHON_FLOOR)
    )
    if not (start and warm and cold and start.value and warm.value and cold.value):
        return ()
    notes = [
        f"Floor: Python starts in {_ms(start.value)}; a Python process importing only what "
        f"an install needs takes {_ms(warm.value)}, and one importing only what verifying "
        f"signatures needs {_ms(cold.value)} (sigstore, pypi-attestations: imported by a "
        "process of its own that anya-ext starts as it begins, beside its own imports, and "
        "ends at once when every verdict may be remembered). A cold install ends after the "
        "later of the two, a warm one after the first; no Python program doing the same work "
        "can finish sooner. uv, a native program, starts in milliseconds."
    ]
    for row in rows:
        uv_row, pip_row = find(rows, row.case, UV), find(rows, row.case, PIP)
        if row.tool != ANYA or row.value is None or uv_row is None or not uv_row.value:
            continue
        floor = warm.value if row.case.endswith("warm") else max(warm.value, cold.value)
        against_pip = ""
        if pip_row is not None and pip_row.value:
            against_pip = f", {floor / pip_row.value:.2f}x pip's whole install"
            if floor > pip_row.value:
                against_pip += ": an install importing these modules cannot meet 1.0x pip"
        notes.append(
            f"{row.case}: ours {_ms(row.value)} = floor {_ms(floor)} + "
            f"{_ms(row.value - floor)} of work; uv {_ms(uv_row.value)} in all "
            f"(the floor alone is {floor / uv_row.value:.1f}x uv{against_pip})."
        )
    return tuple(notes)


def _deletion_notes(rows: Sequence[Row]) -> tuple[str, ...]:
    """What deleting the last run's files just before costs, beside the same case without."""
    notes = []
    for row in rows:
        if row.tool != ANYA or not row.case.endswith(JUST_DELETED):
            continue
        size = row.case.split()[0]
        ours, uv_now = row.value, _value(rows, row.case, UV)
        ours_kept, uv_kept = (_value(rows, f"{size} deps, cold", tool) for tool in (ANYA, UV))
        if not (ours and uv_now and ours_kept and uv_kept):
            continue
        notes.append(
            f"{row.case} (not a target): ours {_ms(ours)}, uv {_ms(uv_now)}, "
            f"{ours / uv_now:.2f}x uv; with nothing deleted ({size} deps, cold) ours "
            f"{_ms(ours_kept)}, uv {_ms(uv_kept)}, {ours_kept / uv_kept:.2f}x uv. The "
            "difference is ext4 without a journal skipping the inodes freed in the last "
            "minutes, for every file each tool creates (module notes); a journaled ext4 "
            "does not."
        )
    return tuple(notes)


def _value(rows: Sequence[Row], case: str, tool: str) -> float | None:
    row = find(rows, case, tool)
    return None if row is None else row.value


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def main(argv: list[str] | None = None) -> int:
    return run_alone(run, "Verified anya-ext install against pip and uv from a local devpi", argv)


if __name__ == "__main__":
    raise SystemExit(main())
