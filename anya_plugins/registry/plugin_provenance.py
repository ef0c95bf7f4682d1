# mypy: disallow-untyped-calls=False
# (devpi-server's model functions are untyped; this module is the adapter to them.)
"""PEP 740 in the devpi plugin: attestations kept beside the files they attest, and served.

* ``twine upload --attestations`` sends an ``attestations`` form field with each file. A
  tween checks it before devpi sees the upload (HTTP 400, nothing stored, when it is not
  JSON or an attestation is not about the uploaded file) and, once devpi has answered 200,
  stores it as a devpi *reflink* of the release file (``rel`` :data:`PROVENANCE_REL`), as
  devpi stores tox results: a file in devpi's own storage, listed among the version's links,
  written in the same transaction as the upload, replicated to replicas with it and deleted
  with the release file. ``devpi push`` to another index of the server copies them too.
  devpi's export and import (``devpi-export``) know only release files, docs and tox
  results, so attestations do not survive an export.
* ``GET /{user}/{index}/+provenance/{filename}``: the PEP 740 provenance object of a file
  that index serves (the simple API's view: bases included, the dependency-confusion guard
  respected), as ``application/vnd.pypi.integrity.v1+json``.
* The simple pages (:func:`link_provenance`, a simple-page concern) give each file that has
  attestations its ``provenance`` URL: a key of its PEP 691 JSON entry, a
  ``data-provenance`` attribute of its HTML anchor. On an ``anya`` index, a file from a
  mirror base that has provenance upstream is served the upstream's object at the same URL
  (``plugin_upstream_provenance``: devpi's mirror drops it).

Uploading a file again: when devpi stores it anew (a volatile index overwrites it) the old
attestations go with the old file. When devpi answers that the identical file is already
there (a non-volatile index), attestations the file does not have yet are added: PEP 740
lets provenance grow, and sigstore signatures differ on every signing, so a retried
``twine upload`` must not be refused for carrying a fresh attestation. Nothing is removed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from devpi_server.filestore import get_hashes
from devpi_server.model import Rel
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from pyramid.response import Response  # type: ignore[import-untyped]

from anya_plugins.registry.indexconfig import INDEX_TYPE
from anya_plugins.registry.plugin_responses import (
    json_response,
    message_response,
    refusal_response,
)
from anya_plugins.registry.plugin_simple_pages import SimplePage
from anya_plugins.registry.provenance import (
    MEDIA_TYPE,
    UPLOAD_FIELD,
    Attestation,
    AttestationRefused,
    Bundle,
    new_attestations,
    parse_attestations,
    provenance_object,
    publisher,
)

PROVENANCE_REL = "anya-provenance"
"""The ``rel`` of the reflinks that hold a release file's attestation bundles."""

PROVENANCE_ROUTE = "anya-provenance"
PROVENANCE_PATTERN = "/{user:[^+/]+}/{index:[^+/]+}/+provenance/{filename}"

_UPLOAD_ACTION = "file_upload"

Handler = Callable[[Any], Any]


def configure(pyramid_config: Any) -> None:
    """Add the provenance route and view (routes added before devpi's own are matched first)."""
    pyramid_config.add_route(PROVENANCE_ROUTE, PROVENANCE_PATTERN)
    pyramid_config.add_view(provenance_view, route_name=PROVENANCE_ROUTE, request_method="GET")


@dataclass(frozen=True)
class _AttestedUpload:
    stage: Any
    project: str
    version: str
    filename: str
    sha256: str
    attestations: list[Attestation]
    user: str


@dataclass(frozen=True)
class _Push:
    source: Any
    target: Any
    project: str
    version: str


def provenance_tween(handler: Handler, registry: Any) -> Handler:
    """Check and keep upload attestations, and copy them on push."""
    xom = registry["xom"]

    def tween(request: Any) -> Any:
        try:
            upload = _attested_upload(xom, request)
        except AttestationRefused as refusal:
            return refusal_response(refusal)
        push = _internal_push(xom, request) if upload is None else None
        response = handler(request)
        if response.status_code == 200:
            if upload is not None:
                _keep(upload)
            elif push is not None:
                _copy_pushed(push)
        return response

    return tween


