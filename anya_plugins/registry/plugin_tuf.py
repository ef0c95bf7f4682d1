# mypy: disallow-untyped-calls=False
# (devpi-server's model functions are untyped; this module is the adapter to them.)
"""TUF metadata in the devpi plugin: signed on every change, served unchanged by replicas.

With ``--anya-tuf DIR`` (a TUF directory written by ``anya-ext registry tuf init``) the
primary keeps a TUF repository (``tuf_repository``) for each index the offline-signed
top-level targets delegates to:

* every mutating request that changes a project's links or release data (upload, push,
  removal, yank) or an index's configuration re-writes the file lists of the projects it
  touched, on every delegated index that serves them, and re-signs the index role,
  snapshot and timestamp — in the request's own keyfs transaction, so the metadata is
  committed with the change or not at all;
* a thread re-signs what nears expiry (the timestamp lives a day) and picks up what a
  ceremony changed in the directory (a rotated key, a new index);
* ``GET /+tuf/metadata/<file>`` and ``GET /+tuf/targets/<dir>/<sha256>.<name>`` serve it.

The state is one keyfs key, so replicas (which have this plugin but no ``--anya-tuf``)
receive it through devpi's replication and serve exactly what the primary signed.
Files of mirror indexes are not listed: an index under TUF should not have mirror bases.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Final

from pyramid.response import Response  # type: ignore[import-untyped]

from anya_plugins.registry.plugin_project_status import QUARANTINED, project_status
from anya_plugins.registry.releases import YANKED_KEY
from anya_plugins.registry.tuf_repository import (
    RepositoryState,
    TufDirectory,
    TufRepositoryError,
    delegated_indexes,
    publish,
)
from anya_plugins.sources.tuf_targets import (
    VouchedFile,
    parse_document,
    project_document,
    target_path,
)

log = logging.getLogger(__name__)

TUF_OPTION: Final = "--anya-tuf"
STATE_KEY: Final = "ANYA_TUF"
_STATE_PATH: Final = ".anya-tuf"
METADATA_ROUTE: Final = "anya-tuf-metadata"
TARGETS_ROUTE: Final = "anya-tuf-targets"
_PROJECT_KEYS: Final = frozenset(("PROJSIMPLELINKS", "PROJVERSION", "PROJVERSIONS"))
_INDEX_KEYS: Final = frozenset(("USER",))
_MUTATING: Final = frozenset(("POST", "PUT", "PATCH", "DELETE", "PUSH"))
REFRESH_SECONDS: Final = 600.0
"""How often the primary looks for metadata nearing expiry or a changed TUF directory."""

Handler = Callable[[Any], Any]


def add_options(parser: Any) -> None:
    parser.addoption(
        TUF_OPTION,
        type=str,
        default=None,
        metavar="DIR",
        help="TUF directory (anya-ext registry tuf init): sign TUF metadata for the "
        "indexes it delegates to, with its online keys",
    )


def configure(pyramid_config: Any) -> None:
    """The state key (on primary and replicas), the views, the tween and the thread."""
    xom = pyramid_config.registry["xom"]
    if STATE_KEY not in xom.keyfs._keys:
        xom.keyfs.add_key(STATE_KEY, _STATE_PATH, dict)
    pyramid_config.add_route(METADATA_ROUTE, "/+tuf/metadata/*name")
    pyramid_config.add_route(TARGETS_ROUTE, "/+tuf/targets/*path")
    pyramid_config.add_view(metadata_view, route_name=METADATA_ROUTE, request_method="GET")
    pyramid_config.add_view(target_view, route_name=TARGETS_ROUTE, request_method="GET")
    directory = tuf_directory(xom)
    if directory is not None and not xom.is_replica():
        xom.thread_pool.register(_Refresher(xom, directory))


def tuf_directory(xom: Any) -> TufDirectory | None:
    path = getattr(xom.config.args, "anya_tuf", None)
    return TufDirectory(Path(path)) if path else None


def metadata_view(request: Any) -> Response:
    name = "/".join(request.matchdict["name"])
    data = _state(request.registry["xom"]).metadata_file(name)
    return _served(data, name)


def target_view(request: Any) -> Response:
    path = "/".join(request.matchdict["path"])
    data = _state(request.registry["xom"]).target_file(path)
    return _served(data, path)


def _served(data: bytes | None, name: str) -> Response:
    if data is None:
        return Response(
            status=404, body=f"no TUF file {name}\n".encode(), content_type="text/plain"
        )
    # Metadata changes with every upload: caches must revalidate (the files themselves, with
    # a hash in their name, could be kept, but one rule keeps an edge simple).
    return Response(
        body=data, content_type="application/json", headerlist=[("Cache-Control", "no-cache")]
    )


def tuf_tween(handler: Handler, registry: Any) -> Handler:
    """After a successful mutating request: re-sign what it changed, in its transaction."""
    xom = registry["xom"]
    directory = tuf_directory(xom)
    if directory is None or xom.is_replica():
        return handler

    def tween(request: Any) -> Any:
        response = handler(request)
        if request.method in _MUTATING and response.status_code < 400:
            try:
                _publish_changes(xom, directory, xom.keyfs.tx.dirty)
            except (TufRepositoryError, OSError, ValueError) as error:
                # The change stays; clients that require TUF refuse its pages until the
                # next successful signing (the thread retries), which the log explains.
                log.error("TUF metadata not updated: %s", error)
        return response

    return tween


class _Refresher:
    """The primary's thread: sign everything at start, then what nears expiry."""

    thread: Any

    def __init__(self, xom: Any, directory: TufDirectory) -> None:
        self.xom = xom
        self.directory = directory

    def thread_run(self) -> None:
        everything = True
        while True:
            try:
                with self.xom.keyfs.write_transaction():
                    _publish_changes(self.xom, self.directory, (), everything=everything)
                everything = False
            except Exception:  # an exception ending a devpi thread stops the server
                log.exception("TUF metadata not refreshed; retrying in %g s", REFRESH_SECONDS)
            self.thread.sleep(REFRESH_SECONDS)


