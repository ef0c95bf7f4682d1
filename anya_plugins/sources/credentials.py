"""Credentials for private indexes, and keeping them out of everything a person can see.

Where they come from, as pip looks for them: the ``user:password@`` of a configured source
URL, then the netrc file (``$NETRC``, else ``~/.netrc``), then — only after the server
answered 401, and only if the ``keyring`` package is importable — the system keyring.
Each is bound to where it belongs: URL credentials to their origin (scheme, host and port),
netrc and keyring credentials to the host they are filed under. So a redirect to another
host never carries them along.

Nothing here writes credentials anywhere; :func:`redact` hides them in any text shown.
"""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path
from urllib.parse import SplitResult, unquote, urlsplit, urlunsplit

from anya_plugins.metadata.frozen import Frozen

TYPE_CHECKING = False  # logging and netrc load only when there is a warning or a netrc file
if TYPE_CHECKING:
    import netrc

NETRC_ENV = "NETRC"
_DEFAULT_PORTS = {"http": 80, "https": 443}
_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/?#@\s]*)@")

Origin = tuple[str, str, int]
"""Scheme, lower-case host name and port: where a URL's credentials may be sent."""


class BasicAuth(Frozen):
    """A user name and password for HTTP basic authentication."""

    username: str
    password: str

    def __init__(self, username: str, password: str) -> None:
        self._init(username, password)

    def header(self) -> str:
        """The value of the ``Authorization`` header."""
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode("ascii")
        return f"Basic {token}"

    def __repr__(self) -> str:
        return f"BasicAuth(username={self.username!r}, password='****')"


def origin(url: str) -> Origin:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(scheme, 0)


def split_credentials(url: str) -> tuple[str, BasicAuth | None]:
    """``url`` without its ``user:password@``, and those credentials (None when it has none).

    A user name without a password is kept with an empty password: an access token is often
    written that way (``https://TOKEN@host/``).
    """
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    auth = BasicAuth(unquote(parts.username or ""), unquote(parts.password or ""))
    return urlunsplit(_without_userinfo(parts)), auth


def redact(text: str) -> str:
    """``text`` with the credentials of every URL in it masked, as pip shows them: the
    password replaced by ``****``, a lone user name (a likely token) too."""

    def mask(match: re.Match[str]) -> str:
        user, colon, _ = match["userinfo"].partition(":")
        shown = f"{user}:****" if colon else "****"
        return f"{match['scheme']}{shown}@"

    return _USERINFO.sub(mask, text)


class Credentials:
    """The credentials one HTTP client knows, looked up for each request's URL."""

    def __init__(self, *, netrc_file: Path | None = None) -> None:
        self._by_origin: dict[Origin, BasicAuth] = {}
        self._netrc_file = netrc_file if netrc_file is not None else default_netrc_file()
        self._netrc: netrc.netrc | None = None
        self._netrc_read = False
        self._keyring_usable = True

    def take(self, url: str) -> str:
        """Keep the credentials of ``url`` for its origin and return the URL without them."""
        bare, auth = split_credentials(url)
        if auth is not None:
            self._by_origin[origin(bare)] = auth
        return bare

    def for_url(self, url: str) -> BasicAuth | None:
        """The credentials to send to ``url``: its origin's, else the netrc entry of its host."""
        auth = self._by_origin.get(origin(url))
        return auth if auth is not None else self._from_netrc(url)

    def from_keyring(self, url: str) -> BasicAuth | None:
        """The keyring's credentials for the host of ``url`` (under ``host:port`` or ``host``),
        kept for its origin; None without the ``keyring`` package or an entry for the host."""
        if not self._keyring_usable:
            return None
        try:
            import keyring
        except ImportError:
            self._keyring_usable = False
            return None
        parts = urlsplit(url)
        known = self._by_origin.get(origin(url))
        username = known.username if known is not None else None
        for service in dict.fromkeys((parts.netloc, parts.hostname or "")):
            try:
                found = keyring.get_credential(service, username)
            except Exception as exc:  # any backend error: report once, go on without a keyring
                _warn("the keyring cannot be read, going on without it: %s", exc)
                self._keyring_usable = False
                return None
            if found is not None:
                auth = BasicAuth(found.username, found.password)
                self._by_origin[origin(url)] = auth
                return auth
        return None

    def _from_netrc(self, url: str) -> BasicAuth | None:
        if not self._netrc_read:
            self._netrc_read = True
            self._netrc = _read_netrc(self._netrc_file)
        host = urlsplit(url).hostname
        if self._netrc is None or not host:
            return None
        entry = self._netrc.authenticators(host)
        if entry is None:
            return None
        login, _, password = entry
        return BasicAuth(login, password or "")


def default_netrc_file() -> Path:
    """``$NETRC`` when set, else ``~/.netrc`` (where curl, requests and pip look)."""
    configured = os.environ.get(NETRC_ENV)
    return Path(configured).expanduser() if configured else Path("~/.netrc").expanduser()


def _read_netrc(path: Path) -> netrc.netrc | None:
    if not path.is_file():
        return None
    import netrc

    try:
        return netrc.netrc(str(path))
    except (netrc.NetrcParseError, OSError) as exc:
        _warn("%s is not used: %s", path, exc)
        return None


def _warn(message: str, *args: object) -> None:
    import logging

    logging.getLogger(__name__).warning(message, *args)


def _without_userinfo(parts: SplitResult) -> SplitResult:
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=host)