def _attested_upload(xom: Any, request: Any) -> _AttestedUpload | None:
    """A file upload with attestations, checked; None for every other request.

    Callers without upload permission are left to devpi's own 401 or 403.
    """
    if request.method != "POST" or not request.content_type.startswith("multipart/form-data"):
        return None
    if xom.is_replica():
        return None  # a replica relays uploads to its primary, whose tween keeps them
    parts = request.path_info.strip("/").split("/")
    if len(parts) != 2:
        return None
    form = request.POST
    field, content = form.get(UPLOAD_FIELD), form.get("content")
    if form.get(":action") != _UPLOAD_ACTION or not field or not getattr(content, "filename", None):
        return None
    stage = xom.model.getstage(*parts)
    if stage is None or not hasattr(stage, "store_releasefile"):
        return None
    if not request.has_permission("upload", stage):
        return None
    filename = str(content.filename)
    sha256 = get_hashes(content.file, hash_types=("sha256",))["sha256"]
    attestations = parse_attestations(str(field), filename=filename, sha256=sha256)
    if not attestations:
        return None
    return _AttestedUpload(
        stage=stage,
        project=canonicalize_name(str(form.get("name", ""))),
        version=str(form.get("version", "")),
        filename=filename,
        sha256=sha256,
        attestations=attestations,
        user=str(request.authenticated_userid),
    )


def _keep(upload: _AttestedUpload) -> None:
    """Store the upload's new attestations with the release file devpi now has."""
    link = _release_link(upload.stage, upload.project, upload.version, upload.filename)
    if link is None or link.hashes.get("sha256") != upload.sha256:
        return
    _attach(upload.stage, link, publisher(upload.user, upload.stage.name), upload.attestations)


def _release_link(stage: Any, project: str, version: str, filename: str) -> Any:
    # devpi may have stored the version with '-' for '_' (it guesses so from file names).
    for candidate in dict.fromkeys((version, version.replace("_", "-"))):
        try:
            linkstore = stage.get_linkstore_perstage(project, candidate)
        except stage.MissesRegistration:
            continue
        links = linkstore.get_links(rel=Rel.ReleaseFile, basename=filename)
        if links:
            return links[0]
    return None


def _attach(stage: Any, link: Any, owner: dict[str, Any], attestations: list[Attestation]) -> None:
    linkstore = stage.get_mutable_linkstore_perstage(link.project, link.version)
    fresh = new_attestations(attestations, _bundles(linkstore, link.relpath))
    if not fresh:
        return
    content = json.dumps({"publisher": owner, "attestations": fresh}).encode("utf-8")
    linkstore.new_reflink(
        rel=cast("Rel", PROVENANCE_REL),
        content_or_file=content,
        for_entrypath=link,
        hashes=get_hashes(content),
    )


class _NotReplicatedYet(Exception):
    """A replica has the link to stored attestations but not yet their file."""


def _bundles(linkstore: Any, relpath: str) -> list[Bundle]:
    """The attestation bundles stored for the release file at ``relpath``, oldest first."""
    bundles = []
    for reflink in linkstore.get_links(rel=PROVENANCE_REL, for_entrypath=relpath):
        if not reflink.entry.file_exists():
            raise _NotReplicatedYet(reflink.relpath)
        with reflink.entry.file_open_read() as stored:
            bundles.append(json.load(stored))
    return bundles


def _internal_push(xom: Any, request: Any) -> _Push | None:
    """``devpi push`` of a release to another index of this server, else None."""
    if request.method not in ("POST", "PUSH") or request.content_type != "application/json":
        return None
    if xom.is_replica():
        return None
    parts = request.path_info.strip("/").split("/")
    try:
        push = request.json_body
    except ValueError:
        return None
    if len(parts) != 2 or not isinstance(push, dict) or not push.get("targetindex"):
        return None
    target_parts = str(push["targetindex"]).split("/")
    if len(target_parts) != 2:
        return None
    source, target = xom.model.getstage(*parts), xom.model.getstage(*target_parts)
    if source is None or target is None:
        return None
    project = canonicalize_name(str(push.get("name", "")))
    return _Push(source, target, project, str(push.get("version", "")))


