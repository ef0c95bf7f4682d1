"""The check an extension index makes on every uploaded release file, before devpi stores it.

devpi records a release's metadata from the upload form only and never compares it with
the file; this check reads the file's own core metadata (a wheel's METADATA, an sdist's
PKG-INFO), applies the extension contract and refuses a form that disagrees with the file.
"""

from __future__ import annotations

import tarfile
from collections.abc import Sequence
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from anya_plugins.errors import MetadataError
from anya_plugins.metadata.contract import ExtensionMetadata, parse_metadata_text, read_wheel
from anya_plugins.registry.errors import RegistryError

_SDIST_SUFFIX = ".tar.gz"


class UploadRefused(RegistryError):
    """An upload to an extension index breaks the contract; nothing was stored."""


def check_release_file(
    path: Path, *, name: str, version: str, categories: Sequence[str] = ()
) -> ExtensionMetadata:
    """The file's contract; raise UploadRefused saying what is wrong with which file.

    ``name`` and ``version`` are what the upload form claims; ``categories`` the
    categories the index accepts (empty: any).
    """
    try:
        metadata = _read_contract(path)
    except MetadataError as exc:
        raise UploadRefused(
            f"{path.name} breaks the Anya extension contract: "
            f"metadata field {exc.field}: {exc.problem}",
            hint=exc.hint or "see the Keywords of the extension template's pyproject.toml",
        ) from None
    if canonicalize_name(metadata.dist_name) != canonicalize_name(name):
        raise UploadRefused(
            f"{path.name}: the upload says project {name!r} but the file's metadata says "
            f"{metadata.dist_name!r}"
        )
    if not _same_version(metadata.version, version):
        raise UploadRefused(
            f"{path.name}: the upload says version {version!r} but the file's metadata says "
            f"{metadata.version!r}"
        )
    if categories and metadata.category not in categories:
        raise UploadRefused(
            f"{path.name}: category {metadata.category!r} is not accepted by this index",
            hint=f"this index takes: {', '.join(categories)}",
        )
    return metadata


def _read_contract(path: Path) -> ExtensionMetadata:
    if path.name.endswith(".whl"):
        return read_wheel(path)
    if path.name.endswith(_SDIST_SUFFIX):
        return parse_metadata_text(path.name, _sdist_pkg_info(path))
    raise MetadataError(path.name, "file", "only wheels (.whl) and sdists (.tar.gz) are accepted")


def _sdist_pkg_info(path: Path) -> str:
    """The ``<name>-<version>/PKG-INFO`` of an sdist (PEP 625 layout)."""
    try:
        with tarfile.open(path, "r:gz") as archive:
            members = [
                m for m in archive.getmembers() if m.isfile() and m.name.count("/") == 1
                and m.name.endswith("/PKG-INFO")
            ]  # fmt: skip
            if len(members) != 1:
                raise MetadataError(
                    path.name, "PKG-INFO", f"expected one top-level PKG-INFO, found {len(members)}"
                )
            extracted = archive.extractfile(members[0])
            if extracted is None:
                raise MetadataError(path.name, "PKG-INFO", "is not a regular file")
            return extracted.read().decode("utf-8")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise MetadataError(path.name, "PKG-INFO", f"not a readable sdist: {exc}") from None


def _same_version(left: str, right: str) -> bool:
    try:
        return Version(left) == Version(right)
    except InvalidVersion:
        return left == right
