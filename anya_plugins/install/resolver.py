"""Resolution is the resolver's job: uv (a dependency of anya-plugins) or pip. One adapter each.

Both answer the same question against the real target environment — which
distributions would have to be installed for these requirements — without
installing anything, so the installer can download and verify first. Both answer in
a documented machine-readable form (uv's JSON plan, pip's installation report), and
both run without the user's uv or pip configuration: the resolver must see the one
index it is given, and nothing else.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from packaging.utils import canonicalize_name

from anya_plugins.errors import AnyaError
from anya_plugins.install.child import run_child
from anya_plugins.install.scratch import scratch_dir
from anya_plugins.sources.errors import SourceError

log = logging.getLogger(__name__)


class ResolutionConflict(AnyaError):
    """The requirements cannot be satisfied together; carries the resolver's own explanation."""

    exit_code = 9

    def __init__(self, message: str, explanation: str) -> None:
        super().__init__(
            f"{message}\n\n{explanation.strip()}",
            hint="relax a version range, or remove the extension that conflicts",
        )
        self.explanation = explanation


class ResolverFailed(AnyaError):
    """The resolver could not run or answered something we cannot read."""

    exit_code = 9


class RequirementNotFound(SourceError):
    """A requested extension, or a dependency of one, has no release at all on the index."""

    def __init__(self, projects: Sequence[str], explanation: str) -> None:
        super().__init__(
            f"not found on the index: {', '.join(projects)}\n\n{explanation.strip()}",
            hint="check the spelling; a dependency must be published on this source "
            "(or an index it inherits from)",
        )
        self.projects = tuple(projects)
        self.explanation = explanation


class ResolverUnreachable(SourceError):
    """The resolver could not reach the index (refused, timed out, name not resolved...)."""

    def __init__(self, tool: str, explanation: str) -> None:
        super().__init__(
            f"{tool} could not reach the index while resolving\n\n{explanation.strip()}",
            hint="check the network and the url and mirrors of this source under [sources]",
        )
        self.explanation = explanation


@dataclass(frozen=True)
class Pin:
    """One distribution the resolver wants installed."""

    name: str
    version: str


@dataclass(frozen=True)
class Resolution:
    """What would change, as the resolver sees it, and which resolver saw it."""

    to_install: tuple[Pin, ...]
    tool: str


@dataclass(frozen=True)
class ResolveRequest:
    requirements: tuple[str, ...]
    index_url: str
    python: Path
    prerelease: bool = False
    upgrade: bool = False


class Resolver(Protocol):
    name: str

    def resolve(self, request: ResolveRequest) -> Resolution: ...

    def identity(self) -> str | None:
        """Which resolver this is, down to its file, for a plan remembered under it; None:
        its plans are not remembered."""
        ...


UV_MINIMUM = "0.12.18"
"""The first uv whose ``pip install --dry-run`` reports its plan as JSON (``--output-format``)."""

_UV_ACTIONS = frozenset({"installed", "reinstalled", "uninstalled"})
"""The actions of uv's package-change report; a plan with any other is not read."""

_KEPT_SETTINGS = frozenset({"UV_CACHE_DIR", "UV_NO_CACHE", "PIP_CACHE_DIR", "PIP_NO_CACHE_DIR"})
"""The only ``UV_*`` and ``PIP_*`` variables a resolver keeps: where its cache is."""


def find_uv() -> str | None:
    """The uv of the ``uv`` dependency (``uv.find_uv_bin``), else uv beside this interpreter
    or on PATH."""
    try:
        from uv import find_uv_bin

        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        beside = Path(sys.executable).with_name("uv")
        return str(beside) if beside.exists() else shutil.which("uv")


def default_resolver() -> Resolver:
    uv = find_uv()
    return UvResolver(uv) if uv else PipResolver()


