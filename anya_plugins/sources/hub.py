"""Talking to a registry's community hub (``/{user}/{index}/+hub/api``): reviews, collections,
contributors, and fetching a download receipt for an installed file.

A small JSON-over-HTTP adapter on the sources' :class:`~.http.HttpClient` (its standard
library transport: the hub API is a handful of small requests), so the hub is reached as the
index is: through the environment's proxy, trusting the CA bundle, every answer capped;
credentials go as HTTP Basic to the hub's origin only, and every message passes through
:func:`redact`.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from anya_plugins.sources.credentials import redact
from anya_plugins.sources.download_receipt import RECEIPT_HEADER
from anya_plugins.sources.errors import SourceError, TransportError
from anya_plugins.sources.http import HttpClient, HttpResponse
from anya_plugins.sources.search import SearchHit

_TIMEOUT = 30.0
_MAX_BODY = 16 * 1024 * 1024
_ERROR_LIMIT = 4096


class HubRequestRefused(SourceError):
    """The hub answered a request with an error (400 invalid, 401, 403, 404, 429)."""

    def __init__(self, url: str, status: int | None, message: str, *, hint: str | None = None):
        super().__init__(f"{url}: {f'HTTP {status}: ' if status else ''}{message}", hint=hint)
        self.status = status


@dataclass(frozen=True)
class Aggregate:
    """Mean, count and distribution (stars -> ratings) of an extension's visible reviews
    (the client's copy of the registry's model: sources import nothing of the server)."""

    count: int
    mean: float | None
    distribution: dict[int, int]


@dataclass(frozen=True)
class CollectionEntry:
    name: str
    specifier: str = ""
    features: tuple[str, ...] = ()

    def spec(self) -> str:
        """As ``anya-ext install`` reads it: ``name[f1,f2]@>=1,<2``."""
        features = f"[{','.join(self.features)}]" if self.features else ""
        return f"{self.name}{features}{'@' + self.specifier if self.specifier else ''}"


@dataclass(frozen=True)
class ReviewEntry:
    user: str
    version: str
    rating: int
    title: str
    body: str
    verified: bool
    updated: float
    helpful: int = 0
    edits: int = 0
    """How many earlier texts the registry keeps (the review was edited that many times)."""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ReviewEntry:
        return cls(
            user=str(data["user"]), version=str(data["version"]), rating=int(data["rating"]),
            title=str(data["title"]), body=str(data["body"]), verified=bool(data["verified"]),
            updated=float(data["updated"]), helpful=int(data.get("helpful", 0)),
            edits=len(data.get("history", ())),
        )  # fmt: skip


@dataclass(frozen=True)
class Reviews:
    """An extension's ratings (overall and per version) and its visible reviews, newest first."""

    project: str
    overall: Aggregate
    by_version: dict[str, Aggregate]
    reviews: tuple[ReviewEntry, ...]


@dataclass(frozen=True)
class CollectionInfo:
    """The latest version of a curated collection."""

    name: str
    owner: str
    version: int
    title: str
    description: str
    members: tuple[CollectionEntry, ...] = field(default=())

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CollectionInfo:
        latest = data["versions"][-1]
        return cls(
            name=str(data["name"]), owner=str(data["owner"]), version=int(latest["version"]),
            title=str(latest["title"]), description=str(latest.get("description", "")),
            members=tuple(
                CollectionEntry(str(e["name"]), str(e.get("specifier", "")),
                                 tuple(str(f) for f in e.get("features", ())))
                for e in latest["entries"]
            ),
        )  # fmt: skip


