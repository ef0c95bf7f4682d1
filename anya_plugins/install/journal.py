"""A journal that makes the install step all-or-nothing, even across a killed process.

Before the installer touches the environment, the journal records the paths it may change
— every entry at the top of the library directories, everything under the top-level names
the wheels being installed and the distributions being replaced own (and ``__pycache__``),
the scripts directory and Anya's receipts — and backs up the files of each distribution
that will be replaced and every receipt. If the step fails — or the process dies and a
later run finds the journal — rollback removes whatever appeared there since and puts the
backups back, so the environment and its receipts are exactly as they were.

An installer writes only the files of the wheels it is given (under their top-level names,
the scripts directory and their ``.dist-info``) and removes only those of the distributions
they replace, so the rest of a large environment is never walked: the journal costs what
the install touches, not what the environment holds (a walk of 15,000 files is ~25 ms,
each way).

The journal is only ever touched under the environment's lock (:mod:`envlock`): a live
transaction's journal is never rolled back by a second command.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata as importlib_metadata
from pathlib import Path

from anya_plugins.install import envlock
from anya_plugins.install.environment import TargetEnvironment
from anya_plugins.install.interrupted import JOURNAL_DIR as _JOURNAL_DIR
from anya_plugins.install.pinning import pins_file
from anya_plugins.install.receipts import receipts_dir

_RECEIPT_SUFFIXES = (".json", ".files")
"""The receipts and their install fingerprints, backed up so that a rollback restores them."""


@dataclass(frozen=True)
class Recovery:
    """What a rollback did."""

    removed: int
    restored: int
    started: float


def journal_dir(env: TargetEnvironment) -> Path:
    return env.prefix / _JOURNAL_DIR


def _watched_roots(env: TargetEnvironment) -> tuple[list[Path], list[Path]]:
    """The directories walked whole (scripts, receipts) and the library directories."""
    receipts = receipts_dir(env)
    receipts.mkdir(parents=True, exist_ok=True)
    whole = [root for root in (env.scripts, receipts) if root.exists()]
    libraries = [library for library in dict.fromkeys(env.library_dirs) if library.exists()]
    return whole, libraries


_ALWAYS_DEEP = ("__pycache__",)
"""Walked whatever is installed: an installer compiling a top-level module writes there."""


def _snapshot(
    roots: Iterable[Path], shallow: Iterable[Path] = (), deep: Iterable[str] = ()
) -> list[str]:
    """Every path under ``roots``; of each ``shallow`` root, its entries and everything under
    the ones named in ``deep``."""
    paths: list[str] = []
    for root in roots:
        _walk(str(root), paths)
    wanted = set(deep)
    for root in shallow:
        try:
            entries = list(os.scandir(root))
        except FileNotFoundError:
            continue
        for entry in entries:
            if entry.name == _JOURNAL_DIR:
                continue
            paths.append(entry.path)
            if entry.name in wanted and entry.is_dir(follow_symlinks=False):
                _walk(entry.path, paths)
    return paths


def _walk(root: str, paths: list[str]) -> None:
    for directory, dirnames, filenames in os.walk(root):
        if _JOURNAL_DIR in dirnames:
            dirnames.remove(_JOURNAL_DIR)
        # Joined as text: a Path per entry costs more than the walk (thousands of files).
        paths.extend(f"{directory}{os.sep}{name}" for name in dirnames + filenames)


def _top_names(
    env: TargetEnvironment,
    wheels: Iterable[Path],
    replacing: Iterable[importlib_metadata.Distribution],
) -> set[str]:
    """The top-level names in the library directories that installing ``wheels`` and
    removing ``replacing`` can write or remove under."""
    names = set(_ALWAYS_DEEP)
    libraries = [str(library) for library in env.library_dirs]
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as archive:
            members = archive.namelist()
        for member in members:
            top, _, rest = member.partition("/")
            if not top.endswith(".data"):
                names.add(top)
                continue
            scheme, _, inside = rest.partition("/")
            if scheme in ("purelib", "platlib"):
                names.add(inside.partition("/")[0])
            elif scheme == "data":  # relative to the prefix: it may land in a library
                data = os.path.join(env.prefix, inside)  # noqa: PTH118 (text, as the walk)
                names.update(_library_top(libraries, data))
    for dist in replacing:
        location = os.path.normpath(str(dist.locate_file("")))
        for file in dist.files or ():
            path = os.path.join(location, str(file))  # noqa: PTH118 (text: thousands of files)
            names.update(_library_top(libraries, path))
    names.discard("")
    return names


def _library_top(libraries: Iterable[str], path: str) -> list[str]:
    """The first component of ``path`` under each library directory it lies in."""
    path = os.path.normpath(path)
    return [
        path[len(library) + 1 :].split(os.sep, 1)[0]
        for library in libraries
        if path.startswith(library + os.sep)
    ]


def begin(
    env: TargetEnvironment,
    replacing: Iterable[importlib_metadata.Distribution],
    *,
    installing: Iterable[Path],
) -> Path:
    """Record what installing the wheels ``installing`` and replacing (or removing) the
    distributions ``replacing`` may change, and back up the files of ``replacing``."""
    replacing = list(replacing)
    directory = journal_dir(env)
    if directory.exists():
        shutil.rmtree(directory)
    backup = directory / "backup"
    backup.mkdir(parents=True)
    restored: list[str] = []
    sources = [
        Path(str(dist.locate_file(file))).resolve()
        for dist in replacing
        for file in dist.files or ()
    ]
    receipts = sorted(p for p in receipts_dir(env).glob("*") if p.suffix in _RECEIPT_SUFFIXES)
    # The publisher pins are written inside the step too (trust on first use of what it
    # installs): restored when it rolls back, removed if the step created them.
    pins = pins_file(env)
    for source in [*sources, *receipts, pins]:
        if source.is_file():
            target = backup / f"{len(restored)}"
            shutil.copy2(source, target)
            restored.append(str(source))
    roots, libraries = _watched_roots(env)
    deep = sorted(_top_names(env, installing, replacing))
    state = {
        "started": time.time(),
        "roots": [str(root) for root in roots],
        "libraries": [str(library) for library in libraries],
        "deep": deep,
        "existing": _snapshot(roots, libraries, deep),
        "backups": restored,
        "absent": [] if pins.exists() else [str(pins)],
    }
    temporary = directory / "journal.json.tmp"
    temporary.write_text(json.dumps(state))
    temporary.replace(directory / "journal.json")
    return directory


@contextmanager
def exclusive(env: TargetEnvironment) -> Iterator[Recovery | None]:
    """Hold the environment for one transaction (waiting for another to finish); a dead
    transaction's journal is rolled back first, and what that did is yielded."""
    with envlock.held(env.prefix):
        yield rollback(env)