def resolver_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` without the uv and pip settings that change what a resolver reads:
    extra indexes, find-links, constraints, index strategies, pip's config files. The
    resolver reads one index, the one it is given, whatever the user's shell exports."""
    kept = {
        key: value
        for key, value in environ.items()
        if not key.startswith(("UV_", "PIP_")) or key in _KEPT_SETTINGS
    }
    kept["PIP_CONFIG_FILE"] = os.devnull  # pip then reads no configuration file at all
    return kept


def _run(command: Sequence[str], tool: str) -> subprocess.CompletedProcess[str]:
    log.info("resolver: %s", " ".join(command))
    try:
        return run_child(command, environ=resolver_environment(os.environ))
    except OSError as error:
        raise ResolverFailed(f"could not run {tool}: {error}") from error


class UvResolver:
    """``uv pip install --dry-run --output-format json`` against the target: uv's resolver,
    installed set included, its plan read from uv's JSON report (stdout)."""

    name = "uv"

    def __init__(self, uv: str) -> None:
        self._uv = uv

    def identity(self) -> str:
        """Which uv resolves: its path and its file (replaced by an upgrade). A plan it gave
        is remembered under this (:mod:`.resolution_memo`)."""
        stat = Path(self._uv).stat()
        return f"uv {self._uv} {stat.st_size} {stat.st_mtime_ns}"

    def resolve(self, request: ResolveRequest) -> Resolution:
        command = [
            self._uv, "pip", "install", "--dry-run", "--output-format", "json",
            "--preview-features", "json-output", "--python", str(request.python),
            "--index-url", request.index_url, "--only-binary", ":all:", "--no-config",
        ]  # fmt: skip
        if request.prerelease:
            command += ["--prerelease", "allow"]
        if request.upgrade:
            command += ["--upgrade"]
        done = _run([*command, *request.requirements], "uv")
        if done.returncode != 0:
            if "--output-format" in done.stderr:
                raise ResolverFailed(
                    f"{self._uv} is older than uv {UV_MINIMUM}, the first that reports its plan "
                    f"as JSON:\n{done.stderr.strip()}",
                    hint='upgrade uv (pip install -U uv), or set [install] tool = "pip"',
                )
            _raise_for(done.stderr, "uv")
        return Resolution(uv_plan(done.stdout), self.name)


def uv_plan(report: str) -> tuple[Pin, ...]:
    """What uv's JSON report (``{"changes": [{"name", "version", "action"}, ...]}``) would
    install. uv calls the schema a preview, so it is read strictly: a report that is not
    this shape, or names an action we do not know, is refused rather than guessed at."""
    try:
        document = json.loads(report)
        pins = []
        for change in document["changes"]:
            name, version, action = change["name"], change["version"], change["action"]
            if not all(isinstance(field, str) for field in (name, version, action)):
                raise TypeError(f"expected strings in {change!r}")
            if action not in _UV_ACTIONS:
                raise ValueError(f"unknown action {action!r} for {name} {version}")
            if action != "uninstalled":
                pins.append(Pin(str(canonicalize_name(name)), version))
    except (ValueError, KeyError, TypeError) as error:
        raise ResolverFailed(
            f"uv's JSON plan could not be read: {error}",
            hint=f"anya-plugins reads the report of uv {UV_MINIMUM} and later; "
            'set [install] tool = "pip" to resolve with pip meanwhile',
        ) from error
    return tuple(pins)


class PipResolver:
    """``pip install --dry-run --report``: the target's pip, its resolver and its documented
    JSON installation report."""

    name = "pip"

    def identity(self) -> None:
        """The target's own pip resolves: its plans are not remembered."""
        return

    def resolve(self, request: ResolveRequest) -> Resolution:
        with scratch_dir("resolve") as scratch:
            report_file = scratch / "report.json"
            command = [
                str(request.python), "-m", "pip", "install", "--dry-run",
                "--report", str(report_file), "--index-url", request.index_url,
                "--only-binary=:all:", "--disable-pip-version-check", "--no-input",
            ]  # fmt: skip
            if request.prerelease:
                command.append("--pre")
            if request.upgrade:
                command.append("--upgrade")
            done = _run([*command, *request.requirements], "pip")
            if done.returncode != 0:
                if "No module named pip" in done.stderr:
                    raise ResolverFailed(
                        f"{request.python} has no pip to resolve with",
                        hint='install pip into that environment, or set [install] tool = "uv"',
                    )
                _raise_for(_pip_complaint(done), "pip")
            try:
                report = report_file.read_text()
            except OSError as error:
                raise ResolverFailed(f"pip wrote no report: {error}") from error
        return Resolution(pip_plan(report), self.name)


def pip_plan(report: str) -> tuple[Pin, ...]:
    """What pip's installation report (``{"install": [{"metadata": {"name", "version"}}]}``)
    would install."""
    try:
        return tuple(
            Pin(str(canonicalize_name(item["metadata"]["name"])), item["metadata"]["version"])
            for item in json.loads(report)["install"]
        )
    except (ValueError, KeyError, TypeError) as error:
        raise ResolverFailed(f"pip's report could not be read: {error}") from error


_PIP_EXPLANATION = "The conflict is caused by:"


def _pip_complaint(done: subprocess.CompletedProcess[str]) -> str:
    """pip's errors (stderr) and, after a conflict, its explanation, which pip logs to
    stdout: the report goes to a file so that stdout can carry it."""
    start = done.stdout.find(_PIP_EXPLANATION)
    if start < 0:
        return done.stderr
    return f"{done.stderr.rstrip()}\n\n{done.stdout[start:].strip()}"


def _raise_for(stderr: str, tool: str) -> None:
    """Name what happened, most specific first: a network failure's output also says
    "no versions", and uv's "No solution found" also heads a package that is missing.
    Phrases are looked for with the lines joined: uv wraps its explanation at the terminal's
    width (``COLUMNS``), anywhere in a sentence."""
    text = stderr.strip()
    flat = " ".join(text.split())
    if any(marker in flat for marker in _UNREACHABLE_MARKERS):
        raise ResolverUnreachable(tool, text)
    missing = _missing_projects(text)
    if missing:
        raise RequirementNotFound(missing, text)
    if "No solution found" in flat or "ResolutionImpossible" in flat or "conflict" in flat.lower():
        raise ResolutionConflict("the requested extensions cannot be installed together", text)
    if "No matching distribution" in flat:
        raise ResolutionConflict("no release on the index fits the requested versions", text)
    raise ResolverFailed(f"{tool} could not resolve the requirements:\n{text}")


_UNREACHABLE_MARKERS = (
    # uv
    "Failed to fetch", "error sending request", "tcp connect error", "dns error",
    "operation timed out",
    # pip (urllib3)
    "Failed to establish a new connection", "connection broken by", "Max retries exceeded",
    "Read timed out", "ConnectTimeoutError", "ProxyError", "SSLError",
)  # fmt: skip
_UV_MISSING = " was not found in the package registry"
_PIP_MISSING = "(from versions: none)"


def _missing_projects(text: str) -> tuple[str, ...]:
    """Projects the resolver found no release of at all, in order of mention: uv says
    "Because NAME was not found in the package registry", pip "Could not find a version
    that satisfies the requirement NAME>=1 (from versions: none)" (on one line)."""
    flat = " ".join(text.split())
    names = [before.split()[-1] for before in flat.split(_UV_MISSING)[:-1] if before.split()]
    for line in text.splitlines():
        if line.rstrip().endswith(_PIP_MISSING) and "the requirement " in line:
            requirement = line.split("the requirement ", 1)[1].split(" (from", 1)[0]
            names.append(_project_of(requirement))
    return tuple(dict.fromkeys(str(canonicalize_name(name)) for name in names))


def _project_of(requirement: str) -> str:
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        return Requirement(requirement).name
    except InvalidRequirement:
        return requirement
