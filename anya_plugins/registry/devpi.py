"""The one adapter that talks to devpi-server: its HTTP JSON API, and applying a layout.

The protocol is devpi-client's: ``POST /+login`` returns a token sent back in the
``X-Devpi-Auth`` header; users and indexes are JSON documents created with PUT and
changed with PATCH. Uploads are not done here (twine speaks the upload protocol).
"""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from anya_plugins.registry.errors import DevpiError, RegistryError
from anya_plugins.registry.indexconfig import FEATURE, index_config
from anya_plugins.registry.layout import Layout, MirrorSpec, UserSpec, resolve_password
from anya_plugins.registry.provenance import MEDIA_TYPE as PROVENANCE_MEDIA_TYPE

JSON = "application/json"
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
"""PEP 691 media type of the simple API's JSON form."""

Action = Literal["created", "updated", "unchanged"]

MIRROR_TYPE = "mirror"
"""devpi's own index type for an upstream simple index it caches."""


@dataclass(frozen=True)
class Credentials:
    """A devpi user name and password."""

    user: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class Change:
    """What applying a layout did to one user or index."""

    kind: Literal["user", "index"]
    name: str
    action: Action
    fields: tuple[str, ...] = ()
    """The settings that were changed (empty unless ``action`` is ``updated``)."""


@dataclass(frozen=True)
class ApplyReport:
    """Every user and index of the layout, and what applying it did to each."""

    url: str
    changes: tuple[Change, ...]

    @property
    def changed(self) -> bool:
        return any(change.action != "unchanged" for change in self.changes)

    def action(self, kind: Literal["user", "index"], name: str) -> Action:
        for change in self.changes:
            if change.kind == kind and change.name == name:
                return change.action
        raise KeyError(f"{kind} {name}")