@contextmanager
def step(
    env: TargetEnvironment,
    replacing: Iterable[importlib_metadata.Distribution],
    *,
    installing: Iterable[Path],
) -> Iterator[None]:
    """The changing part of a transaction, all or nothing: begin, then commit when the block
    finishes, or roll back whatever it did when it raises (Ctrl-C included). The block
    installs at most the wheels ``installing`` and replaces or removes at most ``replacing``."""
    begin(env, replacing, installing=installing)
    try:
        yield
    except BaseException:
        rollback(env)
        raise
    commit(env)


def commit(env: TargetEnvironment) -> None:
    """The install step finished: forget the journal — ``journal.json`` first, the one file
    that says a step is under way, so that a process killed while the rest (the backups) is
    removed leaves a directory that reads as committed (:func:`recover` clears it)."""
    directory = journal_dir(env)
    (directory / "journal.json").unlink(missing_ok=True)
    shutil.rmtree(directory, ignore_errors=True)


def pending(env: TargetEnvironment) -> bool:
    return (journal_dir(env) / "journal.json").exists()


def recover(env: TargetEnvironment) -> Recovery | None:
    """Roll back a dead transaction's journal: only when nobody holds the environment's
    lock (its holder died); a live transaction is left alone and None returned. A journal
    directory without ``journal.json`` (its transaction killed while it began or committed)
    is removed, nothing else touched."""
    if not journal_dir(env).exists():
        return None
    try:
        with envlock.held(env.prefix, wait=0, on_wait=lambda _message: None):
            return rollback(env)
    except envlock.EnvironmentBusy:
        return None


def rollback(env: TargetEnvironment) -> Recovery | None:
    """Undo an unfinished install step; None when there is nothing to undo. The caller
    holds the environment's lock."""
    directory = journal_dir(env)
    journal = directory / "journal.json"
    if not journal.exists():
        shutil.rmtree(directory, ignore_errors=True)
        return None
    state = json.loads(journal.read_text())
    existing = set(state["existing"])
    removed = 0
    # A journal without "libraries" (written before they were walked by name) walked all
    libraries = state.get("libraries")
    now = (
        _snapshot(map(Path, state["roots"]))
        if libraries is None
        else _snapshot(map(Path, state["roots"]), map(Path, libraries), state["deep"])
    )
    for path in sorted(now, reverse=True):
        if path in existing:
            continue
        stray = Path(path)
        if stray.is_dir() and not stray.is_symlink():
            shutil.rmtree(stray, ignore_errors=True)
        else:
            stray.unlink(missing_ok=True)
        removed += 1
    for created in state.get("absent", ()):
        Path(created).unlink(missing_ok=True)
    for index, original in enumerate(state["backups"]):
        Path(original).parent.mkdir(parents=True, exist_ok=True)
        # A new file renamed over the old one, never written through it: installers link
        # files from their cache (uv hard-links), and writing into the link would change
        # the cached copy every later install of that wheel gets.
        restoring = Path(f"{original}.anya-restore")
        shutil.copy2(directory / "backup" / str(index), restoring)
        restoring.replace(original)
    shutil.rmtree(directory, ignore_errors=True)
    return Recovery(removed=removed, restored=len(state["backups"]), started=state["started"])
