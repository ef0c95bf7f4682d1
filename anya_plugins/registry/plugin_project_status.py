# mypy: disallow-untyped-calls=False
# (devpi-server's model functions are untyped; this module is the adapter to them.)
"""PEP 708 and PEP 792 in the devpi plugin: project status, and where a page's files come from.

* PEP 792 project status (``active``, ``archived``, ``deprecated``, ``quarantined``) is kept
  in one place: an ``anya`` index's ``anya_project_status`` configuration, a list of
  ``"<project> <status> [reason]"`` entries; the first index in the resolution order that
  lists a project decides its status. It is set by the layout or an administrator's
  ``devpi index`` change, or by ``POST /{user}/{index}/+anya/projects/{project}`` with
  ``{"status": ..., "reason": ...}`` (:func:`status_view`, what ``anya-ext deprecate NAME``
  sends): uploaders of the index may make a project they hold there ``active``,
  ``deprecated`` or ``archived``; quarantining, or lifting a quarantine, needs permission
  to modify the index (PEP 792: an index administrator's decision).
* A page says the status as ``"project-status": {"status", "reason"}`` (JSON) or ``<meta
  name="pypi:project-status">`` (HTML); a quarantined project's page lists no files and its
  files are not served (``GET /+f/...``: 403); an archived or quarantined project takes no
  uploads (400, nothing stored).
* PEP 708: every page of an ``anya`` index lists, as ``alternate-locations``, the indexes
  of this server whose files it serves (so a page of a private name names only the private
  index), and, as ``tracks``, the upstream project of a mirror whose files it serves. A
  client can then tell files it was meant to get from files of another index, on any server
  that speaks this. Pages of plain devpi stages get no declaration: they merge unguarded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from devpi_server.model import InvalidIndexconfig, ensure_list
from packaging.utils import canonicalize_name
from pyramid.response import Response  # type: ignore[import-untyped]

from anya_plugins.registry.indexconfig import INDEX_TYPE
from anya_plugins.registry.plugin_provenance import project_of
from anya_plugins.registry.plugin_responses import json_body, json_response, message_response
from anya_plugins.registry.plugin_simple_pages import SimplePage
from anya_plugins.sources.project_markers import STATUSES

PROJECT_STATUS_KEY: Final = "anya_project_status"
NO_UPLOADS: Final = ("archived", "quarantined")
API_VERSION: Final = "1.4"
"""PEP 792's version of the simple API (PEP 708's keys came with 1.2)."""

STATUS_ROUTE: Final = "anya-project-status"
STATUS_PATTERN: Final = "/{user:[^+/]+}/{index:[^+/]+}/+anya/projects/{project}"
QUARANTINED: Final = "quarantined"
_FILE_PATH_PARTS: Final = 3

Handler = Callable[[Any], Any]


def normalize_statuses(value: object) -> list[str]:
    """``anya_project_status`` as devpi stores it: ``"<canonical name> <status> [reason]"``."""
    entries = []
    for item in ensure_list(value):
        name, _, rest = str(item).strip().partition(" ")
        status, _, reason = rest.strip().partition(" ")
        if not name or status.lower() not in STATUSES:
            raise InvalidIndexconfig(
                f"{PROJECT_STATUS_KEY}: {item!r} is not '<project> <status> [reason]' "
                f"with a status of {', '.join(STATUSES)}"
            )
        entries.append(" ".join(p for p in (canonicalize_name(name), status.lower(), reason) if p))
    return entries


def project_status(stage: Any, project: str) -> tuple[str, str | None] | None:
    """The status (and reason) the first index in ``stage``'s resolution order gives."""
    return project_statuses(stage).get(canonicalize_name(project))


def project_statuses(stage: Any) -> dict[str, tuple[str, str | None]]:
    """Every project a status is given to in ``stage``'s resolution order (the first wins)."""
    found: dict[str, tuple[str, str | None]] = {}
    for member in stage.sro():
        for name, status, reason in _entries(member.ixconfig):
            found.setdefault(name, (status, reason))
    return found


def _entries(ixconfig: Any) -> list[tuple[str, str, str | None]]:
    entries = []
    for entry in ixconfig.get(PROJECT_STATUS_KEY, ()):
        name, _, rest = str(entry).partition(" ")
        status, _, reason = rest.partition(" ")
        entries.append((name, status, reason or None))
    return entries


def configure(pyramid_config: Any) -> None:
    """Add the project status route and view."""
    pyramid_config.add_route(STATUS_ROUTE, STATUS_PATTERN)
    pyramid_config.add_view(status_view, route_name=STATUS_ROUTE, request_method="POST")


