# mypy: disallow-untyped-calls=False
# (devpi-server's model functions are untyped; this module is the adapter to them.)
"""PEP 708 and PEP 792 on the simple pages the devpi plugin serves.

* PEP 792 project status: an ``anya`` index's ``anya_project_status`` configuration lists
  ``"<project> <status> [reason]"`` entries (``archived``, ``quarantined``, ``deprecated``);
  the first index in the resolution order that lists a project decides its status. A
  page says it as ``"project-status": {"status", "reason"}`` (JSON) or ``<meta
  name="pypi:project-status">`` (HTML); a quarantined project's page lists no files, and
  an archived or quarantined project takes no uploads (400, nothing stored).
* PEP 708: every page of an ``anya`` index lists, as ``alternate-locations``, the indexes
  of this server whose files it serves (so a page of a private name names only the private
  index), and, as ``tracks``, the upstream project of a mirror whose files it serves. A
  client can then tell files it was meant to get from files of another index, on any server
  that speaks this. Pages of plain devpi stages get no declaration: they merge unguarded.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from typing import Any, Final

from devpi_server.model import InvalidIndexconfig, ensure_list
from packaging.utils import canonicalize_name

from anya_plugins.registry.indexconfig import INDEX_TYPE
from anya_plugins.registry.plugin_responses import message_response
from anya_plugins.sources.project_markers import STATUSES

PROJECT_STATUS_KEY: Final = "anya_project_status"
NO_UPLOADS: Final = ("archived", "quarantined")
API_VERSION: Final = "1.4"
"""PEP 792's version of the simple API (PEP 708's keys came with 1.2)."""

_SIMPLE_PROJECT_ROUTES = frozenset(
    (
        "/{user}/{index}/+simple/{project}",
        "/{user}/{index}/+simple/{project}/",
        "installer_simple_project",
    )
)
_SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
_ANCHOR = re.compile(r"<a\s[^>]*>.*?</a>\s*(<br\s*/?>)?\s*", re.DOTALL | re.IGNORECASE)
_VERSION_META = re.compile(r'<meta\s+name="pypi:repository-version"\s+content="[^"]*"\s*/?>')

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
    wanted = canonicalize_name(project)
    for member in stage.sro():
        for entry in member.ixconfig.get(PROJECT_STATUS_KEY, ()):
            name, _, rest = entry.partition(" ")
            if name == wanted:
                status, _, reason = rest.partition(" ")
                return status, reason or None
    return None


def project_markers_tween(handler: Handler, registry: Any) -> Handler:
    """Refuse uploads to archived or quarantined projects; add PEP 708/792 to simple pages."""
    xom = registry["xom"]

    def tween(request: Any) -> Any:
        refusal = _refused_upload(xom, request)
        if refusal is not None:
            return refusal
        response = handler(request)
        route = request.matched_route
        if (
            request.method == "GET"
            and response.status_code == 200
            and route is not None
            and route.name in _SIMPLE_PROJECT_ROUTES
        ):
            _add_markers(xom, request, response)
        return response

    return tween


def _refused_upload(xom: Any, request: Any) -> Any:
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


def _add_markers(xom: Any, request: Any, response: Any) -> None:
    user, index = request.matchdict["user"], request.matchdict["index"].rstrip("/")
    stage = xom.model.getstage(user, index)
    if stage is None or stage.ixconfig.get("type") != INDEX_TYPE:
        # Only the plugin's own indexes vouch for what they serve: a plain devpi stage
        # merges its bases unguarded, and declaring them would hide that from the client.
        return
    project = canonicalize_name(request.matchdict["project"].rstrip("/"))
    owners = _serving_stages(xom, stage, project)
    base = request.application_url.rstrip("/")
    alternates = [f"{base}/{owner.name}/+simple/{project}/" for owner in owners]
    tracks = [
        f"{str(owner.ixconfig['mirror_url']).rstrip('/')}/{project}/"
        for owner in owners
        if owner.ixconfig.get("type") == "mirror" and owner.ixconfig.get("mirror_url")
    ]
    found = project_status(stage, project)
    if response.content_type == _SIMPLE_JSON:
        response.body = _json_page(response.body, alternates, tracks, found)
    elif response.content_type == "text/html":
        response.body = _html_page(response.body.decode("utf-8"), alternates, tracks, found)


def _serving_stages(xom: Any, stage: Any, project: str) -> list[Any]:
    """The indexes whose files the page lists, in resolution order (the page's own first)."""
    links = stage.get_simplelinks(project, sorted_links=False)
    names = {link.path.lstrip("/").split("/+f/")[0] for link in links}
    names.add(stage.name)
    return [member for member in stage.sro() if member.name in names]


def _json_page(
    body: bytes, alternates: list[str], tracks: list[str], found: tuple[str, str | None] | None
) -> bytes:
    page = json.loads(body)
    page.setdefault("meta", {})["api-version"] = API_VERSION
    page["alternate-locations"] = alternates
    if tracks:
        page["tracks"] = tracks
    if found is not None:
        status, reason = found
        page["project-status"] = {"status": status, **({"reason": reason} if reason else {})}
        if status == "quarantined":
            page["files"] = []
    return json.dumps(page).encode("utf-8")


def _html_page(
    text: str, alternates: list[str], tracks: list[str], found: tuple[str, str | None] | None
) -> bytes:
    meta = [("pypi:repository-version", API_VERSION)]
    meta += [("pypi:alternate-locations", url) for url in alternates]
    meta += [("pypi:tracks", url) for url in tracks]
    if found is not None:
        meta.append(("pypi:project-status", found[0]))
        if found[1]:
            meta.append(("pypi:project-status-reason", found[1]))
        if found[0] == "quarantined":
            text = _ANCHOR.sub("", text)
    tags = "".join(
        f'<meta name="{name}" content="{html.escape(content)}">' for name, content in meta
    )
    text = _VERSION_META.sub("", text)
    head = re.search(r"<head[^>]*>", text, re.IGNORECASE)
    if head is None:
        text = f"<head>{tags}</head>{text}"
    else:
        text = f"{text[: head.end()]}{tags}{text[head.end() :]}"
    return text.encode("utf-8")