def _state(xom: Any) -> RepositoryState:
    return RepositoryState.from_json(xom.keyfs.get_key(STATE_KEY).get())


def _publish_changes(
    xom: Any, directory: TufDirectory, dirty: Iterable[Any], *, everything: bool = False
) -> None:
    """Re-write the file lists the dirty keys touch (all of them with ``everything`` or when
    an index's configuration changed) and re-sign what changed or nears expiry."""
    touched: set[tuple[str, str]] = set()
    for key in dirty:
        if key.name in _INDEX_KEYS:
            everything = True
        elif key.name in _PROJECT_KEYS:
            params = key.params
            touched.add((f"{params['user']}/{params['index']}", str(params["project"])))
    key = xom.keyfs.get_key(STATE_KEY)
    state = RepositoryState.from_json(key.get())
    documents: dict[str, bytes] = {}
    for index in delegated_indexes(directory.targets()):
        stage = xom.model.getstage(index)
        if stage is None:
            continue
        members = [m for m in stage.sro() if m.ixconfig.get("type") != "mirror"]
        names = {m.name for m in members}
        if everything:
            projects = {p for m in members for p in m.list_projects_perstage()}
            projects |= {
                path.rpartition("/")[2].removesuffix(".json")
                for path in state.documents
                if path.startswith(f"{index}/")
            }
        else:
            projects = {project for owner, project in touched if owner in names}
        for project in projects:
            path = target_path(index, project)
            documents[path] = _project_document(
                xom, stage, members, project, state.documents.get(path)
            )
    publication = publish(state, directory, documents)
    if publication.signed or publication.state.documents != state.documents:
        key.set(publication.state.to_json())
        log.info("TUF: signed %s", ", ".join(publication.signed) or "nothing new")


def _project_document(
    xom: Any, stage: Any, members: list[Any], project: str, previous: bytes | None
) -> bytes:
    """The files ``stage``'s simple page lists for ``project`` (its guards applied);
    ``previous`` (the last signed list) spares reading wheels again for their metadata."""
    known = parse_document(previous) if previous is not None else {}
    files: list[VouchedFile] = []
    status = project_status(stage, project)
    if status is None or status[0] != QUARANTINED:
        seen: set[str] = set()
        for member in members:
            links = list(member.get_simplelinks_perstage(project))
            keep = stage.customizer.get_simple_links_filter_iter(project, links)
            if keep is not None:
                links = [link for link, kept in zip(links, keep, strict=True) if kept]
            for link in links:
                if link.key in seen or "sha256" not in link.hashes:
                    continue
                seen.add(link.key)
                files.append(
                    VouchedFile(
                        filename=link.basename,
                        sha256=str(link.hashes["sha256"]).lower(),
                        requires_python=link.require_python or None,
                        yanked=bool(link.yanked) or _yanked(xom, link),
                        core_metadata_sha256=_core_metadata_sha256(xom, link, known),
                    )
                )
    return project_document(stage.name, project, files)


def _core_metadata_sha256(xom: Any, link: Any, known: dict[str, VouchedFile]) -> str | None:
    """The sha256 of the METADATA devpi serves beside a wheel (``--enable-core-metadata``),
    computed as devpi computes it; None for other files or without the option."""
    if not link.basename.endswith(".whl") or not xom.config.args.enable_core_metadata:
        return None
    before = known.get(link.basename)
    if before is not None and before.sha256 == str(link.hashes["sha256"]).lower():
        return before.core_metadata_sha256
    from devpi_server.filestore import get_core_metadata_hashes

    entry = xom.filestore.get_file_entry(link.path.lstrip("/"))
    if entry is None or not entry.file_exists():
        return None
    with entry.file_open_read() as content:
        hashes = get_core_metadata_hashes(
            content, entry.project, entry.version, basename=entry.basename
        )
    return str(hashes["sha256"]) if hashes else None


def _yanked(xom: Any, link: Any) -> bool:
    """Yanked through the plugin (``plugin_releases``): in the owning index's version data."""
    entry = xom.filestore.get_file_entry(link.path.lstrip("/"))
    if entry is None or not entry.project or not entry.version:
        return False
    owner = xom.model.getstage(entry.user, entry.index)
    data = owner.get_versiondata_perstage(entry.project, entry.version) if owner else None
    return isinstance((data or {}).get(YANKED_KEY), str)
