# mypy: disallow-untyped-calls=False
# (devpi-server's model functions are untyped; this module is the adapter to them.)
"""The server's audit trail, recorded by the devpi plugin (:mod:`audit_trail` keeps it).

A tween sees every request answered over HTTP, with the user who asked and the final status:

* ``upload``: a file posted (twine's ``file_upload``) or pushed (``devpi push``) to an index,
  accepted or refused (400, 409);
* ``download``: a release file (``/+f/``) served (200);
* ``sign-in-failure``: ``POST /+login`` answered 401 (the name tried is kept, never the password);
* ``permission-refused``: any other 401 or 403 (an upload without permission too);
* ``config-change``: a user or index created, changed or deleted, or a release deleted
  (``PUT``/``PATCH``/``DELETE`` answered below 400), with the keys it set (values of index
  options, credentials masked; nothing of a user's body but its keys).

Changes that do not come over HTTP (``devpi-import``, replication) are not in this trail.
Another plugin that refuses a request itself calls :func:`record_server_event` with its reason;
the tween then does not record that request a second time.

``GET /+audit-trail[?since=ISO-8601&until=ISO-8601]`` serves the trail as JSON lines to the
users and groups of ``--anya-audit-readers`` (default ``root,:security,:admin``): 401 without
a sign-in, 403 for anyone else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from pyramid.response import Response  # type: ignore[import-untyped]

from anya_plugins.registry.audit_trail import (
    ANONYMOUS,
    ServerAction,
    ServerEvent,
    export_trail,
    record_event,
    trail_path,
)
from anya_plugins.registry.plugin_responses import json_body, message_response

TRAIL_ROUTE: Final = "anya-audit-trail"
TRAIL_VIEW_PATH: Final = "/+audit-trail"
READERS_OPTION: Final = "--anya-audit-readers"
DEFAULT_READERS: Final = "root,:security,:admin"
NDJSON: Final = "application/x-ndjson"
_RECORDED: Final = "anya.audit_trail.recorded"
_SECRET_WORDS: Final = ("password", "token", "secret", "key")
_LOGIN_PATH: Final = "/+login"
_CHANGE_METHODS: Final = ("PUT", "PATCH", "DELETE")

Handler = Callable[[Any], Any]


def add_options(parser: Any) -> None:
    parser.addoption(
        READERS_OPTION,
        type=str,
        default=DEFAULT_READERS,
        metavar="USER|:GROUP[,...]",
        help="who may read the audit trail at /+audit-trail (users, and :groups as devpi-ldap "
        f"names them); default {DEFAULT_READERS}; also DEVPISERVER_ANYA_AUDIT_READERS",
    )


def configure(pyramid_config: Any) -> None:
    pyramid_config.add_route(TRAIL_ROUTE, TRAIL_VIEW_PATH)
    pyramid_config.add_view(trail_view, route_name=TRAIL_ROUTE, request_method="GET")


def record_server_event(
    request: Any,
    action: ServerAction,
    *,
    status: int,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Record ``request`` in the trail as ``action`` answered ``status``, with ``details`` (JSON
    data, no secrets: a role, a reason). For plugins that refuse requests themselves; the
    trail's tween then leaves this request alone."""
    request.environ[_RECORDED] = True
    index, project, version, filename = _what(request)
    event = ServerEvent(
        action=action,
        actor=_actor(request),
        remote=_remote(request),
        method=request.method,
        path=request.path_info,
        status=status,
        index=index,
        project=project,
        version=version,
        filename=filename,
        details={**_origin_details(request), **(details or {})},
    )
    record_event(_trail(request), event)


def audit_trail_tween(handler: Handler, registry: Any) -> Handler:
    """Record the request once its answer is known (see the module's list)."""

    def tween(request: Any) -> Any:
        response = handler(request)
        if request.environ.get(_RECORDED):
            return response
        status = int(response.status_code)
        action = _action(request, status)
        if action is not None:
            record_server_event(request, action, status=status, details=_details(request, action))
        return response

    return tween


def trail_view(request: Any) -> Response:
    readers = _readers(request.registry["xom"])
    if request.authenticated_userid is None:
        return message_response(401, "sign in to read the audit trail")
    if not _principals(request) & readers:
        return message_response(
            403,
            f"user {request.authenticated_userid!r} may not read the audit trail "
            f"(readers: {', '.join(sorted(readers))})",
        )
    try:
        since, until = (_time(request.params.get(name)) for name in ("since", "until"))
    except ValueError as error:
        return message_response(400, f"since/until must be ISO 8601 times: {error}")
    export = export_trail(_trail(request), since=since, until=until)
    return Response(
        body=export.lines,
        content_type=NDJSON,
        charset=None,
        headers={"X-Anya-Trail-Complete": "1" if export.complete else "0"},
    )


