"""TUF verification cost per install: the same ``anya-ext install`` with and without the
source's ``tuf_root``, against one registry that signs TUF metadata.

A registry of its own runs with ``--anya-tuf`` (a TUF directory made by
``anya_plugins.registry.tuf_repository.init_repository``, as ``anya-ext registry tuf init``
makes it) and one index, ``bench/tuf``, under TUF, holding an extension with 0 and one with
10 dependencies. Each run installs into a fresh venv with cold caches — the TUF state on the
machine included, so every metadata file is fetched and verified (root, timestamp, snapshot,
targets, the index role, one file list per project). Signatures are not required here: the
difference between the two installs, taken run by run (they take turns), is what TUF adds,
and the goal is that it stay under 10% of the install. The TUF check alone, in a process of
its own, is shown beside it: its whole cost one step after another, an upper bound.
"""

from __future__ import annotations

import shutil
import statistics
from pathlib import Path

from anya_plugins.publish.uploading import upload
from anya_plugins.registry.devpi import Credentials, DevpiClient
from bench.environments import Venv, anya_venv, clean_env, extension, plain, write_wheel
from bench.install import DEPENDENCY_PAYLOAD, _fresh, _interleaved, _template_venv, _Timed
from bench.measure import (
    EXIT_AS_ANYA_EXT,
    START_AS_ANYA_EXT,
    BenchError,
    ProcessTiming,
    check_output,
    settle,
)
from bench.options import Options, log, run_alone
from bench.report import Row, Section, Target, find, with_ratios

TITLE = "TUF verification cost per install"
INDEX = "bench/tuf"
USER = "bench"
PASSWORD = "bench-tuf-password-not-secret"
SIZES = (0, 10)
QUICK_SIZES = (1,)
RUNS = 7
GOAL = 0.10
"""TUF may add at most this fraction to an install's time."""
PLAIN = "anya-ext install (verified hashes), no TUF"
WITH_TUF = "anya-ext install, pages checked against TUF"
TUF_ALONE = "TUF alone: a fresh process verifying the install's file lists"
TUF_FLOOR = "floor: the same process, verifying nothing"
ADDED = "added by TUF: median of the run-by-run differences of the two installs"
_TUF_ALONE_SCRIPT = f"""
{START_AS_ANYA_EXT}
import sys
from pathlib import Path
from anya_plugins.sources.http import HttpClient
from anya_plugins.sources.tuf_client import TufVerifier, tuf_source
source, root, cache, *projects = sys.argv[1:]
if projects:
    verifier = TufVerifier(tuf_source(source, Path(root), Path(cache)), HttpClient(timeout=30))
    for project in projects:
        verifier.vouched_files(project, f"{{source}}{{project}}/")
{EXIT_AS_ANYA_EXT}
"""


def run(options: Options) -> Section:
    from anya_plugins.registry import server
    from anya_plugins.registry.tuf_repository import init_repository

    sizes = options.sizes(SIZES, QUICK_SIZES)
    runs = options.repeats(RUNS)
    rows: list[Row] = []
    with options.work_dir("tuf") as work:
        ceremony = init_repository(work / "tuf", work / "offline", [INDEX])
        running = server.start(
            work / "registry", extra_options=[f"--anya-tuf={ceremony.directory}"]
        )
        try:
            names = _publish(running.url, running.admin, work / "dist", sizes)
            log("tuf: a venv with anya-plugins and uv")
            anya = anya_venv(work / "anya", "uv")
            target = work / "target"
            template = _template_venv(work / "template", compiled=not options.quick)
            base_env = clean_env(
                HOME=str(work / "home"),
                ANYA_DATA_DIR=str(work / "home" / "data"),
                ANYA_SOURCES__PRIMARY__URL=f"{running.url}/{INDEX}/+simple/",
                ANYA_TRUST__REQUIRE_SIGNATURES="false",
                PIP_DISABLE_PIP_VERSION_CHECK="1",
            )
            if not options.quick:  # see bench.install: nothing deleted while installs are timed
                log("tuf: waiting for the files deleted before to be forgotten")
                settle()
            for size, name in zip(sizes, names, strict=True):
                log(f"tuf: {size} dependencies, cold caches, with and without TUF in turn")
                timed = []
                for label, extra in (
                    (PLAIN, {}),
                    (WITH_TUF, {"ANYA_SOURCES__PRIMARY__TUF_ROOT": str(ceremony.trusted_root)}),
                ):
                    caches = {
                        "ANYA_CACHE_DIR": work / "caches" / label[:12] / "anya",
                        "UV_CACHE_DIR": work / "caches" / label[:12] / "uv",
                    }
                    env = {**base_env, **extra, **{k: str(v) for k, v in caches.items()}}
                    command = [str(anya.script("anya-ext")), "install", "--python",
                               str(Venv(target).python), name]  # fmt: skip
                    timed.append(
                        _Timed(label, command, env, _fresh(target, template, list(caches.values())))
                    )
                _check_tuf_used(timed[1], target, template)
                projects = [f"anya-ext-{name}", *(f"bench-tuf-dep-{n:03d}" for n in range(size))]
                source = base_env["ANYA_SOURCES__PRIMARY__URL"]
                timed += [
                    _tuf_alone(TUF_ALONE, anya, source, ceremony.trusted_root, work, projects),
                    _tuf_alone(TUF_FLOOR, anya, source, ceremony.trusted_root, work, []),
                ]
                timings = _interleaved(timed, runs=runs, warmup=0 if options.quick else 1)
                rows += [
                    Row(f"{size} deps, cold", label, timing.median_s, "s", detail=timing.detail())
                    for label, timing in timings.items()
                ]
                rows.append(_added(f"{size} deps, cold", timings[PLAIN], timings[WITH_TUF]))
        finally:
            server.stop(work / "registry")
    rows_with_ratios = with_ratios(rows, PLAIN)
    return Section(
        "tuf",
        TITLE,
        PLAIN,
        rows_with_ratios,
        _targets(rows_with_ratios, sizes),
        (
            "Both rows are the same anya-ext, registry and files; the second has "
            "sources.primary.tuf_root set, so every page the install reads is checked against "
            "the index's TUF file list (python-tuf ngclient; metadata fetched cold each run).",
            "The goal is judged on what TUF adds to the install: the two installs take turns, "
            "and the last row is the median of their run-by-run differences (each pair ran "
            "under the same load). The third row is the TUF check alone and the fourth the same "
            "process checking nothing (Python and the HTTP client an install starts anyway): "
            "their difference is its whole cost done one step after another, an upper bound — "
            "in the install it runs in a thread while the pages and files are fetched. The "
            "check: python-tuf imported, root, timestamp, snapshot, targets and the index role "
            "refreshed, the file list of each project the install reads fetched and verified.",
        ),
    )


