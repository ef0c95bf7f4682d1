"""Sign-in for the hub's web pages: a signed, expiring session cookie and its form token.

devpi authenticates API calls by header only; a browser signs in once through the hub's
form (the password is checked by devpi's own user model) and then carries
``anya_hub_session``: ``user|expiry|HMAC``, keyed from devpi's auth secret (a replica that
shares the primary's secret file accepts it). The cookie is ``HttpOnly`` and
``SameSite=Strict``, and every form that changes something also carries a token derived
from the cookie, so another site cannot post a review in the user's name.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

COOKIE = "anya_hub_session"
LIFETIME = 8 * 3600
_CONTEXT = b"anya-hub-session-v1"


def _key(request: Any) -> bytes:
    secret: bytes = request.registry["xom"].config.get_auth_secret()
    return hmac.new(secret, _CONTEXT, hashlib.sha256).digest()


def _signature(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def session_value(request: Any, user: str, *, now: float | None = None) -> str:
    text = f"{user}|{int((now or time.time()) + LIFETIME)}"
    return f"{text}|{_signature(_key(request), text)}"


def cookie_user(request: Any) -> str | None:
    """The user a valid, unexpired session cookie names; None otherwise."""
    value = request.cookies.get(COOKIE)
    if not isinstance(value, str) or not value:
        return None
    user, _, rest = value.partition("|")
    expiry, _, signature = rest.partition("|")
    expected = _signature(_key(request), f"{user}|{expiry}")
    if not hmac.compare_digest(signature, expected):
        return None
    if not expiry.isdigit() or int(expiry) < time.time():
        return None
    return user


def form_token(request: Any) -> str:
    """The token a change form carries: bound to the session cookie (empty without one)."""
    value = request.cookies.get(COOKIE) or ""
    return _signature(_key(request), f"form|{value}") if value else ""


def form_token_valid(request: Any, token: object) -> bool:
    """A signed-in API call (header credentials) needs no token; a cookie session does."""
    if request.authenticated_userid:
        return True
    expected = form_token(request)
    return bool(expected) and isinstance(token, str) and hmac.compare_digest(token, expected)


def set_session(request: Any, response: Any, user: str) -> None:
    response.set_cookie(
        COOKIE, session_value(request, user), max_age=LIFETIME, httponly=True,
        samesite="Strict", path="/", secure=request.scheme == "https",
    )  # fmt: skip


def end_session(response: Any) -> None:
    response.delete_cookie(COOKIE, path="/")