def _action(request: Any, status: int) -> ServerAction | None:
    method, path = request.method, request.path_info
    if path == _LOGIN_PATH and method == "POST":
        return "sign-in-failure" if status == 401 else None
    if status in (401, 403):
        return "permission-refused"
    if _is_upload(request):
        return "upload"
    if method == "GET" and "/+f/" in path and status == 200:
        return "download"
    if method in _CHANGE_METHODS and status < 400:
        return "config-change"
    return None


def _is_upload(request: Any) -> bool:
    if request.method == "PUSH":
        return True
    if request.method != "POST" or len(_segments(request)) != 2:
        return False
    if request.content_type.startswith("multipart/form-data"):
        return bool(request.POST.get(":action") == "file_upload")
    body = json_body(request) if request.content_type == "application/json" else None
    return body is not None and "targetindex" in body


def _details(request: Any, action: ServerAction) -> dict[str, Any]:
    if action == "sign-in-failure":
        body = json_body(request) or {}
        return {"attempted_user": str(body.get("user", ""))}
    if action == "config-change":
        body = json_body(request) or {}
        if len(_segments(request)) == 1:  # a user: its password and e-mail are not for the log
            return {"keys": sorted(body)}
        return {"keys": sorted(body), "values": _masked(body)}
    if action == "upload" and request.content_type == "application/json":
        body = json_body(request) or {}
        return {"push_to": str(body.get("targetindex", ""))}
    if action == "upload":  # PEP 740 attestations sent with the file (twine --attestations)
        return {"attested": bool(request.POST.get("attestations"))}
    return {}


def _masked(body: Mapping[str, Any]) -> dict[str, Any]:
    from anya_plugins.sources.credentials import redact

    masked: dict[str, Any] = {}
    for key, value in body.items():
        if any(word in key.lower() for word in _SECRET_WORDS):
            masked[key] = "****"
        elif isinstance(value, str):
            masked[key] = redact(value)
        else:
            masked[key] = value
    return masked


def _what(request: Any) -> tuple[str | None, str | None, str | None, str | None]:
    """Index, project, version and file name the request is about, as far as it names them."""
    segments = _segments(request)
    index = "/".join(segments[:2]) if len(segments) >= 2 and "+" not in segments[1][:1] else None
    if "+f" in segments:
        filename = segments[-1]
        project, version = _from_filename(filename)
        return index, project, version, filename
    if request.method == "POST" and request.content_type.startswith("multipart/form-data"):
        form = request.POST
        content = form.get("content")
        sent = getattr(content, "filename", None)
        name, version = form.get("name"), form.get("version")
        return (
            index,
            str(name) if name else None,
            str(version) if version else None,
            str(sent) if sent else None,
        )
    body = json_body(request) if request.content_type == "application/json" else None
    if body is not None and "targetindex" in body:
        return (
            index,
            str(body.get("name") or "") or None,
            str(body.get("version") or "") or None,
            None,
        )
    project = segments[2] if len(segments) >= 3 and not segments[2].startswith("+") else None
    version = segments[3] if len(segments) >= 4 and not segments[3].startswith("+") else None
    return index, project, version, None


def _from_filename(filename: str) -> tuple[str | None, str | None]:
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )

    try:
        if filename.endswith(".whl"):
            name, version, *_ = parse_wheel_filename(filename)
        else:
            name, version = parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None, None
    return str(name), str(version)


def _segments(request: Any) -> list[str]:
    return [part for part in request.path_info.split("/") if part]


def _actor(request: Any) -> str:
    user = request.authenticated_userid
    return str(user) if user else ANONYMOUS


def _remote(request: Any) -> str:
    return str(request.remote_addr or "unknown")


def _origin_details(request: Any) -> dict[str, Any]:
    """What a proxy says about the client: recorded, not trusted (anyone can send it)."""
    forwarded = request.headers.get("X-Forwarded-For")
    return {"forwarded_for": forwarded} if forwarded else {}


def _principals(request: Any) -> set[str]:
    identity = request.identity
    groups = getattr(identity, "groups", None) or ()
    return {str(request.authenticated_userid), *(f":{group}" for group in groups)}


def _readers(xom: Any) -> set[str]:
    value = getattr(xom.config.args, "anya_audit_readers", None) or DEFAULT_READERS
    return {part.strip() for part in str(value).split(",") if part.strip()}


def _trail(request: Any) -> Path:
    return trail_path(Path(request.registry["xom"].config.server_path))


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    time = datetime.fromisoformat(value)
    return time if time.tzinfo is not None else time.replace(tzinfo=UTC)
