# mypy: disallow-untyped-calls=False
# (devpi-server's model functions are untyped; this module is the adapter to them.)
"""Yank (PEP 592) and deprecation in the devpi plugin, which devpi has not for its own indexes.

* ``POST /{user}/{index}/+anya/releases/{project}/{version}`` with ``{"yanked": reason}``
  (a string, possibly empty) or ``{"yanked": null}``; ``POST
  /{user}/{index}/+anya/projects/{project}`` with ``{"deprecated": message}`` or ``null``.
  Both need upload permission on the index. The state is kept in devpi's version data
  (:data:`~anya_plugins.registry.releases.YANKED_KEY`, ``DEPRECATED_KEY``), so it is
  written in one transaction, replicated, exported, and shown by devpi's JSON API.
* The simple pages (PEP 503 HTML and PEP 691 JSON) of every index that serves a yanked
  release mark its files ``data-yanked`` / ``"yanked"`` with the reason.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from typing import Any

from packaging.utils import canonicalize_name
from pyramid.response import Response  # type: ignore[import-untyped]

from anya_plugins.registry.devpi import SIMPLE_JSON
from anya_plugins.registry.plugin_responses import json_response, message_response
from anya_plugins.registry.releases import DEPRECATED_KEY, YANKED_KEY

RELEASE_ROUTE = "anya-release"
RELEASE_PATTERN = "/{user:[^+/]+}/{index:[^+/]+}/+anya/releases/{project}/{version}"
PROJECT_ROUTE = "anya-project"
PROJECT_PATTERN = "/{user:[^+/]+}/{index:[^+/]+}/+anya/projects/{project}"

_SIMPLE_PROJECT_ROUTES = frozenset(
    (
        "/{user}/{index}/+simple/{project}",
        "/{user}/{index}/+simple/{project}/",
        "installer_simple_project",
    )
)

Handler = Callable[[Any], Any]


def configure(pyramid_config: Any) -> None:
    """Add the release and project routes and views."""
    pyramid_config.add_route(RELEASE_ROUTE, RELEASE_PATTERN)
    pyramid_config.add_view(release_view, route_name=RELEASE_ROUTE, request_method="POST")
    pyramid_config.add_route(PROJECT_ROUTE, PROJECT_PATTERN)
    pyramid_config.add_view(project_view, route_name=PROJECT_ROUTE, request_method="POST")


def release_view(request: Any) -> Response:
    """Yank (``{"yanked": reason}``) or un-yank (``{"yanked": null}``) one version."""
    change = _requested_change(request, "yanked", "reason")
    if isinstance(change, Response):
        return change
    stage, project, reason = change
    version = request.matchdict["version"]
    if not stage.get_versiondata_perstage(project, version):
        return message_response(404, f"no {project} {version} on {stage.name}")
    _set(stage, project, version, YANKED_KEY, reason)
    return json_response({"project": project, "version": version, "yanked": reason})


def project_view(request: Any) -> Response:
    """Deprecate every version of a project (``{"deprecated": message}``; null lifts it)."""
    change = _requested_change(request, "deprecated", "message")
    if isinstance(change, Response):
        return change
    stage, project, message = change
    versions = stage.list_versions_perstage(project)
    if not versions:
        return message_response(404, f"no project {project} on {stage.name}")
    for version in versions:
        _set(stage, project, version, DEPRECATED_KEY, message)
    return json_response({"project": project, "deprecated": message})


def _requested_change(
    request: Any, field: str, meaning: str
) -> tuple[Any, str, str | None] | Response:
    """The index, the project and the new value of ``field``; or the refusal to answer."""
    stage, refusal = _writable_stage(request)
    if refusal is not None:
        return refusal
    body = _json_body(request)
    if body is None or field not in body or not isinstance(body[field], str | None):
        return message_response(400, f'send {{"{field}": "<{meaning}>"}} or {{"{field}": null}}')
    return stage, canonicalize_name(request.matchdict["project"]), body[field]


def _writable_stage(request: Any) -> tuple[Any, Response | None]:
    xom = request.registry["xom"]
    user, index = request.matchdict["user"], request.matchdict["index"]
    stage = xom.model.getstage(user, index)
    if stage is None:
        return None, message_response(404, f"no index {user}/{index}")
    if not request.authenticated_userid:
        return None, message_response(401, "sign in to change releases")
    if not request.has_permission("upload"):
        return None, message_response(403, f"no permission to change releases on {stage.name}")
    if stage.ixconfig.get("type") == "mirror":
        return None, message_response(400, f"{stage.name} is a mirror")
    return stage, None


def _json_body(request: Any) -> dict[str, Any] | None:
    try:
        body = request.json_body
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _set(stage: Any, project: str, version: str, key: str, value: str | None) -> None:
    with stage.key_projversion(project, version).update() as versiondata:
        if value is None:
            versiondata.pop(key, None)
        else:
            versiondata[key] = value


def releases_tween(handler: Handler, registry: Any) -> Handler:
    """Mark the files of yanked releases on the simple pages."""
    xom = registry["xom"]

    def tween(request: Any) -> Any:
        response = handler(request)
        route = request.matched_route
        if (
            response.status_code == 200
            and route is not None
            and route.name in _SIMPLE_PROJECT_ROUTES
            and request.method == "GET"
        ):
            _mark_yanked(xom, request, response)
        return response

    return tween


def _mark_yanked(xom: Any, request: Any, response: Any) -> None:
    stage = xom.model.getstage(request.matchdict["user"], request.matchdict["index"].rstrip("/"))
    if stage is None:
        return
    project = canonicalize_name(request.matchdict["project"].rstrip("/"))
    yanked = yanked_files(xom, stage, project)
    if not yanked:
        return
    if response.content_type == SIMPLE_JSON:
        page = json.loads(response.body)
        for entry in page.get("files", ()):
            reason = yanked.get(entry.get("filename"))
            if reason is not None:
                entry["yanked"] = reason or True
        response.body = json.dumps(page).encode("utf-8")
    elif response.content_type == "text/html":
        text = response.body.decode("utf-8")
        for filename, reason in yanked.items():
            text = re.sub(
                rf"<a ([^>]*)>{re.escape(filename)}</a>",
                _yanked_anchor(filename, reason),
                text,
            )
        response.body = text.encode("utf-8")


def _yanked_anchor(filename: str, reason: str) -> Callable[[re.Match[str]], str]:
    def anchor(match: re.Match[str]) -> str:
        return f'<a {match.group(1)} data-yanked="{html.escape(reason)}">{filename}</a>'

    return anchor


def yanked_files(xom: Any, stage: Any, project: str) -> dict[str, str]:
    """The files the index serves for ``project`` whose release is yanked: name -> reason."""
    yanked: dict[str, str] = {}
    reasons: dict[tuple[str, str, str], str | None] = {}
    for link in stage.get_simplelinks(project, sorted_links=False):
        entry = xom.filestore.get_file_entry(link.path.lstrip("/"))
        if entry is None or not entry.project or not entry.version:
            continue
        place = (entry.user, entry.index, entry.version)
        if place not in reasons:
            reasons[place] = _yank_reason(xom, entry)
        found = reasons[place]
        if found is not None:
            yanked[link.basename] = found
    return yanked


def _yank_reason(xom: Any, entry: Any) -> str | None:
    """The plugin's yank reason of the release a file belongs to; mirrors are left to devpi,
    which passes on what the upstream page says (and reading their version data may fetch)."""
    owner = xom.model.getstage(entry.user, entry.index)
    if owner is None or owner.ixconfig.get("type") == "mirror":
        return None
    data = owner.get_versiondata_perstage(entry.project, entry.version) or {}
    reason = data.get(YANKED_KEY)
    return reason if isinstance(reason, str) else None
