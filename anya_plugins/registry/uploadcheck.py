"""The check an extension index makes on every uploaded release file, before devpi stores it.

devpi records a release's metadata from the upload form only and never compares it with
the file; this check reads the file's own core metadata (a wheel's METADATA, an sdist's
PKG-INFO), applies the extension contract and refuses a form that disagrees with the file.
"""

from __future__ import annotations

import tarfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from anya_plugins.errors import MetadataError
from anya_plugins.metadata.contract import (
    ExtensionMetadata,
    parse_metadata_text,
    read_wheel,
    split_keywords,
)
from anya_plugins.registry.errors import RegistryError

_SDIST_SUFFIX = ".tar.gz"


_UNKNOWN = "UNKNOWN"
"""What old tools send for an absent field; devpi stores it as empty."""
_SUBMIT_ACTION = "submit"
_DOC_UPLOAD_ACTION = "doc_upload"
_SHOWN_KEYS = ("summary", "keywords")


class UploadRefused(RegistryError):
    """An upload to an extension index breaks the contract; nothing was stored."""


@dataclass(frozen=True)
class ShownFields:
    """The fields of an upload (form or pushed metadata) that search and info show.

    ``None``: the field was not sent (devpi then keeps what it has, which was checked).
    """

    summary: str | None = None
    keywords: tuple[str, ...] | None = None

    @classmethod
    def from_values(cls, summary: object, keywords: object) -> ShownFields:
        """From devpi's shapes: a string or absent; keywords a string or a list of strings."""
        return cls(
            summary=None if summary is None else _plain(str(summary)),
            keywords=None if keywords is None else split_keywords(_keyword_lines(keywords)),
        )


def check_release_file(
    path: Path,
    *,
    name: str,
    version: str,
    categories: Sequence[str] = (),
    shown: ShownFields | None = None,
) -> ExtensionMetadata:
    """The file's contract; raise UploadRefused saying what is wrong with which file.

    ``name`` and ``version`` are what the upload form claims, ``shown`` the rest of what
    it claims that the registry shows (summary, keywords); ``categories`` the categories
    the index accepts (empty: any).
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
    if shown is not None:
        check_shown_fields(path.name, metadata, shown)
    return metadata


def check_shown_fields(filename: str, metadata: ExtensionMetadata, shown: ShownFields) -> None:
    """Raise UploadRefused when the upload shows a summary or keywords the file does not say."""
    if shown.summary is not None and shown.summary != _plain(metadata.summary):
        raise UploadRefused(
            f"{filename}: the upload says summary {shown.summary!r} but the file's metadata "
            f"says {_plain(metadata.summary)!r}",
            hint="upload with twine, which sends the file's own metadata",
        )
    if shown.keywords is not None and shown.keywords != metadata.keywords:
        raise UploadRefused(
            f"{filename}: the upload says keywords {', '.join(shown.keywords)!r} but the "
            f"file's metadata says {', '.join(metadata.keywords)!r}",
            hint="upload with twine, which sends the file's own metadata",
        )


def _plain(text: str) -> str:
    stripped = text.strip()
    return "" if stripped == _UNKNOWN else stripped


def _keyword_lines(value: object) -> Iterable[str]:
    if isinstance(value, (list, tuple)):
        return [str(item) for item in value]
    return [str(value)]


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


def refuse_metadata_without_file(form: Mapping[str, object]) -> None:
    """Raise UploadRefused for a form that would set shown metadata without a release file.

    devpi's ``submit`` action (a register) overwrites a version's metadata with the form's,
    and a ``doc_upload`` with a version updates it from the form: on an extension index the
    metadata comes from release files only.
    """
    action = form.get(":action")
    if action == _SUBMIT_ACTION:
        raise UploadRefused(
            "this index takes a release's metadata from its files only; "
            "a metadata-only registration (:action=submit) is refused",
            hint="upload the wheel or sdist itself (twine upload)",
        )
    if action == _DOC_UPLOAD_ACTION and any(key in form for key in _SHOWN_KEYS):
        raise UploadRefused(
            "a documentation upload to this index may not carry a summary or keywords",
            hint="send only name, version and the documentation archive",
        )
