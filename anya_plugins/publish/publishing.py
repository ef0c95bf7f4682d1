"""``anya-ext publish``: build if needed, check everything, sign, then upload — in that order.

Nothing is uploaded unless every file passed: the contract (the same check the
index runs), the version not already on the index (devpi would answer 200 to an
identical re-upload, so twine would claim success), and the signature.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from anya_plugins.errors import AnyaError, UsageError
from anya_plugins.publish.building import build_project
from anya_plugins.publish.uploading import upload
from anya_plugins.registry.access import access_profile
from anya_plugins.registry.devpi import Credentials, DevpiClient
from anya_plugins.registry.errors import DevpiError
from anya_plugins.registry.uploadcheck import check_release_file

Signer = Callable[[Sequence[Path]], Sequence[Path]]


class AlreadyPublished(AnyaError):
    exit_code = 15


@dataclass(frozen=True)
class PublishedFile:
    filename: str
    name: str
    version: str
    sha256: str
    category: str
    signature: str | None


@dataclass(frozen=True)
class PublishResult:
    index: str
    repository_url: str
    files: tuple[PublishedFile, ...]


def collect(targets: Sequence[Path], *, isolated_build: bool = True) -> list[Path]:
    """Distribution files from the targets: files as given, projects built with ``build``."""
    files: list[Path] = []
    for target in targets:
        if target.is_dir():
            files.extend(build_project(target, target / "dist", isolated=isolated_build))
        elif target.is_file():
            files.append(target)
        else:
            raise UsageError(f"{target} is neither a distribution file nor a project directory")
    if not files:
        raise UsageError("nothing to publish", hint="name wheel files or a project directory")
    return files


def publish(
    files: Sequence[Path],
    *,
    registry_url: str,
    index: str,
    credentials: Credentials,
    sign: Signer | None,
) -> PublishResult:
    """Check every file, refuse versions the index already has, sign, upload with twine."""
    client = DevpiClient(registry_url)
    checked = [_check(path) for path in files]
    # A registry with roles refuses an upload outside the user's; say so before signing.
    profile = access_profile(registry_url, credentials)
    if profile is not None:
        for _path, name, _version, category in checked:
            profile.require("publish", category, name)
    for path, name, version, _category in checked:
        if path.name in _published_filenames(client, index, name):
            raise AlreadyPublished(
                f"{path.name} is already on {index}: {name} {version} cannot be replaced",
                hint="published versions are immutable; bump the version and build again",
            )
    signatures = list(sign(files)) if sign is not None else []
    repository_url = f"{registry_url.rstrip('/')}/{index}/"
    upload(files, repository_url, credentials, attestations=signatures)
    by_file = {str(sig.name).split(".publish.attestation")[0]: sig for sig in signatures}
    return PublishResult(
        index=index,
        repository_url=repository_url,
        files=tuple(
            PublishedFile(
                filename=path.name,
                name=name,
                version=version,
                sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
                category=category,
                signature=str(by_file[path.name]) if path.name in by_file else None,
            )
            for path, name, version, category in checked
        ),
    )


def _check(path: Path) -> tuple[Path, str, str, str]:
    try:
        if path.name.endswith(".whl"):
            name, version, _build, _tags = parse_wheel_filename(path.name)
        else:
            name, version = parse_sdist_filename(path.name)
    except (InvalidWheelFilename, InvalidSdistFilename) as error:
        raise UsageError(f"{path.name} is not a wheel or sdist file name: {error}") from error
    contract = check_release_file(path, name=str(name), version=str(version))
    return path, str(canonicalize_name(name)), str(version), contract.category


def _published_filenames(client: DevpiClient, index: str, name: str) -> set[str]:
    try:
        page = client.simple_project(index, name)
    except DevpiError as error:
        if error.status == 404:
            return set()
        raise
    return {str(entry["filename"]) for entry in page.get("files", ())}