def _copy_pushed(push: _Push) -> None:
    """Give each pushed release file on the target the attestations it has on the source."""
    try:
        linkstore = push.source.get_linkstore_perstage(push.project, push.version)
    except push.source.MissesRegistration:
        return
    for link in linkstore.get_links(rel=Rel.ReleaseFile):
        bundles = _bundles(linkstore, link.relpath)
        if not bundles:
            continue
        copy = _release_link(push.target, push.project, push.version, link.basename)
        if copy is None or copy.hashes.get("sha256") != link.hashes.get("sha256"):
            continue
        for bundle in bundles:
            _attach(push.target, copy, bundle["publisher"], bundle["attestations"])


def provenance_view(request: Any) -> Response:
    xom = request.registry["xom"]
    user, index, filename = (request.matchdict[key] for key in ("user", "index", "filename"))
    stage = xom.model.getstage(user, index)
    if stage is None:
        return _not_found(f"no index {user}/{index}")
    if not request.has_permission("pkg_read"):
        return message_response(403, f"no permission to read {stage.name}")
    project = project_of(filename)
    link = None if project is None else _served_links(stage, project).get(filename)
    if link is None or project is None:
        return _not_found(f"{stage.name} serves no file {filename}")
    if stage.ixconfig.get("type") == INDEX_TYPE:
        # (imported here: that module imports this one's route)
        from anya_plugins.registry.plugin_upstream_provenance import upstream_provenance

        carried = upstream_provenance(xom, link, project)
        if carried is not None:
            return Response(body=carried, content_type=MEDIA_TYPE, charset="utf-8")
    try:
        bundles = _bundles_of_path(xom, link.path.lstrip("/"))
    except _NotReplicatedYet:
        return message_response(503, f"the attestations of {filename} are not replicated yet")
    if not bundles:
        return _not_found(f"{filename} has no attestations")
    return json_response(provenance_object(bundles), content_type=MEDIA_TYPE)


def project_of(filename: str) -> str | None:
    """The canonical project name of a wheel or sdist file name (None: neither)."""
    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[0])
        return str(parse_sdist_filename(filename)[0])
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None


def _served_links(stage: Any, project: str) -> dict[str, Any]:
    """The files the index's simple page of ``project`` lists: file name -> devpi's link."""
    return {link.basename: link for link in stage.get_simplelinks(project, sorted_links=False)}


def _bundles_of_path(xom: Any, relpath: str) -> list[Bundle]:
    entry = xom.filestore.get_file_entry(relpath)
    if entry is None or not entry.project or not entry.version:
        return []
    owner = xom.model.getstage(entry.user, entry.index)
    if owner is None:
        return []
    try:
        linkstore = owner.get_linkstore_perstage(entry.project, entry.version)
    except owner.MissesRegistration:
        return []
    return _bundles(linkstore, relpath)


def _attested_paths(xom: Any, relpaths: list[str]) -> set[str]:
    """Those of the release files at ``relpaths`` that have attestations."""
    attested: set[str] = set()
    seen: set[tuple[str, str, str, str]] = set()
    for relpath in relpaths:
        entry = xom.filestore.get_file_entry(relpath)
        if entry is None or not entry.project or not entry.version:
            continue
        place = (entry.user, entry.index, entry.project, entry.version)
        if place in seen:
            continue
        seen.add(place)
        owner = xom.model.getstage(entry.user, entry.index)
        if owner is None:
            continue
        try:
            linkstore = owner.get_linkstore_perstage(entry.project, entry.version)
        except owner.MissesRegistration:
            continue
        attested.update(link.for_entrypath for link in linkstore.get_links(rel=PROVENANCE_REL))
    return attested


def link_provenance(page: SimplePage) -> None:
    """The simple-page concern: a ``provenance`` URL for each file that has attestations."""
    paths = {link.basename: link.path.lstrip("/") for link in page.links}
    attested = _attested_paths(page.xom, list(paths.values()))
    if not attested:
        return
    user, index = page.stage.name.split("/")
    for filename in page.filenames:
        if paths.get(filename) in attested:
            url = page.request.route_url(
                PROVENANCE_ROUTE, user=user, index=index, filename=filename
            )
            page.mark_file(filename, "provenance", url)


def _not_found(message: str) -> Response:
    return message_response(404, message)
