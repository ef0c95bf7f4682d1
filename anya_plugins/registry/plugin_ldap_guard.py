# mypy: disallow-untyped-calls=False
# (devpi-server's configuration objects are untyped.)
"""A sign-in guard for devpi-ldap: no sign-in while the directory does not answer.

devpi-ldap binds through an ldap3 server pool that retries an unreachable server without end,
inside devpi's write transaction: one sign-in while LDAP is down blocks every other write
until it returns (measured: more than 10 minutes). So before devpi sees a request that
carries a password (``POST /+login``, HTTP Basic), this tween, outside devpi's transaction,
opens a TCP connection to each directory server with a short timeout; when none answers it
returns 503 naming the directory, and devpi is never asked. A directory that accepts the
connection but does not answer holds devpi's transaction for devpi-ldap's receive timeout
(10 s), after which its error (a 500 from devpi) becomes the same 503. Requests with a devpi token
(``X-Devpi-Auth``) or without credentials pass: they need no directory.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from typing import Any, Final
from urllib.parse import urlsplit

from devpi_server.auth import AuthException

from anya_plugins.registry.plugin_responses import message_response

Handler = Callable[[Any], Any]

PROBE_TIMEOUT: Final = 2.0
_DEFAULT_PORTS: Final = {"ldap": 389, "ldaps": 636}


def directory_urls(ldap_config: Any) -> tuple[str, ...]:
    """The LDAP URLs of devpi-ldap's configuration (``url`` or ``server_pool``)."""
    if not isinstance(ldap_config, dict):
        return ()
    if "server_pool" in ldap_config:
        return tuple(str(server["url"]) for server in ldap_config["server_pool"])
    return (str(ldap_config["url"]),) if "url" in ldap_config else ()


def first_answering(urls: Sequence[str], timeout: float = PROBE_TIMEOUT) -> str | None:
    """The first of ``urls`` whose server accepts a TCP connection, None if none does."""
    for url in urls:
        parts = urlsplit(url)
        host = parts.hostname or "localhost"
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme, 389)
        try:
            with socket.create_connection((host, port), timeout=timeout):
                return url
        except OSError:
            continue
    return None


def ldap_guard_tween(handler: Handler, registry: Any) -> Handler:
    xom = registry["xom"]
    urls = directory_urls(getattr(xom.config.args, "ldap_config", None))

    def tween(request: Any) -> Any:
        if not urls or not _carries_password(request):
            return handler(request)
        if first_answering(urls) is None:
            return _unavailable(urls, "does not answer")
        try:
            return handler(request)
        except AuthException:
            # devpi-ldap gave up on a directory that accepted the connection but did not
            # answer (its receive timeout); devpi's transaction was rolled back.
            return _unavailable(urls, "did not answer in time")

    return tween


def _unavailable(urls: Sequence[str], problem: str) -> Any:
    return message_response(
        503,
        f"sign-in is unavailable: the directory ({', '.join(urls)}) {problem}; "
        "nothing was changed, try again when it is back",
    )


def _carries_password(request: Any) -> bool:
    if request.path_info.rstrip("/") == "/+login" and request.method == "POST":
        return True
    authorization = request.headers.get("Authorization", "")
    return bool(authorization.lower().startswith("basic "))