class DevpiClient:
    """devpi-server's JSON API; after ``login`` every request carries the token."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._auth: str | None = None

    def api(self) -> dict[str, Any]:
        """``/+api``: the server's endpoints, the caller's auth status and the features."""
        result: dict[str, Any] = self._request("GET", "/+api")["result"]
        return result

    def features(self) -> frozenset[str]:
        return frozenset(self.api().get("features", ()))

    def login(self, credentials: Credentials) -> None:
        """Sign in; later requests act as ``credentials.user``."""
        token = self._login(credentials)
        if token is None:
            raise DevpiError(
                "POST",
                f"{self.url}/+login",
                401,
                f"user {credentials.user!r} could not be authenticated",
                hint="check the user name and password",
            )
        self._auth = base64.b64encode(f"{credentials.user}:{token}".encode()).decode("ascii")

    def check_password(self, credentials: Credentials) -> bool:
        """Whether devpi accepts the password (the session's own sign-in is unchanged)."""
        return self._login(credentials) is not None

    def users(self) -> dict[str, dict[str, Any]]:
        """Every user's configuration, with its ``indexes``, by user name."""
        result: dict[str, dict[str, Any]] = self._request("GET", "/")["result"]
        return result

    def create_user(self, name: str, password: str, *, email: str | None = None) -> None:
        body: dict[str, Any] = {"password": password}
        if email is not None:
            body["email"] = email
        self._request("PUT", f"/{_quote(name)}", body=body)

    def modify_user(self, name: str, changes: Mapping[str, Any]) -> None:
        self._request("PATCH", f"/{_quote(name)}", body=dict(changes))

    def index(self, name: str) -> dict[str, Any] | None:
        """An index's configuration and project names, or None if it does not exist."""
        try:
            result: dict[str, Any] = self._request("GET", f"/{_quote(name)}")["result"]
        except DevpiError as exc:
            if exc.status == 404:
                return None
            raise
        return result

    def create_index(self, name: str, config: Mapping[str, Any]) -> None:
        self._request("PUT", f"/{_quote(name)}", body=dict(config))

    def modify_index(self, name: str, changes: Mapping[str, Any]) -> None:
        self._request("PATCH", f"/{_quote(name)}", body=dict(changes))

    def push(self, index: str, project: str, version: str, target: str) -> None:
        """Copy a release's files from ``index`` to the ``target`` index on the same server."""
        body = {"name": project, "version": version, "targetindex": target}
        self._request("PUSH", f"/{_quote(index)}", body=body)

    def projects(self, index: str) -> tuple[str, ...]:
        """The names of the projects uploaded to the index itself (not its bases)."""
        config = self.index(index)
        if config is None:
            raise DevpiError("GET", f"{self.url}/{index}", 404, f"no index {index!r}")
        return tuple(sorted(config.get("projects", ())))

    def project(self, index: str, project: str) -> dict[str, Any]:
        """devpi's view of a project on an index (bases included): metadata by version."""
        result: dict[str, Any] = self._request("GET", f"/{_quote(index)}/{_quote(project)}")[
            "result"
        ]
        return result

    def release(self, index: str, project: str, version: str) -> dict[str, Any]:
        """devpi's metadata and links of one version of a project on an index."""
        path = f"/{_quote(index)}/{_quote(project)}/{_quote(version)}"
        result: dict[str, Any] = self._request("GET", path)["result"]
        return result

    def simple_project(self, index: str, project: str) -> dict[str, Any]:
        """The PEP 691 JSON simple page of a project, as an installer sees it."""
        return self._request(
            "GET", f"/{_quote(index)}/+simple/{_quote(project)}/", accept=SIMPLE_JSON
        )

    def search(
        self, index: str, query: str, category: str | None = None, *, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Extensions on the index (its bases included) matching every term of ``query``.

        The Anya plugin's ``+anya/search``: the latest version of each matching project,
        best match first, each with name, version, summary, keywords, category, host_api
        and the index it lives on. ``category`` is a category or a source (``core``).
        """
        params = {"q": query}
        if category is not None:
            params["category"] = category
        if limit is not None:
            params["limit"] = str(limit)
        path = f"/{_quote(index)}/+anya/search?{urllib.parse.urlencode(params)}"
        results: list[dict[str, Any]] = self._request("GET", path)["results"]
        return results

    def provenance(self, index: str, filename: str) -> dict[str, Any] | None:
        """The PEP 740 provenance object of a file the index serves (bases included).

        None when the index serves no such file or the file came without attestations.
        """
        path = f"/{_quote(index)}/+provenance/{_quote(filename)}"
        try:
            return self._request("GET", path, accept=PROVENANCE_MEDIA_TYPE)
        except DevpiError as exc:
            if exc.status == 404:
                return None
            raise

    def fetch(self, path: str, *, accept: str = "*/*") -> bytes:
        """The raw answer to ``GET path`` (JSON lines, files), signed in if ``login`` was."""
        url = self.url + path
        headers = {"Accept": accept}
        if self._auth is not None:
            headers["X-Devpi-Auth"] = self._auth
        try:
            with urllib.request.urlopen(
                urllib.request.Request(url, headers=headers), timeout=self.timeout
            ) as response:
                return bytes(response.read())
        except urllib.error.HTTPError as exc:
            raise DevpiError("GET", url, exc.code, _error_message(exc)) from None
        except (urllib.error.URLError, OSError) as exc:
            raise DevpiError("GET", url, None, str(getattr(exc, "reason", exc))) from None

    def _login(self, credentials: Credentials) -> str | None:
        body = {"user": credentials.user, "password": credentials.password}
        try:
            answer = self._request("POST", "/+login", body=body, authenticated=False)
        except DevpiError as exc:
            if exc.status == 401:
                return None
            raise
        token: str = answer["result"]["password"]
        return token

    def _request(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        accept: str = JSON,
        authenticated: bool = True,
    ) -> dict[str, Any]:
        url = self.url + path
        headers = {"Accept": accept}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = JSON
        if authenticated and self._auth is not None:
            headers["X-Devpi-Auth"] = self._auth
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                text = response.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            raise DevpiError(method, url, exc.code, _error_message(exc)) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DevpiError(
                method,
                url,
                None,
                str(reason),
                hint="is the registry running? (anya_plugins.registry.server.status)",
            ) from None
        if not text.strip():
            return {}
        try:
            parsed: dict[str, Any] = json.loads(text)
        except json.JSONDecodeError:
            raise DevpiError(method, url, 200, "the answer is not JSON") from None
        return parsed


def apply_layout(
    url: str,
    layout: Layout,
    admin: Credentials,
    *,
    environ: Mapping[str, str] | None = None,
) -> ApplyReport:
    """Create or update every user, mirror and index of ``layout``; a second run changes nothing.

    Users and indexes the layout does not name are left alone. Passwords, and the mirrors'
    ``url_env`` URLs, are read from ``environ`` (default: the process environment) before
    anything is changed. Mirrors are created before the indexes that list them as bases.
    """
    environ = os.environ if environ is None else environ
    passwords = {user.name: resolve_password(layout, user, environ) for user in layout.users}
    client = DevpiClient(url)
    if layout.indexes and FEATURE not in client.features():
        raise RegistryError(
            f"the devpi-server at {url} does not have the Anya plugin loaded",
            hint="start it with anya_plugins.registry.server.start, or install anya-plugins"
            "[registry] beside devpi-server so its devpi_server entry point is found",
        )
    client.login(admin)
    current = client.users()
    changes = [
        _apply_user(client, user, passwords[user.name], current.get(user.name))
        for user in layout.users
    ]
    wanted_configs = [
        *((mirror.name, mirror_config(mirror, environ)) for mirror in layout.mirrors),
        *((spec.name, index_config(spec)) for spec in layout.creation_order()),
    ]
    for name, wanted in wanted_configs:
        user, index = name.split("/", 1)
        existing = current.get(user, {}).get("indexes", {}).get(index)
        changes.append(_apply_index(client, name, wanted, existing))
    return ApplyReport(url=client.url, changes=tuple(changes))


def mirror_config(spec: MirrorSpec, environ: Mapping[str, str]) -> dict[str, object]:
    """The devpi configuration of a layout mirror: ``type=mirror`` and its upstream URL."""
    config: dict[str, object] = {"type": MIRROR_TYPE, "mirror_url": spec.resolved_url(environ)}
    if spec.title is not None:
        config["title"] = spec.title
    if spec.description is not None:
        config["description"] = spec.description
    return config


def _apply_index(
    client: DevpiClient,
    name: str,
    wanted: Mapping[str, object],
    existing: Mapping[str, Any] | None,
) -> Change:
    if existing is None:
        client.create_index(name, wanted)
        return Change("index", name, "created")
    if existing.get("type") != wanted["type"]:
        raise RegistryError(
            f"index {name} exists with type {existing.get('type')!r}, "
            f"not {wanted['type']!r}, and devpi cannot change an index's type",
            hint="rename the index in the layout, or delete the old one first",
        )
    differing = {key: value for key, value in wanted.items() if existing.get(key) != value}
    if not differing:
        return Change("index", name, "unchanged")
    client.modify_index(name, differing)
    return Change("index", name, "updated", tuple(sorted(differing)))


def _apply_user(
    client: DevpiClient, spec: UserSpec, password: str, existing: Mapping[str, Any] | None
) -> Change:
    if existing is None:
        client.create_user(spec.name, password, email=spec.email)
        return Change("user", spec.name, "created")
    differing: dict[str, Any] = {}
    if spec.email is not None and existing.get("email") != spec.email:
        differing["email"] = spec.email
    if not client.check_password(Credentials(spec.name, password)):
        differing["password"] = password
    if not differing:
        return Change("user", spec.name, "unchanged")
    client.modify_user(spec.name, differing)
    return Change("user", spec.name, "updated", tuple(sorted(differing)))


def _quote(path: str) -> str:
    return urllib.parse.quote(path, safe="/")


def _error_message(exc: urllib.error.HTTPError) -> str:
    """devpi's JSON ``message`` if there is one, else the reason phrase."""
    try:
        body = json.loads(exc.read().decode("utf-8"))
    except (ValueError, OSError):
        return str(exc.reason)
    message = body.get("message") if isinstance(body, dict) else None
    return str(message) if message else str(exc.reason)
