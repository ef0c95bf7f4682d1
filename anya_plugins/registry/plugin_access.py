# mypy: disallow-untyped-calls=False
# (devpi-server's model functions are untyped; this module is the adapter to them.)
"""Read access in the devpi plugin: an ``anya`` index that only some users may read.

devpi-server 6 has no read ACL. Its ``devpiserver_stage_get_principals_for_pkg_read`` hook
guards only the file downloads (``/+f/``, ``/+e/``) and ``/+authcheck``; the simple pages,
the index's JSON (its project names) and the project metadata stay readable by anyone. So
the index option :data:`READ_KEY` feeds that hook (devpi adds ``root`` or the
``--restrict-modify`` principals, who may always read), and a tween refuses every request
under ``/{user}/{index}`` from a caller without ``pkg_read`` on it: anonymous 401 (with a
Basic challenge, so pip and uv send the credentials they hold), a signed-in user 403.
Credentials are devpi's own: its token (``X-Devpi-Auth``) or HTTP Basic with the password.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from devpi_server.model import InvalidIndexconfig, ensure_list
from pyramid.response import Response  # type: ignore[import-untyped]

from anya_plugins.registry.indexconfig import INDEX_TYPE, READ_KEY
from anya_plugins.registry.layout import ANONYMOUS
from anya_plugins.registry.plugin_responses import message_response

Handler = Callable[[Any], Any]

DEFAULT_READERS: tuple[str, ...] = (ANONYMOUS,)


def read_principals(ixconfig: Mapping[str, object]) -> list[str] | None:
    """Who may read an ``anya`` index (None: not ours, devpi's default applies)."""
    if ixconfig.get("type") != INDEX_TYPE:
        return None
    readers = ixconfig.get(READ_KEY)
    return [str(p) for p in readers] if isinstance(readers, list) else list(DEFAULT_READERS)


def normalize_readers(value: object) -> list[str]:
    readers = [str(p) for p in ensure_list(value)]
    if not readers:
        raise InvalidIndexconfig(
            f"{READ_KEY}: an empty list would lock out everyone but the administrators; "
            f"use [{ANONYMOUS!r}] for everyone"
        )
    return readers


def read_tween(handler: Handler, registry: Any) -> Handler:
    """Refuse every request under an index the caller may not read."""
    xom = registry["xom"]

    def tween(request: Any) -> Any:
        stage = _restricted_stage(xom, request.path_info)
        # devpi's security policy wraps the stage in its request context, whose ACL also
        # lets replicas read (they fetch every index's files from their primary).
        if stage is not None and not request.has_permission("pkg_read", stage):
            return _refusal(request, stage.name)
        return handler(request)

    return tween


def _restricted_stage(xom: Any, path: str) -> Any:
    """The read-restricted ``anya`` index ``path`` lies under, else None."""
    parts = path.strip("/").split("/", 2)
    if len(parts) < 2 or parts[0].startswith("+") or parts[1].startswith("+"):
        return None
    stage = xom.model.getstage(parts[0], parts[1])
    if stage is None:
        return None
    readers = read_principals(stage.ixconfig)
    return None if readers is None or ANONYMOUS in readers else stage


def _refusal(request: Any, index: str) -> Response:
    if request.authenticated_userid is None:
        response = message_response(401, f"{index} is private: sign in to read it")
        response.headers["WWW-Authenticate"] = f'Basic realm="{index}"'
        return response
    return message_response(403, f"user {request.authenticated_userid!r} may not read {index}")
