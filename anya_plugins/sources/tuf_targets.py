"""What a registry's TUF targets are: one file list per project and index.

Shared by the registry, which writes and signs them (``registry.tuf_repository``), and the
client, which checks a simple page against them (``sources.tuf_client``). A simple page is
rendered per request (HTML or JSON, URLs relative or rewritten by an edge); what an
installer acts on is the list of files with their hashes, Requires-Python and yank state,
and the core metadata (PEP 658) the resolver reads instead of a wheel, so that is what TUF
vouches for.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

SIMPLE_DIR: Final = "+simple"


@dataclass(frozen=True)
class VouchedFile:
    """One file as the index's TUF metadata lists it."""

    filename: str
    sha256: str
    requires_python: str | None
    yanked: bool
    core_metadata_sha256: str | None = None
    """The sha256 of the wheel's core metadata file (PEP 658) as the index serves it."""


def target_path(index: str, project: str) -> str:
    """The TUF target path of ``project``'s file list on ``index`` (``user/name``)."""
    return f"{index}/{SIMPLE_DIR}/{project}.json"


def delegated_paths(index: str) -> list[str]:
    """The target paths an index's role is trusted for."""
    return [f"{index}/{SIMPLE_DIR}/*"]


def project_document(index: str, project: str, files: Iterable[VouchedFile]) -> bytes:
    """The target bytes: canonical (sorted, compact) JSON."""
    document = {
        "index": index,
        "project": project,
        "files": [
            {
                "filename": file.filename,
                "sha256": file.sha256,
                "requires-python": file.requires_python or None,
                "yanked": file.yanked,
                "core-metadata-sha256": file.core_metadata_sha256,
            }
            for file in sorted(files, key=lambda file: file.filename)
        ],
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def parse_document(data: bytes) -> dict[str, VouchedFile]:
    """The files of a project document, by file name (ValueError if it is not one)."""
    document = json.loads(data)
    if not isinstance(document, dict) or not isinstance(document.get("files"), list):
        raise ValueError("not a project file list")
    files: dict[str, VouchedFile] = {}
    for entry in document["files"]:
        if not isinstance(entry, Mapping):
            raise ValueError("a file entry is not an object")
        files[str(entry["filename"])] = VouchedFile(
            filename=str(entry["filename"]),
            sha256=str(entry["sha256"]).lower(),
            requires_python=str(entry["requires-python"]) if entry.get("requires-python") else None,
            yanked=bool(entry.get("yanked")),
            core_metadata_sha256=(
                str(entry["core-metadata-sha256"]).lower()
                if entry.get("core-metadata-sha256")
                else None
            ),
        )
    return files
