# mypy: disallow-untyped-calls=False
# (devpi-server's model functions are untyped; this module is the adapter to them.)
"""Release attributes in the devpi plugin: yank (PEP 592) and deprecation of one version.

* ``POST /{user}/{index}/+anya/releases/{project}/{version}`` with ``{"yanked": reason}``
  (a string, possibly empty) or ``{"yanked": null}``, or with ``{"deprecated": message}``
  or ``{"deprecated": null}``; it needs upload permission on the index. The state is kept
  in devpi's version data (:data:`~anya_plugins.registry.releases.YANKED_KEY`,
  ``DEPRECATED_KEY``), so it is written in one transaction, replicated, exported, and
  shown by devpi's JSON API. A whole project's deprecation is its PEP 792 status
  (``plugin_project_status``), not a release attribute.
* On the simple pages (PEP 503 HTML and PEP 691 JSON) of every index that serves the
  release (:func:`mark_releases`, a simple-page concern), the files of a yanked release are
  marked ``yanked`` / ``data-yanked`` with the reason, those of a deprecated release
  ``_anya-deprecated`` / ``data-anya-deprecated`` with the message (PEP 691 leaves keys
  with a leading underscore to the index; no standard marks a deprecated release).
"""

from __future__ import annotations

from typing import Any, Final

from packaging.utils import canonicalize_name
from pyramid.response import Response  # type: ignore[import-untyped]

from anya_plugins.registry.plugin_responses import json_body, json_response, message_response
from anya_plugins.registry.plugin_simple_pages import SimplePage
from anya_plugins.registry.releases import DEPRECATED_KEY, YANKED_KEY
from anya_plugins.sources.simple import DEPRECATED_ATTRIBUTE, DEPRECATED_MARK

RELEASE_ROUTE = "anya-release"
RELEASE_PATTERN = "/{user:[^+/]+}/{index:[^+/]+}/+anya/releases/{project}/{version}"
_FIELDS: Final = {
    "yanked": (YANKED_KEY, "reason"),
    "deprecated": (DEPRECATED_KEY, "message"),
}


def configure(pyramid_config: Any) -> None:
    """Add the release route and view."""
    pyramid_config.add_route(RELEASE_ROUTE, RELEASE_PATTERN)
    pyramid_config.add_view(release_view, route_name=RELEASE_ROUTE, request_method="POST")


def release_view(request: Any) -> Response:
    """Yank or un-yank (``{"yanked": reason | null}``), deprecate or lift it
    (``{"deprecated": message | null}``) one version."""
    body = json_body(request)
    field = next((name for name in _FIELDS if body is not None and name in body), "yanked")
    key, meaning = _FIELDS[field]
    change = _requested_change(request, field, meaning)
    if isinstance(change, Response):
        return change
    stage, project, value = change
    version = request.matchdict["version"]
    if not stage.get_versiondata_perstage(project, version):
        return message_response(404, f"no {project} {version} on {stage.name}")
    _set(stage, project, version, key, value)
    return json_response({"project": project, "version": version, field: value})


def _requested_change(
    request: Any, field: str, meaning: str
) -> tuple[Any, str, str | None] | Response:
    """The index, the project and the new value of ``field``; or the refusal to answer."""
    stage, refusal = _writable_stage(request)
    if refusal is not None:
        return refusal
    body = json_body(request)
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


def _set(stage: Any, project: str, version: str, key: str, value: str | None) -> None:
    with stage.key_projversion(project, version).update() as versiondata:
        if value is None:
            versiondata.pop(key, None)
        else:
            versiondata[key] = value


def mark_releases(page: SimplePage) -> None:
    """The simple-page concern: mark the files of yanked and of deprecated releases."""
    for filename, (yanked, deprecated) in release_marks(page).items():
        if yanked is not None:
            page.mark_file(filename, "yanked", yanked or True)
        if deprecated is not None:
            page.mark_file(filename, DEPRECATED_MARK, deprecated, attribute=DEPRECATED_ATTRIBUTE)


def release_marks(page: SimplePage) -> dict[str, tuple[str | None, str | None]]:
    """The files the page lists whose release is yanked or deprecated:
    name -> (yank reason, deprecation message), None where it is not."""
    marks: dict[str, tuple[str | None, str | None]] = {}
    known: dict[tuple[str, str, str], tuple[str | None, str | None]] = {}
    for link in page.links:
        entry = page.file_entry(link)
        if entry is None or not entry.project or not entry.version:
            continue
        place = (entry.user, entry.index, entry.version)
        if place not in known:
            known[place] = _release_state(page.xom, entry)
        if known[place] != (None, None):
            marks[link.basename] = known[place]
    return marks


def _release_state(xom: Any, entry: Any) -> tuple[str | None, str | None]:
    """The plugin's yank reason and deprecation message of the release a file belongs to;
    mirrors are left to devpi, which passes on what the upstream page says (and reading
    their version data may fetch)."""
    owner = xom.model.getstage(entry.user, entry.index)
    if owner is None or owner.ixconfig.get("type") == "mirror":
        return None, None
    data = owner.get_versiondata_perstage(entry.project, entry.version) or {}
    return _text(data.get(YANKED_KEY)), _text(data.get(DEPRECATED_KEY))


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