def _added(case: str, plain: ProcessTiming, with_tuf: ProcessTiming) -> Row:
    """What TUF adds to an install, run by run: the two installs take turns, so each pair
    ran under the same load of the machine, and the median of their differences is steadier
    than the difference of the two medians."""
    differences = sorted(b - a for a, b in zip(plain.seconds, with_tuf.seconds, strict=True))
    spread = f"{differences[0] * 1000:+.0f} to {differences[-1] * 1000:+.0f} ms"
    return Row(
        case,
        ADDED,
        statistics.median(differences),
        "s",
        detail=f"{len(differences)} pairs, {spread}",
    )


def _publish(url: str, admin: Credentials, dist_dir: Path, sizes: tuple[int, ...]) -> list[str]:
    """A user and the TUF index, the dependencies and one extension per size."""
    client = DevpiClient(url)
    client.login(admin)
    client.create_user(USER, PASSWORD)
    client.create_index(INDEX, {"type": "stage", "bases": [], "acl_upload": [USER]})
    dist_dir.mkdir()
    dependencies = [
        plain(f"bench-tuf-dep-{n:03d}", payload=DEPENDENCY_PAYLOAD) for n in range(max(sizes))
    ]
    wheels = [write_wheel(dist, dist_dir) for dist in dependencies]
    names = []
    for size in sizes:
        requires = tuple(f"{dist.name}>=1.0" for dist in dependencies[:size])
        wheels.append(write_wheel(extension(f"tuf-{size}", requires=requires), dist_dir))
        names.append(f"tuf-{size}")
    log(f"tuf: uploading {len(wheels)} wheels")
    upload(wheels, f"{url}/{INDEX}/", Credentials(USER, PASSWORD))
    return names


def _tuf_alone(
    label: str, anya: Venv, source: str, root: Path, work: Path, projects: list[str]
) -> _Timed:
    """What TUF costs an install by itself: python-tuf imported, the metadata refreshed and
    one file list per project fetched and verified, cold, in a process of its own (without
    projects: the same process doing nothing, the floor to subtract)."""
    cache = work / "tuf-alone"
    command = [str(anya.python), "-c", _TUF_ALONE_SCRIPT, source, str(root), str(cache), *projects]
    return _Timed(label, command, clean_env(), lambda: shutil.rmtree(cache, ignore_errors=True))


def _check_tuf_used(with_tuf: _Timed, target: Path, template: Path) -> None:
    """One untimed install with TUF: it must leave the verified TUF state in its cache."""
    with_tuf.before()
    check_output(with_tuf.command, env=with_tuf.env)
    if not any(Path(with_tuf.env["ANYA_CACHE_DIR"]).rglob("tuf/*/timestamp.json")):
        raise BenchError("the install with tuf_root verified no TUF metadata")
    _fresh(target, template, ())()


def _targets(rows: tuple[Row, ...], sizes: tuple[int, ...]) -> tuple[Target, ...]:
    targets = []
    for size in sizes:
        case = f"{size} deps, cold"
        plain_row, tuf_row = find(rows, case, PLAIN), find(rows, case, WITH_TUF)
        alone, floor = find(rows, case, TUF_ALONE), find(rows, case, TUF_FLOOR)
        added_row = find(rows, case, ADDED)
        if not (plain_row and tuf_row and alone and floor and added_row and plain_row.value):
            continue
        added = (added_row.value or 0.0) / plain_row.value
        alone_s = (alone.value or 0.0) - (floor.value or 0.0)
        targets.append(
            Target(
                f"TUF costs under {GOAL:.0%} of an install ({size} dependencies, cold)",
                f"adds {added:+.1%} ({(added_row.value or 0.0) * 1000:+.0f} ms, run by run); "
                f"alone, one step after another in a process of its own: "
                f"{alone_s / plain_row.value:.1%} ({alone_s * 1000:.0f} ms)",
                added < GOAL,
            )
        )
    return tuple(targets)


def main(argv: list[str] | None = None) -> int:
    return run_alone(run, TITLE, argv)


if __name__ == "__main__":
    raise SystemExit(main())
