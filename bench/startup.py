"""Host start-up, discovery and activation: fresh processes listing and loading extensions.

With N = 0, 10, 100 and 1,000 extensions installed in a throwaway venv (generated straight
into site-packages: a module and a ``.dist-info`` each; each module shaped like the
template's, with a configuration schema of its own and configure, activate and health
hooks), every tool runs as a fresh process:

- ``python -c pass``: the floor every Python program pays;
- the Anya Host, cold (``ANYA_NO_DISCOVERY_CACHE=1``) and with its discovery cache warm;
- ``anya-ext --json list --no-load``: the same listing through the CLI, and its floor: a
  ``python -c`` that parses the same command line with argparse, lists with the Host and
  writes the extensions' fields with ``json.dumps`` (what any Python CLI doing it pays);
- ``Host().activate_all()`` and ``anya-ext list``: every extension imported, configured
  (its section validated against its schema) and activated;
- ``importlib.metadata.entry_points(group=...)``: lists, imports nothing (what the Host's
  cold scan builds on);
- pluggy's ``PluginManager.load_setuptools_entrypoints``: imports every extension;
- stevedore's ``ExtensionManager``, without and with its entry-point cache: imports every
  extension too.

Then, at the largest N, the same extensions as ``anya-ext install`` leaves them (a feature
each, a receipt and the fingerprints of their files): ``anya-ext --json list --no-load``
beside its floor, which adds the Host's check of every installed file.

The tools take turns (one run of each, then the next round), so a machine whose load
changes during the run weighs on all of them alike.

The venv also holds anya-plugins' own dependencies, as a user's environment would. Before
the warm runs the site-packages mtime is set one minute back: the discovery cache is not
trusted within two seconds of the newest watched mtime, and a freshly written directory
would never give a hit.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.environments import (
    ENTRY_POINT_GROUP,
    Venv,
    anya_venv,
    clean_env,
    extension,
    write_installed,
)
from bench.measure import START_AS_ANYA_EXT, BenchError, check_output, run_process
from bench.options import Options, log, run_alone
from bench.report import Row, Section, Target, find, with_ratios

TITLE = "Host start-up and discovery (fresh process)"

SIZES = (0, 10, 100, 1000)
QUICK_SIZES = (2,)
RUNS = 11
LOADING_RUNS = 5
"""Runs of the tools that import every extension (seconds each at N = 1,000)."""
TARGET_SIZE = 1000
TARGET_OVER_BASELINE_MS = 30.0
TARGET_FASTER_THAN_PLUGGY = 10.0

BASELINE = "python -c pass"
ANYA_COLD = "Anya Host, cold (no cache)"
ANYA_WARM = "Anya Host, warm cache"
CLI_LIST = "`anya-ext --json list --no-load`, warm cache"
ACTIVATE_ALL = "Anya `Host().activate_all()` (imports, configures, activates all)"
CLI_LIST_LOADED = "`anya-ext list` (imports, configures, activates all)"
CLI_FLOOR = "floor of a CLI listing: argparse + the Host's listing + json.dumps (python -c)"
PLUGGY = "pluggy load_setuptools_entrypoints (imports all)"
CLI_FLOOR_CHECKED = (
    "floor of a CLI listing extensions Anya installed: the floor above + the Host's check of "
    "their installed files (python -c)"
)
INSTALLED_BY_ANYA = "installed by anya-ext"
"""The case of the same extensions with a feature each, a receipt and install fingerprints."""
LOADING = (ACTIVATE_ALL, CLI_LIST_LOADED, PLUGGY)

EXTENSION_MODULE = '''"""A generated extension like the template's: a schema and lifecycle hooks."""

from anya_plugins import hookimpl

CONFIG_SCHEMA = {{
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "{name} configuration",
    "type": "object",
    "properties": {{
        "greeting": {{"type": "string", "minLength": 1, "default": "hello",
                      "description": "The word {name} greets with."}},
        "verbose": {{"type": "boolean", "default": False, "description": "Log each greeting."}},
    }},
    "additionalProperties": False,
}}
_config = {{}}


@hookimpl
def anya_config_schema():
    return CONFIG_SCHEMA


@hookimpl
def anya_configure(config):
    _config.update(config)