def status_view(request: Any) -> Response:
    """Set a project's PEP 792 status on the index: ``{"status": ..., "reason": ...}``."""
    xom = request.registry["xom"]
    user, index = request.matchdict["user"], request.matchdict["index"]
    stage = xom.model.getstage(user, index)
    if stage is None:
        return message_response(404, f"no index {user}/{index}")
    if stage.ixconfig.get("type") != INDEX_TYPE:
        return message_response(400, f"{stage.name} keeps no project status (not an anya index)")
    body = json_body(request)
    status = body.get("status") if body is not None else None
    reason = body.get("reason") if body is not None else None
    if status not in STATUSES or not isinstance(reason, str | None):
        return message_response(
            400, f'send {{"status": "<{"|".join(STATUSES)}>", "reason": "<text>" or null}}'
        )
    project = canonicalize_name(request.matchdict["project"])
    refusal = _refused_change(request, stage, project, status)
    if refusal is not None:
        return refusal
    kept = [entry for entry in _entries(stage.ixconfig) if entry[0] != project]
    if status != "active":
        kept.append((project, status, " ".join((reason or "").split()) or None))
    stage.modify(**{PROJECT_STATUS_KEY: [" ".join(p for p in entry if p) for entry in kept]})
    return json_response({"project": project, "status": status, "reason": reason or None})


def _refused_change(request: Any, stage: Any, project: str, status: str) -> Response | None:
    if not request.authenticated_userid:
        return message_response(401, "sign in to change a project's status")
    current = next((entry[1] for entry in _entries(stage.ixconfig) if entry[0] == project), None)
    if QUARANTINED in (status, current):
        if not request.has_permission("index_modify"):
            return message_response(
                403, f"only administrators of {stage.name} may quarantine or release a project"
            )
        return None
    if not request.has_permission("upload"):
        return message_response(403, f"no permission to change projects on {stage.name}")
    if not stage.list_versions_perstage(project):
        return message_response(404, f"no project {project} on {stage.name}")
    return None


def status_tween(handler: Handler, registry: Any) -> Handler:
    """Refuse uploads to archived or quarantined projects and the files of quarantined ones."""
    xom = registry["xom"]

    def tween(request: Any) -> Any:
        refusal = _refused_upload(xom, request) or _refused_file(xom, request)
        if refusal is not None:
            return refusal
        return handler(request)

    return tween


def _refused_upload(xom: Any, request: Any) -> Response | None:
    if request.method != "POST" or not request.content_type.startswith("multipart/form-data"):
        return None
    parts = request.path_info.strip("/").split("/")
    if len(parts) != 2:
        return None
    stage = xom.model.getstage(*parts)
    name = request.POST.get("name")
    if stage is None or not name:
        return None
    found = project_status(stage, str(name))
    if found is None or found[0] not in NO_UPLOADS:
        return None
    return message_response(
        400, f"{canonicalize_name(str(name))} is {found[0]} on {stage.name}: no uploads (PEP 792)"
    )


def _refused_file(xom: Any, request: Any) -> Response | None:
    """403 for a file (``/{user}/{index}/+f/...``) of a project quarantined on that index.

    PEP 792: a quarantined project's files must not be installable; leaving them off the
    page is not enough while their URLs are known (a lock, a cache, a link elsewhere).
    """
    if request.method not in ("GET", "HEAD"):
        return None
    parts = request.path_info.strip("/").split("/", _FILE_PATH_PARTS)
    if len(parts) <= _FILE_PATH_PARTS or parts[2] != "+f":
        return None
    project = project_of(parts[-1].rsplit("/", 1)[-1].removesuffix(".metadata"))
    stage = None if project is None else xom.model.getstage(parts[0], parts[1])
    if stage is None or project is None:
        return None
    found = project_status(stage, project)
    if found is None or found[0] != QUARANTINED:
        return None
    because = f": {found[1]}" if found[1] else ""
    return message_response(
        403,
        f"{project} is quarantined on {stage.name}{because}; its files are not served (PEP 792)",
    )


def declare_markers(page: SimplePage) -> None:
    """The simple-page concern: PEP 708 locations and tracks, PEP 792 status."""
    stage = page.stage
    if stage.ixconfig.get("type") != INDEX_TYPE:
        # Only the plugin's own indexes vouch for what they serve: a plain devpi stage
        # merges its bases unguarded, and declaring them would hide that from the client.
        return
    owners = _serving_stages(page)
    base = page.request.application_url.rstrip("/")
    alternates = [f"{base}/{owner.name}/+simple/{page.project}/" for owner in owners]
    tracks = [
        f"{str(owner.ixconfig['mirror_url']).rstrip('/')}/{page.project}/"
        for owner in owners
        if owner.ixconfig.get("type") == "mirror" and owner.ixconfig.get("mirror_url")
    ]
    page.set_api_version(API_VERSION)
    page.declare(
        "alternate-locations", alternates, [("pypi:alternate-locations", u) for u in alternates]
    )
    if tracks:
        page.declare("tracks", tracks, [("pypi:tracks", url) for url in tracks])
    found = project_status(stage, page.project)
    if found is None:
        return
    status, reason = found
    meta = [("pypi:project-status", status)]
    meta += [("pypi:project-status-reason", reason)] if reason else []
    declared = {"status": status, **({"reason": reason} if reason else {})}
    page.declare("project-status", declared, meta)
    if status == QUARANTINED:
        page.drop_files()


def _serving_stages(page: SimplePage) -> list[Any]:
    """The indexes whose files the page lists, in resolution order (the page's own first)."""
    names = {link.path.lstrip("/").split("/+f/")[0] for link in page.links}
    names.add(page.stage.name)
    return [member for member in page.stage.sro() if member.name in names]
