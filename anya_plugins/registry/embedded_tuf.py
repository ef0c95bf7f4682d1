"""TUF on the embedded registry: ``registry up --tuf DIR`` starts devpi with ``--anya-tuf DIR``.

The directory is the one ``anya-ext registry tuf init --dir`` wrote (online keys, offline-
signed root and targets). Its path is remembered in the state directory, like the other
``up`` options, so a later ``up`` without ``--tuf`` starts the registry signing again; the
keys stay where the operator put them (not copied). A running registry keeps the directory
it was started with: a different one is refused (stop it first).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from anya_plugins.registry.errors import RegistryError
from anya_plugins.registry.tuf_repository import TufDirectory, delegated_indexes

TUF_FILE = "tuf.dir"
"""In the state directory: the TUF directory's absolute path."""


@dataclass(frozen=True)
class EmbeddedTuf:
    """The TUF signing of the embedded registry, as clients need to know it."""

    directory: Path
    tuf_root: Path
    """The root clients are given (``tuf_root`` of their source): ``metadata/1.root.json``."""
    indexes: tuple[str, ...]
    """The indexes signed (the delegations of the directory's targets)."""


def chosen_directory(state_dir: Path, given: Path | None, *, running: bool) -> Path | None:
    """The TUF directory to start with: ``given`` (checked and remembered), else the one an
    earlier ``up`` remembered (None: no TUF)."""
    kept = remembered_directory(state_dir)
    if given is None:
        return kept
    directory = given.expanduser().resolve()
    _check(directory)
    if kept == directory:
        return kept
    if running:
        started = f"with the TUF directory {kept}" if kept is not None else "without TUF"
        raise RegistryError(
            f"the registry in {state_dir} is running {started}",
            hint="stop it (anya-ext registry down) and bring it up with --tuf",
        )
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / TUF_FILE).write_text(f"{directory}\n")
    return directory


def server_options(directory: Path | None) -> tuple[str, ...]:
    """The devpi-server options that sign with ``directory`` (none without)."""
    from anya_plugins.registry.plugin_tuf import TUF_OPTION  # the server side: devpi, pyramid

    return () if directory is None else (f"{TUF_OPTION}={directory}",)


def remembered_directory(state_dir: Path) -> Path | None:
    try:
        text = (state_dir / TUF_FILE).read_text().strip()
    except FileNotFoundError:
        return None
    return Path(text) if text else None


def embedded_tuf(state_dir: Path) -> EmbeddedTuf | None:
    """What the registry of ``state_dir`` signs, when it was brought up with ``--tuf``."""
    directory = remembered_directory(state_dir)
    if directory is None:
        return None
    tuf = TufDirectory(directory)
    try:
        indexes = tuple(delegated_indexes(tuf.targets()))
    except (OSError, ValueError):
        indexes = ()
    return EmbeddedTuf(directory, tuf.trusted_root(), indexes)


def _check(directory: Path) -> None:
    tuf = TufDirectory(directory)
    tuf.roots()  # refuses a directory without N.root.json
    if not (tuf.metadata_dir / "targets.json").is_file():
        raise RegistryError(
            f"--tuf {directory}: no metadata/targets.json: not a TUF directory",
            hint="create it with 'anya-ext registry tuf init --dir DIR --offline-dir ...'",
        )
