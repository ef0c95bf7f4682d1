# mypy: disallow-untyped-calls=False
# (devpi-server's model functions are untyped; this module is the adapter to them.)
"""Roles in the devpi plugin: reads, downloads and uploads outside a user's scope refused.

With ``--anya-roles FILE`` (JSON: ``{role: {permissions, scopes, groups}}``, read with
:func:`~anya_plugins.registry.roles.role_set_from_mapping`, defaults included), every request
under an ``anya`` index is checked against the roles the caller holds through the groups on
their devpi identity (devpi-ldap puts the LDAP groups there):

* ``POST`` of a release file (twine) and ``devpi push`` into the index: ``publish``;
* ``GET`` of a file (``/+f/``, ``/+e/``): ``install``;
* ``GET`` of a simple page or of the project's JSON: ``read``;

each over the project's ``category/name`` (the category from the upload form, which the
contract tween checks against the wheel's METADATA, or from the metadata devpi stored).
A refusal is a 403 whose message says which role would allow it; anonymous callers get 401
with a Basic challenge. ``root`` (devpi's administrator) is not checked. ``GET
/+anya/roles`` tells a signed-in client its roles and the role set, so it can decide
before it tries (:mod:`anya_plugins.registry.access`).

Other plugins can learn of each refusal (an audit trail): append a callable taking
``(request, decision)`` to ``pyramid_config.registry[REFUSAL_LISTENERS_KEY]``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from pyramid.response import Response  # type: ignore[import-untyped]

from anya_plugins.metadata.contract import split_keywords
from anya_plugins.metadata.taxonomy import CATEGORY_PREFIX
from anya_plugins.registry.indexconfig import INDEX_TYPE
from anya_plugins.registry.layout import ADMIN_USER
from anya_plugins.registry.plugin_responses import json_response, message_response
from anya_plugins.registry.roles import Decision, RoleSet, role_set_from_mapping

Handler = Callable[[Any], Any]
RefusalListener = Callable[[Any, Decision], None]

ROLES_OPTION: Final = "--anya-roles"
ROLE_SET_KEY: Final = "anya.role_set"
REFUSAL_LISTENERS_KEY: Final = "anya.role_refusal_listeners"
ROLES_PATH: Final = "/+anya/roles"
_ROLES_ROUTE = "anya-roles"


def add_options(parser: Any) -> None:
    parser.addoption(
        ROLES_OPTION,
        type=str,
        default=None,
        metavar="FILE",
        help="JSON role definitions ({role: {permissions, scopes, groups}}); with it, every "
        "anya index refuses reads, downloads and uploads outside the caller's roles",
    )


def load_role_set(path: Path) -> RoleSet:
    return role_set_from_mapping(json.loads(path.read_text()), source=str(path))


def configure(config: Any, pyramid_config: Any) -> None:
    """The role set and ``/+anya/roles``, when ``--anya-roles`` names a file (devpi's
    ``config``); the tween is added by the plugin with the others, and passes without it."""
    roles_file = getattr(config.args, "anya_roles", None)
    if not roles_file:
        return
    pyramid_config.registry[ROLE_SET_KEY] = load_role_set(Path(roles_file))
    pyramid_config.registry.setdefault(REFUSAL_LISTENERS_KEY, [])
    pyramid_config.add_route(_ROLES_ROUTE, ROLES_PATH)
    pyramid_config.add_view(roles_view, route_name=_ROLES_ROUTE, request_method="GET")


def roles_view(request: Any) -> Response:
    role_set: RoleSet = request.registry[ROLE_SET_KEY]
    identity = request.identity
    groups = list(identity.groups) if identity is not None else []
    return json_response({
        "user": request.authenticated_userid,
        "groups": groups,
        "roles": [role.name for role in role_set.held_by(groups)],
        "role_set": role_set.to_mapping(),
    })  # fmt: skip


def roles_tween(handler: Handler, registry: Any) -> Handler:
    """Refuse a request under an ``anya`` index that the caller's roles do not allow."""
    xom = registry["xom"]

    def tween(request: Any) -> Any:
        role_set: RoleSet | None = registry.get(ROLE_SET_KEY)
        if role_set is None:
            return handler(request)
        asked = _what_is_asked(xom, request)
        if asked is None or request.authenticated_userid == ADMIN_USER:
            return handler(request)
        permission, category, name = asked
        user = request.authenticated_userid
        if user is None:
            response = message_response(401, f"sign in to {permission} {name}")
            response.headers["WWW-Authenticate"] = 'Basic realm="anya"'
            return response
        decision = role_set.decide(request.identity.groups, permission, category, name)
        if decision.allowed:
            return handler(request)
        for listener in registry.get(REFUSAL_LISTENERS_KEY, ()):
            listener(request, decision)
        message = decision.explain(user)
        return Response(
            body=json.dumps({"message": message}) + "\n",
            status=f"403 {message}",
            content_type="application/json",
            charset="utf-8",
        )

    return tween