@hookimpl
def anya_activate(context):
    _config.update(context.config)


@hookimpl
def anya_health():
    return None
'''
"""Each extension's schema is its own (its name is in it), as with the template."""

_HOST = "from anya_plugins import Host; h = Host(); e = h.extensions"
_HOST_COUNT = f"{_HOST}; print(len(e), sum(x.status == 'enabled' for x in e), h.cache_hit)"
_STEVEDORE = f"from stevedore import ExtensionManager; m = ExtensionManager({ENTRY_POINT_GROUP!r})"
_PLUGGY = (
    "import pluggy; pm = pluggy.PluginManager('anya'); "
    f"n = pm.load_setuptools_entrypoints({ENTRY_POINT_GROUP!r})"
)
_ACTIVATE = "from anya_plugins import Host; h = Host(); h.activate_all()"
_ACTIVATE_COUNT = f"{_ACTIVATE}; print(sum(e.status == 'active' for e in h.extensions))"
_ENTRY_POINTS = (
    f"from importlib.metadata import entry_points; e = entry_points(group={ENTRY_POINT_GROUP!r})"
)
_CLI_FLOOR_PARSE = (
    f"{START_AS_ANYA_EXT}; "
    "import argparse, json, sys; from anya_plugins import Host; "
    "p = argparse.ArgumentParser(prog='anya-ext'); p.add_argument('--json', action='store_true'); "
    "p.add_subparsers(dest='command').add_parser('list').add_argument('--no-load', "
    "action='store_true'); p.parse_args(['--json', 'list', '--no-load']); "
    "e = Host().extensions"
)
_CLI_FLOOR = (
    f"{_CLI_FLOOR_PARSE}; sys.stdout.write(json.dumps([{{'name': x.name, "
    "'distribution': x.dist_name, 'version': x.version, 'category': x.category, "
    "'status': x.status, 'summary': x.summary, 'host_api': x.host_api, "
    "'wheel_tags': x.wheel_tags, 'entry_point': x.entry_point, 'location': x.location, "
    "'error': x.error} for x in e], sort_keys=True))"
)
"""The floor of any Python CLI listing the extensions as JSON: collecting garbage as rarely
as anya-ext does, argparse parsing the same command line, the Host's (cached) listing, and
json writing eleven of each extension's fields. No integrity check, no features, no error
handling."""
_CLI_FLOOR_CHECKED = _CLI_FLOOR.replace(
    "e = Host().extensions", "h = Host(); h.check_integrity(); e = h.extensions"
)
"""The same floor for extensions Anya installed: the Host also stats each installed file
against the fingerprints taken at install (what ``list`` reports as integrity; a promise
no cache can keep for it, since a file edited in place changes no directory)."""
assert _CLI_FLOOR_CHECKED != _CLI_FLOOR

_WRITE_RECEIPTS = """
import json, secrets
from importlib.metadata import distributions
from anya_plugins.install.environment import TargetEnvironment
from anya_plugins.install.receipts import Receipt, write_all_fingerprints, write_receipt

env = TargetEnvironment.of()
names = sorted(d.metadata["Name"] for d in distributions()
               if d.metadata["Name"].startswith("anya-ext-bench-"))
for name in names:
    filename = name.replace("-", "_") + "-1.0.0-py3-none-any.whl"
    provenance = json.dumps({"version": 1, "attestation_bundles": [{
        "publisher": {"kind": "anya-bench", "repository": "generated"},
        "attestations": [{"version": 1, "verification_material": {
            "certificate": secrets.token_urlsafe(1050), "transparency_entries": []},
            "envelope": {"statement": secrets.token_urlsafe(2520),
                         "signature": secrets.token_urlsafe(72)}}]}]})
    write_receipt(env, Receipt(
        name, "1.0.0", filename, secrets.token_hex(32),
        "http://127.0.0.1:3141/anya/primary/+f/000/" + filename, "default",
        "http://127.0.0.1:3141/anya/primary/+simple/", ("metrics",), True,
        provenance=provenance, signer="release@anya.example", issuer="https://issuer.example"))
write_all_fingerprints(env, names)
print(len(names))
"""
"""Run in the bench venv: for every generated extension, the receipt and the fingerprints
``anya-ext install`` writes, by the same functions; the provenance in each receipt is random
text in the shape and size of a real one (~4.9 KB), which ``list`` parses but never checks."""


@dataclass(frozen=True)
class Tool:
    label: str
    code: str
    count_code: str
    """Prints how many extensions the tool saw (and, for the Host, how many are enabled
    and whether the cache was hit), to check that it did the work being timed."""
    env: dict[str, str] = field(default_factory=dict)
    script: str = ""
    """A console script of the venv to run instead of ``python -c``, with ``code`` as its
    arguments (space-separated)."""

    def command(self, venv: Venv, count: bool = False) -> list[str | Path]:
        if self.script:
            return [venv.script(self.script), *(self.count_code if count else self.code).split()]
        return [venv.python, "-c", self.count_code if count else self.code]


def _tools(home: Path) -> list[Tool]:
    no_cache, with_cache = home / "stevedore-no-cache", home / "stevedore-cache"
    no_cache.mkdir(parents=True, exist_ok=True)
    # stevedore's documented switch: a .disable file in its cache directory.
    (no_cache / "python-entrypoints").mkdir(exist_ok=True)
    (no_cache / "python-entrypoints" / ".disable").touch()
    return [
        Tool(BASELINE, "pass", "print(0)"),
        Tool(ANYA_COLD, _HOST, _HOST_COUNT, {"ANYA_NO_DISCOVERY_CACHE": "1"}),
        Tool(ANYA_WARM, _HOST, _HOST_COUNT),
        Tool(CLI_LIST, "--json list --no-load", "--json list --no-load", script="anya-ext"),
        Tool(CLI_FLOOR, _CLI_FLOOR, f"{_CLI_FLOOR_PARSE}; print(len(e))"),
        Tool(ACTIVATE_ALL, _ACTIVATE, _ACTIVATE_COUNT),
        Tool(CLI_LIST_LOADED, "list", "--json list", script="anya-ext"),
        Tool("importlib.metadata entry_points (lists only)", _ENTRY_POINTS,
             f"{_ENTRY_POINTS}; print(len(e))"),
        Tool(PLUGGY, _PLUGGY, f"{_PLUGGY}; print(n)"),
        Tool("stevedore ExtensionManager, no cache (imports all)", _STEVEDORE,
             f"{_STEVEDORE}; print(len(m.extensions))", {"XDG_CACHE_HOME": str(no_cache)}),
        Tool("stevedore ExtensionManager, cache (imports all)", _STEVEDORE,
             f"{_STEVEDORE}; print(len(m.extensions))", {"XDG_CACHE_HOME": str(with_cache)}),
    ]  # fmt: skip


def run(options: Options) -> Section:
    sizes = options.sizes(SIZES, QUICK_SIZES)
    runs = options.repeats(RUNS)
    with options.work_dir("startup") as work:
        log("startup: making a venv with anya-plugins and stevedore")
        venv = anya_venv(work / "venv", "stevedore")
        home = work / "home"
        home.mkdir()
        tools = _tools(home)
        rows: list[Row] = []
        installed = 0
        for size in sizes:
            for number in range(installed, size):
                name = f"bench-{number:04d}"
                module = EXTENSION_MODULE.format(name=name)
                write_installed(extension(name, module=module), venv.site_packages)
            installed = size
            rows += _measure_size(venv, home, tools, size, runs)
        rows += _measure_installed_by_anya(venv, home, installed, runs)
        dependencies = len(_dependencies(venv))
    rows_with_ratios = with_ratios(rows, ANYA_WARM)
    return Section(
        "startup",
        TITLE,
        ANYA_WARM,
        rows_with_ratios,
        _targets(rows_with_ratios, max(sizes)),
        (
            "Each tool: `python -c '<code>'` (or `anya-ext ...`) in a fresh process, median "
            f"wall time of {runs} runs ({min(runs, LOADING_RUNS)} for the tools that import every "
            "extension), the tools taking turns. pluggy and stevedore import every extension "
            "(that is what they offer); the Host, `anya-ext list --no-load` and "
            "importlib.metadata only list them; `activate_all()` and `anya-ext list` also "
            "validate each extension's section against its schema and call its "
            "configure and activate hooks.",
            f"The venv also holds anya-plugins, stevedore and their {dependencies} installed "
            "dependencies, as a user's environment would.",
        ),
    )


def _measure_installed_by_anya(venv: Venv, home: Path, size: int, runs: int) -> list[Row]:
    """The listing of the same extensions as ``anya-ext install`` leaves them: a feature
    each (as the template makes them), a receipt saying it was installed with it, and the
    fingerprints of its files."""
    log(f"startup: N={size}, {INSTALLED_BY_ANYA}: a feature, a receipt and fingerprints each")
    for number in range(size):
        name = f"bench-{number:04d}"
        module = EXTENSION_MODULE.format(name=name)
        write_installed(extension(name, module=module, extras=("metrics",)), venv.site_packages)
    written = check_output([venv.python, "-c", _WRITE_RECEIPTS], env=clean_env(), cwd=home)
    if int(written) != size:
        raise BenchError(f"receipts written for {written.strip()} of {size} extensions")
    # Thousands of files were just written: their writeback, while the tools run, made stat
    # and open several times slower in some rounds (80-131 ms for the same floor in one run).
    os.sync()
    tools = [
        Tool(BASELINE, "pass", "print(0)"),
        Tool(CLI_LIST, "--json list --no-load", "--json list --no-load", script="anya-ext"),
        Tool(CLI_FLOOR_CHECKED, _CLI_FLOOR_CHECKED,
             f"{_CLI_FLOOR_PARSE.replace('e = Host().extensions', 'h = Host()')}; "
             "h.check_integrity(); print(sum(x.integrity == 'verified' for x in h.extensions))"),
    ]  # fmt: skip
    return _measure_size(venv, home, tools, size, runs, f"N={size}, {INSTALLED_BY_ANYA}")


def _measure_size(
    venv: Venv, home: Path, tools: list[Tool], size: int, runs: int, case: str = ""
) -> list[Row]:
    case = case or f"N={size}"
    env = clean_env(
        HOME=str(home), ANYA_CONFIG=str(home / "extensions.toml"), ANYA_DATA_DIR=str(home)
    )
    for tool in tools:  # compile every module once, write stevedore's caches
        check_output(tool.command(venv), env={**env, **tool.env}, cwd=home)
    aged = time.time() - 60
    os.utime(venv.site_packages, (aged, aged))
    for tool in tools:  # after the aging, the first run rewrites the discovery cache
        tool_env, command = {**env, **tool.env}, tool.command(venv, count=True)
        check_output(command, env=tool_env, cwd=home)
        _check_seen(tool, check_output(command, env=tool_env, cwd=home), size, case)
    log(f"startup: {case}, {len(tools)} tools taking turns, {runs} rounds")
    seconds: dict[str, list[float]] = {tool.label: [] for tool in tools}
    for round_number in range(runs):
        for tool in tools:
            if tool.label in LOADING and round_number >= LOADING_RUNS:
                continue
            elapsed = run_process(tool.command(venv), env={**env, **tool.env}, cwd=home)
            seconds[tool.label].append(elapsed)
    rows = []
    for tool in tools:
        timings = seconds[tool.label]
        spread = f"{len(timings)} runs, {min(timings) * 1000:.0f}-{max(timings) * 1000:.0f} ms"
        rows.append(Row(case, tool.label, statistics.median(timings) * 1000, "ms", detail=spread))
    return rows


def _check_seen(tool: Tool, output: str, size: int, case: str) -> None:
    """The tool saw every generated extension (the Host: all enabled, cache as expected;
    activation: all active; extensions Anya installed: each verified, its feature on)."""
    if tool.label == BASELINE:
        return
    if tool.script:
        listed = json.loads(output)
        statuses = {row["status"] for row in listed}
        wanted = {"enabled"} if "--no-load" in tool.code else {"active"}
        if len(listed) != size or (size and statuses != wanted):
            raise BenchError(f"{tool.label} listed {len(listed)} extensions {statuses}")
        if INSTALLED_BY_ANYA in case:
            states = {(row["integrity"], tuple(row["enabled_features"])) for row in listed}
            if size and states != {("verified", ("metrics",))}:
                raise BenchError(f"{tool.label}, {case}: integrity and features {states}")
        return
    seen = output.split()
    count = int(seen[0])
    if count != size:
        raise BenchError(f"{tool.label} saw {count} extensions, not {size}")
    if tool.label in (ANYA_COLD, ANYA_WARM):
        enabled, hit = int(seen[1]), seen[2] == "True"
        if enabled != size:
            raise BenchError(f"the Host enabled {enabled} of {size} generated extensions")
        if hit != (tool.label == ANYA_WARM):
            raise BenchError(f"{tool.label}: discovery cache hit was {hit}")


def _dependencies(venv: Venv) -> list[Path]:
    return [
        path
        for path in venv.site_packages.glob("*.dist-info")
        if not path.name.startswith(("anya_ext_bench_", "anya_plugins-"))
    ]


def _targets(rows: tuple[Row, ...], largest: int) -> tuple[Target, ...]:
    case = f"N={TARGET_SIZE}"
    if largest < TARGET_SIZE:
        case = f"N={largest}"
    found = {
        tool: find(rows, case, tool)
        for tool in (BASELINE, ANYA_WARM, CLI_LIST, CLI_FLOOR, *LOADING)
    }
    value = {tool: row.value for tool, row in found.items() if row is not None and row.value}
    if BASELINE not in value or PLUGGY not in value:
        return ()
    baseline, pluggy = value[BASELINE], value[PLUGGY]
    targets = []
    for tool, what in ((ANYA_WARM, "Host start-up, warm cache"), (CLI_LIST, CLI_LIST)):
        if tool in value:
            over = value[tool] - baseline
            detail = f"{value[tool]:.1f} ms vs {baseline:.1f} ms: +{over:.1f} ms"
            if tool == CLI_LIST and CLI_FLOOR in value:
                floor = value[CLI_FLOOR] - baseline
                detail += f" (the floor of any Python CLI doing it: +{floor:.1f} ms)"
            targets.append(
                Target(
                    f"{what}, {case}: within {TARGET_OVER_BASELINE_MS:.0f} ms of `python -c pass`",
                    detail,
                    over <= TARGET_OVER_BASELINE_MS,
                )
            )
    targets += _installed_by_anya_target(rows, case)
    if ANYA_WARM in value:
        faster = pluggy / value[ANYA_WARM]
        targets.append(
            Target(
                f"Host start-up, {case}, warm cache: at least {TARGET_FASTER_THAN_PLUGGY:.0f}x "
                "faster than pluggy's load_setuptools_entrypoints",
                f"{faster:.1f}x ({pluggy:.0f} ms vs {value[ANYA_WARM]:.1f} ms)",
                faster >= TARGET_FASTER_THAN_PLUGGY,
            )
        )
    for tool in (CLI_LIST_LOADED, ACTIVATE_ALL):
        if tool in value:
            ratio = value[tool] / pluggy
            targets.append(
                Target(
                    f"{tool.split(' (')[0]}, {case}: no slower than pluggy's "
                    "load_setuptools_entrypoints",
                    f"{value[tool]:,.0f} ms vs {pluggy:,.0f} ms: {ratio:.2f}x",
                    ratio <= 1.0,
                )
            )
    return tuple(targets)


def _installed_by_anya_target(rows: tuple[Row, ...], case: str) -> list[Target]:
    """The listing's target where the extensions are as Anya installs them, beside its floor
    with the same check of installed files."""
    anya_case = f"{case}, {INSTALLED_BY_ANYA}"
    found = [find(rows, anya_case, tool) for tool in (BASELINE, CLI_LIST, CLI_FLOOR_CHECKED)]
    values = [row.value for row in found if row is not None and row.value]
    if len(values) != len(found):
        return []
    baseline, listed, floor = values
    over = listed - baseline
    return [
        Target(
            f"{CLI_LIST}, {anya_case}: within {TARGET_OVER_BASELINE_MS:.0f} ms of `python -c pass`",
            f"{listed:.1f} ms vs {baseline:.1f} ms: +{over:.1f} ms (the floor of any Python "
            f"CLI doing it, its installed files checked: +{floor - baseline:.1f} ms)",
            over <= TARGET_OVER_BASELINE_MS,
        )
    ]


def main(argv: list[str] | None = None) -> int:
    return run_alone(run, "Host start-up and discovery against importlib.metadata, pluggy, "
                     "stevedore", argv)  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
