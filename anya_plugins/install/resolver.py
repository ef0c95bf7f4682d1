"""Resolution is the resolver's job: uv when present, pip otherwise. One adapter each.

Both answer the same question against the real target environment — which
distributions would have to be installed for these requirements — without
installing anything, so the installer can download and verify first.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from packaging.utils import canonicalize_name

from anya_plugins.errors import AnyaError
from anya_plugins.sources.errors import SourceError


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


def find_uv() -> str | None:
    """uv beside this interpreter (the ``uv`` wheel) or on PATH."""
    beside = Path(sys.executable).with_name("uv")
    return str(beside) if beside.exists() else shutil.which("uv")


def default_resolver() -> Resolver:
    uv = find_uv()
    return UvResolver(uv) if uv else PipResolver()


def _run(command: Sequence[str], tool: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(list(command), capture_output=True, text=True, check=False)
    except OSError as error:
        raise ResolverFailed(f"could not run {tool}: {error}") from error


_UV_PLUS = re.compile(r"^\s*\+\s+(?P<name>[A-Za-z0-9._-]+)==(?P<version>\S+)")


class UvResolver:
    """``uv pip install --dry-run`` against the target: uv's resolver, installed set included."""

    name = "uv"

    def __init__(self, uv: str) -> None:
        self._uv = uv

    def resolve(self, request: ResolveRequest) -> Resolution:
        command = [
            self._uv, "pip", "install", "--dry-run", "--python", str(request.python),
            "--index-url", request.index_url, "--only-binary", ":all:", "--no-config",
        ]  # fmt: skip
        if request.prerelease:
            command += ["--prerelease", "allow"]
        if request.upgrade:
            command += ["--upgrade"]
        done = _run([*command, *request.requirements], "uv")
        if done.returncode != 0:
            _raise_for(done.stderr, "uv")
        pins = [
            Pin(str(canonicalize_name(m.group("name"))), m.group("version"))
            for m in map(_UV_PLUS.match, done.stderr.splitlines() + done.stdout.splitlines())
            if m
        ]
        return Resolution(tuple(pins), self.name)


class PipResolver:
    """``pip install --dry-run --report``: pip's resolver and its documented JSON report."""

    name = "pip"

    def resolve(self, request: ResolveRequest) -> Resolution:
        command = [
            str(request.python), "-m", "pip", "install", "--dry-run", "--quiet",
            "--report", "-", "--index-url", request.index_url, "--only-binary=:all:",
            "--disable-pip-version-check", "--no-input",
        ]  # fmt: skip
        if request.prerelease:
            command.append("--pre")
        if request.upgrade:
            command.append("--upgrade")
        done = _run([*command, *request.requirements], "pip")
        if done.returncode != 0:
            _raise_for(done.stderr, "pip")
        try:
            report = json.loads(done.stdout)
            pins = [
                Pin(str(canonicalize_name(item["metadata"]["name"])), item["metadata"]["version"])
                for item in report["install"]
            ]
        except (ValueError, KeyError, TypeError) as error:
            raise ResolverFailed(f"pip's report could not be read: {error}") from error
        return Resolution(tuple(pins), self.name)


def _raise_for(stderr: str, tool: str) -> None:
    """Name what happened, most specific first: a network failure's output also says
    "no versions", and uv's "No solution found" also heads a package that is missing."""
    text = stderr.strip()
    if any(marker in text for marker in _UNREACHABLE_MARKERS):
        raise ResolverUnreachable(tool, text)
    missing = _missing_projects(text)
    if missing:
        raise RequirementNotFound(missing, text)
    if "No solution found" in text or "ResolutionImpossible" in text or "conflict" in text.lower():
        raise ResolutionConflict("the requested extensions cannot be installed together", text)
    if "No matching distribution" in text:
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
    that satisfies the requirement NAME>=1 (from versions: none)"."""
    names = [before.split()[-1] for before in text.split(_UV_MISSING)[:-1] if before.split()]
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