def _what_is_asked(xom: Any, request: Any) -> tuple[str, str | None, str] | None:
    """(permission, category, project name) of a request under an ``anya`` index, else None."""
    parts = request.path_info.strip("/").split("/")
    if len(parts) < 2 or parts[0].startswith("+") or parts[1].startswith("+"):
        return None
    stage = xom.model.getstage(parts[0], parts[1])
    if stage is None or stage.ixconfig.get("type") != INDEX_TYPE:
        return None
    rest = parts[2:]
    if request.method in ("POST", "PUSH") and not rest:
        return _publish(xom, stage, request)
    if request.method not in ("GET", "HEAD"):
        return None
    if not rest or not rest[0]:
        return ("read", None, stage.name)
    if rest[0] in ("+f", "+e"):
        return _download(stage, rest[-1])
    if rest[0] == "+simple":
        if len(rest) < 2 or not rest[1]:
            return ("read", None, stage.name)
        return ("read", _category(stage, rest[1]), _canonical(rest[1]))
    if rest[0].startswith("+"):
        return None
    return ("read", _category(stage, rest[0]), _canonical(rest[0]))


def _publish(xom: Any, stage: Any, request: Any) -> tuple[str, str | None, str] | None:
    if request.content_type.startswith("multipart/form-data"):
        form = request.POST
        if form.get(":action") != "file_upload":
            return None
        keywords = split_keywords([str(form.get("keywords") or "")])
        return ("publish", _category_of(keywords), _canonical(str(form.get("name", ""))))
    if request.content_type == "application/json":
        # ``devpi push`` names the target index; the source is this one.
        try:
            push = request.json_body
        except ValueError:
            return None
        if not isinstance(push, dict) or not push.get("targetindex"):
            return None
        name, version = str(push.get("name", "")), str(push.get("version", ""))
        data = stage.get_versiondata(name, version) or {}
        return ("publish", _category_of(_keywords(data)), _canonical(name))
    return None


def _download(stage: Any, filename: str) -> tuple[str, str | None, str]:
    try:
        if filename.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(filename)
        else:
            name, version = parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename):
        return ("install", None, filename)
    data = stage.get_versiondata(name, str(version)) or {}
    return ("install", _category_of(_keywords(data)), str(name))


def _category(stage: Any, project: str) -> str | None:
    """The category devpi stored for ``project`` (its latest version), None if none."""
    version = stage.get_latest_version(project)
    if not version:
        return None
    return _category_of(_keywords(stage.get_versiondata(project, version) or {}))


def _keywords(versiondata: Any) -> tuple[str, ...]:
    value = versiondata.get("keywords") or ""
    lines = [value] if isinstance(value, str) else [str(v) for v in value]
    return split_keywords(lines)


def _category_of(keywords: tuple[str, ...]) -> str | None:
    found = [kw.removeprefix(CATEGORY_PREFIX) for kw in keywords if kw.startswith(CATEGORY_PREFIX)]
    return found[0] if found else None


def _canonical(name: str) -> str:
    return str(canonicalize_name(name)) if name else ""