class HubClient:
    """One index's hub on one registry, as one user (or anonymous)."""

    def __init__(
        self, url: str, index: str, *, user: str | None = None, password: str | None = None,
        http: HttpClient | None = None,
    ) -> None:  # fmt: skip
        self.url = url.rstrip("/")
        self.index = index.strip("/")
        self.http = http if http is not None else HttpClient(timeout=_TIMEOUT)
        self._auth = (
            "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
            if user is not None and password is not None
            else None
        )

    @property
    def signed_in(self) -> bool:
        return self._auth is not None

    def search(self, parameters: Mapping[str, object]) -> list[SearchHit]:
        """The index's ``+anya/search`` answer (filters: :func:`search_parameters`)."""
        from urllib.parse import urlencode

        from anya_plugins.sources.search import hits_from_document

        return hits_from_document(
            self._call("GET", f"?{urlencode(dict(parameters))}", base="+anya/search")
        )

    def reviews(self, project: str) -> Reviews:
        document = self._call("GET", f"/reviews/{quote(project)}")
        ratings = document["ratings"]
        return Reviews(
            project=str(document["project"]),
            overall=_aggregate(ratings["overall"]),
            by_version={v: _aggregate(a) for v, a in ratings["by_version"].items()},
            reviews=tuple(ReviewEntry.from_json(r) for r in document["reviews"]),
        )

    def post_review(self, project: str, fields: Mapping[str, object]) -> ReviewEntry:
        return ReviewEntry.from_json(self._call("POST", f"/reviews/{quote(project)}", fields))

    def collections(self) -> tuple[CollectionInfo, ...]:
        document = self._call("GET", "/collections")
        return tuple(CollectionInfo.from_json(c) for c in document["collections"])

    def collection(self, name: str) -> CollectionInfo:
        return CollectionInfo.from_json(self._call("GET", f"/collections/{quote(name)}"))

    def put_collection(self, name: str, fields: Mapping[str, object]) -> CollectionInfo:
        return CollectionInfo.from_json(self._call("PUT", f"/collections/{quote(name)}", fields))

    def download_receipt(self, file_url: str, sha256: str) -> str:
        """Fetch ``file_url`` signed in; the registry's receipt, after checking the bytes."""
        if not self.signed_in:
            raise HubRequestRefused(file_url, None, "a download receipt needs a sign-in")
        headers = {"Authorization": self._auth or ""}
        try:
            with self.http.get(_without_credentials(file_url), headers=headers) as response:
                if response.status >= 300:
                    raise HubRequestRefused(
                        redact(file_url), response.status, _message(_start(response))
                    )
                digest = hashlib.sha256()
                for chunk in response.iter_bytes(decode=False):  # the file as the index keeps it
                    digest.update(chunk)
                receipt = response.headers.get(RECEIPT_HEADER)
        except TransportError as error:
            raise HubRequestRefused(redact(file_url), None, error.reason) from None
        if digest.hexdigest() != sha256:
            raise HubRequestRefused(
                redact(file_url), None, "the file served is not the one installed (sha256 differs)"
            )
        if not receipt:
            raise HubRequestRefused(
                redact(file_url), None, "the registry attached no download receipt",
                hint="is it an Anya registry, and did the sign-in succeed?",
            )  # fmt: skip
        return str(receipt)

    def _call(
        self, method: str, path: str, body: Mapping[str, object] | None = None, *,
        base: str = "+hub/api",
    ) -> dict[str, Any]:  # fmt: skip
        url = f"{self.url}/{self.index}/{base}{path}"
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if self._auth is not None:
            headers["Authorization"] = self._auth
        try:
            with self.http.request(method, url, body=data, headers=headers) as response:
                if response.status >= 300:
                    raise HubRequestRefused(
                        url,
                        response.status,
                        _message(_start(response)),
                        hint=_hint(response.status),
                    )
                text = _start(response, _MAX_BODY + 1)
                if len(text) > _MAX_BODY:
                    raise HubRequestRefused(url, None, "the hub answered more than 16 MiB")
        except TransportError as error:
            raise HubRequestRefused(
                url, None, error.reason, hint="is the registry running?"
            ) from None
        try:
            document = json.loads(text)
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise HubRequestRefused(url, 200, "the hub answered something that is not JSON")
        return document


def _aggregate(data: Mapping[str, Any]) -> Aggregate:
    """An aggregate as the hub's JSON gives it (distribution keys are strings there)."""
    return Aggregate(
        int(data["count"]),
        None if data.get("mean") is None else float(data["mean"]),
        {int(k): int(v) for k, v in dict(data.get("distribution", {})).items()},
    )


def _start(response: HttpResponse, limit: int = _ERROR_LIMIT) -> bytes:
    """The first ``limit`` bytes of the body, however large it is (an error's message)."""
    body = bytearray()
    for chunk in response.iter_bytes(min(limit, 64 * 1024)):
        body += chunk
        if len(body) >= limit:
            break
    return bytes(body[:limit])


def _message(body: bytes) -> str:
    from anya_plugins.sources.search import _explained

    return _explained(body)


def _hint(status: int) -> str | None:
    return {
        401: "sign in: --user NAME with the password in $ANYA_PUBLISH_PASSWORD",
        429: "the registry limits hub changes per user and hour; try again later",
    }.get(status)


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def split_index_url(simple_url: str) -> tuple[str, str, str | None, str | None]:
    """``http://u:p@host/user/index/+simple/`` -> (``http://host``, ``user/index``, u, p)."""
    from urllib.parse import unquote

    parts = urlsplit(simple_url)
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) < 2:
        raise SourceError(
            f"{redact(simple_url)} does not name a registry index",
            hint="the hub needs an Anya registry index URL, e.g. https://host/anya/primary/+simple/",
        )
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return urlunsplit((parts.scheme, netloc, "", "", "")), "/".join(segments[:2]), user, password
