# mypy: disallow-untyped-calls=False
# (devpi-server's model functions are untyped; this module is the adapter to them.)
"""The one place where the devpi plugin changes the simple pages devpi serves.

devpi renders a project's simple page, PEP 503 HTML or PEP 691 JSON, at three routes
(``/+simple/{project}``, ``/+simple/{project}/`` and the installer route without
``+simple``). :func:`simple_page_tween` recognises such a page once (a GET answered 200 by
one of those routes, of an index that exists, in either format), parses it once into a
:class:`SimplePage`, lets each concern change it through the same few operations, whatever
the format, and writes it back once.

A concern is a function ``(SimplePage) -> None``; the plugin lists them, in order, under
:data:`CONCERNS_KEY` of the Pyramid registry (``devpi_plugin``). A new concern is a new
entry there, never a new route list or tween.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Sequence
from functools import cached_property
from typing import Any, Final

from packaging.utils import canonicalize_name

SIMPLE_PROJECT_ROUTES: Final = frozenset(
    (
        "/{user}/{index}/+simple/{project}",
        "/{user}/{index}/+simple/{project}/",
        "installer_simple_project",
    )
)
"""devpi's routes that answer with a project's simple page."""
SIMPLE_JSON: Final = "application/vnd.pypi.simple.v1+json"
_DEVPI_TEXT_HTML: Final = "text_html"
"""What devpi-server 6.20 sends as the Content-Type of an HTML page when the request
accepted neither ``text/html`` nor PEP 691 JSON (e.g. only PEP 691's
``application/vnd.pypi.simple.v1+html``): a typo for ``text/html``, corrected here."""
CONCERNS_KEY: Final = "anya.simple_page_concerns"
"""The Pyramid registry key of the concerns (a sequence of :data:`Concern`), in order."""

_ANCHOR = re.compile(r"<a\s([^>]*)>([^<]*)</a>((?:\s*<br\s*/?>)?\s*)", re.IGNORECASE)
_VERSION_META = re.compile(r'<meta\s+name="pypi:repository-version"\s+content="[^"]*"\s*/?>')
_HEAD = re.compile(r"<head[^>]*>", re.IGNORECASE)

Handler = Callable[[Any], Any]
Concern = Callable[["SimplePage"], None]


class SimplePage:
    """One project page as it is being served, and what the concerns change on it.

    Files are named by file name, as both formats list them. In JSON a file mark is a key of
    the file's entry and a declaration a top-level key; in HTML a file mark is an attribute
    of the file's anchor and a declaration ``<meta>`` tags in the head.
    """

    def __init__(
        self, xom: Any, request: Any, stage: Any, project: str, document: dict[str, Any] | str
    ) -> None:
        self.xom = xom
        self.request = request
        self.stage = stage
        """The index whose page this is (devpi's stage)."""
        self.project = project
        """The canonical project name."""
        self._json = document if isinstance(document, dict) else None
        self._html = document if isinstance(document, str) else None
        self._file_marks: dict[str, dict[str, str]] = {}
        self._meta: list[tuple[str, str]] = []
        self._drop_files = False
        self._api_version: str | None = None

    @property
    def is_json(self) -> bool:
        return self._json is not None

    @cached_property
    def links(self) -> list[Any]:
        """devpi's simple links of the project on this index (its bases and guards applied)."""
        return list(self.stage.get_simplelinks(self.project, sorted_links=False))

    @cached_property
    def filenames(self) -> tuple[str, ...]:
        """The files the page lists, as devpi rendered it."""
        if self._json is not None:
            return tuple(str(entry.get("filename")) for entry in self._json.get("files", ()))
        return tuple(html.unescape(match.group(2)) for match in _ANCHOR.finditer(self._html or ""))

    def file_entry(self, link: Any) -> Any:
        """devpi's file entry of one of :attr:`links` (None: unknown to the file store)."""
        return self.xom.filestore.get_file_entry(link.path.lstrip("/"))

    def mark_file(
        self, filename: str, key: str, value: str | bool, *, attribute: str | None = None
    ) -> None:
        """Give a file a PEP 691 ``key`` (JSON) or an ``attribute`` (HTML; by default
        ``data-<key>``). ``True`` is an attribute without text (``data-yanked=""``)."""
        if self._json is not None:
            for entry in self._json.get("files", ()):
                if entry.get("filename") == filename:
                    entry[key] = value
            return
        self._file_marks.setdefault(filename, {})[attribute or f"data-{key}"] = (
            "" if value is True else str(value)
        )

    def declare(self, key: str, value: object, meta: Sequence[tuple[str, str]]) -> None:
        """A project-level declaration: top-level ``key`` in JSON, ``meta`` tags in HTML."""
        if self._json is not None:
            self._json[key] = value
        else:
            self._meta.extend(meta)

    def set_api_version(self, version: str) -> None:
        """The simple API version the page speaks (PEP 629), for the keys the concerns add."""
        self._api_version = version

    def drop_files(self) -> None:
        """List no files at all (e.g. a quarantined project)."""
        self._drop_files = True

    def body(self) -> bytes:
        if self._json is not None:
            if self._api_version is not None:
                self._json.setdefault("meta", {})["api-version"] = self._api_version
            if self._drop_files:
                self._json["files"] = []
            return json.dumps(self._json).encode("utf-8")
        return self._html_body(self._html or "").encode("utf-8")

    def _html_body(self, text: str) -> str:
        text = _ANCHOR.sub(self._anchor, text)
        meta = list(self._meta)
        if self._api_version is not None:
            text = _VERSION_META.sub("", text)
            meta.insert(0, ("pypi:repository-version", self._api_version))
        if not meta:
            return text
        tags = "".join(
            f'<meta name="{html.escape(name)}" content="{html.escape(content)}">'
            for name, content in meta
        )
        head = _HEAD.search(text)
        if head is None:
            return f"<head>{tags}</head>{text}"
        return f"{text[: head.end()]}{tags}{text[head.end() :]}"

    def _anchor(self, match: re.Match[str]) -> str:
        if self._drop_files:
            return ""
        marks = self._file_marks.get(html.unescape(match.group(2)))
        if not marks:
            return match.group(0)
        attributes = "".join(f' {name}="{html.escape(value)}"' for name, value in marks.items())
        return f"<a {match.group(1)}{attributes}>{match.group(2)}</a>{match.group(3)}"


def simple_page_tween(handler: Handler, registry: Any) -> Handler:
    """Let each concern change a project's simple page, parsed and written back once."""
    xom = registry["xom"]

    def tween(request: Any) -> Any:
        response = handler(request)
        concerns: Sequence[Concern] = registry.get(CONCERNS_KEY, ())
        if not concerns:
            return response
        page = _simple_page(xom, request, response)
        if page is None:
            return response
        for concern in concerns:
            concern(page)
        response.body = page.body()
        return response

    return tween


def _simple_page(xom: Any, request: Any, response: Any) -> SimplePage | None:
    route = request.matched_route
    if (
        request.method != "GET"
        or response.status_code != 200
        or route is None
        or route.name not in SIMPLE_PROJECT_ROUTES
    ):
        return None
    user, index = request.matchdict["user"], request.matchdict["index"].rstrip("/")
    stage = xom.model.getstage(user, index)
    if stage is None:
        return None
    project = canonicalize_name(request.matchdict["project"].rstrip("/"))
    if response.content_type == SIMPLE_JSON:
        document = json.loads(response.body)
        if not isinstance(document, dict):
            return None
        return SimplePage(xom, request, stage, project, document)
    if response.content_type in ("text/html", _DEVPI_TEXT_HTML):
        response.content_type = "text/html"
        return SimplePage(xom, request, stage, project, response.body.decode("utf-8"))
    return None
