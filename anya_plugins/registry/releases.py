"""Releases over time on an Anya registry: yank (PEP 592) and un-yank, deprecate, delete.

The library side of ``anya-ext yank``/``unyank``/``deprecate``/``delete``: each function
is one authenticated request to the registry's plugin (``plugin_releases``,
``plugin_project_status``) or, for delete, to devpi itself, and returns what was done as a
:class:`ReleaseChange`.

Deprecation has two scopes, each with one home:

* a release (``NAME==VERSION``): an attribute of that version, like a yank, kept in devpi's
  version data; its files stay installable and every page that lists them marks them
  deprecated with the message;
* a project (``NAME``): its PEP 792 status ``deprecated``, kept in the index's
  ``anya_project_status`` with the other statuses (``archived``, ``quarantined``), and
  declared on its pages as any index that speaks PEP 792 does.

* A yanked release stays on the index and installable when pinned exactly (``==``);
  the simple pages mark its files (``data-yanked``, PEP 691 ``yanked``), so pip and uv
  skip it for any other requirement, and search shows the latest release not yanked.
* Delete removes a release for good, and only a volatile index allows it.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from anya_plugins.registry.devpi import Credentials
from anya_plugins.registry.errors import RegistryError

YANKED_KEY = "anya_yanked"
"""Where the plugin keeps a version's yank reason in devpi's version data (absent: not yanked)."""
DEPRECATED_KEY = "anya_deprecated"
"""Where the plugin keeps a release's deprecation message in devpi's version data."""

Action = Literal["yank", "unyank", "deprecate", "undeprecate", "delete", "status"]


class ReleaseChangeRefused(RegistryError):
    """The registry refused to change a release (no permission, no such release, not volatile)."""


@dataclass(frozen=True)
class ReleaseChange:
    """What the registry did to a project or a release of it."""

    action: Action
    index: str
    project: str
    version: str | None
    message: str | None = None
    status: str | None = None
    """The project's PEP 792 status after the change, when the change was to it."""


def yank(
    url: str, index: str, project: str, version: str, credentials: Credentials, *, reason: str
) -> ReleaseChange:
    """Mark a release yanked (PEP 592) with ``reason`` (may be empty)."""
    _post(url, f"{index}/+anya/releases/{project}/{version}", {"yanked": reason}, credentials)
    return ReleaseChange("yank", index, project, version, reason or None)


def unyank(
    url: str, index: str, project: str, version: str, credentials: Credentials
) -> ReleaseChange:
    """Serve a yanked release as an ordinary one again."""
    _post(url, f"{index}/+anya/releases/{project}/{version}", {"yanked": None}, credentials)
    return ReleaseChange("unyank", index, project, version)


def deprecate(
    url: str,
    index: str,
    project: str,
    credentials: Credentials,
    *,
    message: str | None,
    version: str | None = None,
) -> ReleaseChange:
    """Deprecate one release (``version``) or, without a version, the project (its PEP 792
    status becomes ``deprecated``), with ``message``; None lifts it (the project becomes
    ``active``)."""
    action: Action = "deprecate" if message is not None else "undeprecate"
    if version is not None:
        path = f"{index}/+anya/releases/{project}/{version}"
        _post(url, path, {"deprecated": message}, credentials)
        return ReleaseChange(action, index, project, version, message)
    status = "deprecated" if message is not None else "active"
    set_project_status(url, index, project, status, credentials, reason=message)
    return ReleaseChange(action, index, project, None, message, status=status)


def set_project_status(
    url: str,
    index: str,
    project: str,
    status: str,
    credentials: Credentials,
    *,
    reason: str | None = None,
) -> ReleaseChange:
    """Give a project a PEP 792 status on the index (``active`` clears it); quarantining
    needs an administrator of the index."""
    body = {"status": status, "reason": reason}
    _post(url, f"{index}/+anya/projects/{project}", body, credentials)
    return ReleaseChange("status", index, project, None, reason, status=status)


def delete(
    url: str, index: str, project: str, version: str, credentials: Credentials
) -> ReleaseChange:
    """Delete a release and its files; devpi allows it on volatile indexes only."""
    _send(url, "DELETE", f"{index}/{project}/{version}", None, credentials)
    return ReleaseChange("delete", index, project, version)


def _post(url: str, path: str, body: Mapping[str, object], credentials: Credentials) -> None:
    _send(url, "POST", path, json.dumps(body).encode("utf-8"), credentials)


def _send(url: str, method: str, path: str, data: bytes | None, credentials: Credentials) -> None:
    target = f"{url.rstrip('/')}/{urllib.parse.quote(path, safe='/+')}"
    token = base64.b64encode(f"{credentials.user}:{credentials.password}".encode()).decode()
    headers = {"Accept": "application/json", "Authorization": f"Basic {token}"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(target, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        raise ReleaseChangeRefused(
            f"{method} {target}: HTTP {exc.code}: {_message(exc)}",
            hint=_HINTS.get(exc.code),
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        raise ReleaseChangeRefused(
            f"{method} {target}: {getattr(exc, 'reason', exc)}",
            hint="is the registry running? (anya-ext registry status)",
        ) from None


_HINTS = {
    401: "check the user and password (ANYA_PUBLISH_PASSWORD)",
    403: "only users who may upload to the index can change its releases; "
    "delete needs a volatile index",
    404: "check the index, project and version",
}


def _message(exc: urllib.error.HTTPError) -> str:
    text = exc.read().decode("utf-8", "replace")
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        return text.strip() or str(exc.reason)
    return str(document.get("message", text)) if isinstance(document, dict) else text
