# mypy: disallow-untyped-calls=False
# (devpi-server's model functions are untyped; this module is the adapter to them.)
"""The hub's web pages, rendered by the registry: plain HTML and CSS, no JavaScript.

Under ``/{user}/{index}/+hub``: the home page (top rated, recent, collections), ``search``
(the filters of ``+anya/search``), ``x/{project}`` (an extension: versions, category,
features, platforms, signature and publisher, ratings, reviews, the install command, the
review form), ``collections/{name}``, ``contributors/{name}``, ``sign-in``.

Templates are files in ``hub_templates`` rendered by Jinja2 with autoescaping on, so every
value is escaped unless a template says otherwise (none does). The pages also forbid
scripts (``Content-Security-Policy``). Web sign-in is a session cookie (``hub_session``);
the review form carries a token bound to it.
"""

from __future__ import annotations

import time
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from packaging.utils import canonicalize_name
from pyramid.httpexceptions import HTTPSeeOther  # type: ignore[import-untyped]
from pyramid.response import Response  # type: ignore[import-untyped]

from anya_plugins.registry import hub_session, plugin_hub
from anya_plugins.registry.hub_store import HubInputError
from anya_plugins.registry.plugin_hub import HubRefusal, hub_data
from anya_plugins.registry.search import SORTS, SOURCES, InvalidQuery, SearchQuery

PAGES = "/{user:[^+/]+}/{index:[^+/]+}/+hub"
TEMPLATES = Path(__file__).with_name("hub_templates")
NAV = (("Home", ""), ("Search", "/search"))
"""The navigation list of every page (label, path under the hub): one line per link."""
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


@cache
def _environment() -> Any:
    from jinja2 import Environment, FileSystemLoader

    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, trim_blocks=True,
        lstrip_blocks=True,
    )  # fmt: skip


def configure(pyramid_config: Any) -> None:
    pages: list[tuple[str, str, Any, str]] = [
        ("anya-hub-home", "", home_view, "GET"),
        ("anya-hub-home-slash", "/", home_view, "GET"),
        ("anya-hub-search", "/search", search_view, "GET"),
        ("anya-hub-extension", "/x/{project}", extension_view, "GET"),
        ("anya-hub-review-form", "/x/{project}/review", review_form_view, "POST"),
        (
            "anya-hub-moderate-form",
            "/x/{project}/reviews/{reviewer}/{action}",
            moderate_form_view,
            "POST",
        ),
        ("anya-hub-collection-page", "/collections/{name}", collection_view, "GET"),
        ("anya-hub-contributor-page", "/contributors/{name}", contributor_view, "GET"),
        ("anya-hub-sign-in", "/sign-in", sign_in_view, "GET"),
        ("anya-hub-sign-in-post", "/sign-in", sign_in_post_view, "POST"),
        ("anya-hub-sign-out", "/sign-out", sign_out_view, "POST"),
    ]
    for name, pattern, view, method in pages:
        pyramid_config.add_route(name, PAGES + pattern, request_method=method)
        pyramid_config.add_view(_page(view), route_name=name, request_method=method)


def _page(view: Any) -> Any:
    def answer(request: Any) -> Response:
        try:
            return view(request)
        except HubRefusal as refusal:
            return render(request, "message.html", {"title": "Not possible",
                                                    "message": refusal.message},
                          status=refusal.status)  # fmt: skip

    return answer


def base_path(request: Any) -> str:
    return f"/{request.matchdict['user']}/{request.matchdict['index']}/+hub"


def render(request: Any, template: str, context: dict[str, Any], *, status: int = 200) -> Response:
    base = base_path(request)
    user = plugin_hub.signed_in_user(request, cookie=True)
    page = _environment().get_template(template).render(
        base=base, nav=[(label, base + path) for label, path in NAV], user=user,
        index=f"{request.matchdict['user']}/{request.matchdict['index']}",
        form_token=hub_session.form_token(request), here=request.path_qs, **context,
    )  # fmt: skip
    response = Response(body=page.encode("utf-8"), status=status,
                        content_type="text/html", charset="utf-8")  # fmt: skip
    response.headers.update(_SECURITY_HEADERS)
    return response


def short_name(project: str) -> str:
    return project.removeprefix("anya-ext-")


# pages


def home_view(request: Any) -> Response:
    from anya_plugins.registry.plugin_search import run_search

    stage = plugin_hub.hub_stage(request)
    data = hub_data(stage)
    rated = run_search(request, stage, SearchQuery(min_rating=0.0, sort="rating", limit=5))
    recent = run_search(request, stage, SearchQuery(sort="recent", limit=5))
    return render(request, "home.html", {
        "top_rated": _hits(rated), "recent": _hits(recent),
        "collections": sorted(data.collections.values(), key=lambda c: c.name),
    })  # fmt: skip


def search_view(request: Any) -> Response:
    from anya_plugins.registry.plugin_search import run_search

    stage = plugin_hub.hub_stage(request)
    params = request.params
    form = {
        "q": str(params.get("q", ""))[:200], "category": str(params.get("category", "")),
        "min_rating": str(params.get("min_rating", "")), "sort": str(params.get("sort", "")),
    }  # fmt: skip
    error, hits, total = None, [], 0
    asked = any(form.values())
    if asked:
        try:
            query = SearchQuery(
                text=form["q"], category=form["category"] or None,
                min_rating=float(form["min_rating"]) if form["min_rating"] else None,
                sort=form["sort"] or "relevance", limit=50,
            )  # fmt: skip
            answer = run_search(request, stage, query)
            hits, total = _hits(answer), answer.result.total
        except (InvalidQuery, ValueError) as exc:
            error = getattr(exc, "message", None) or "min_rating must be a number"
    from anya_plugins.metadata.taxonomy import CATEGORIES

    return render(request, "search.html", {
        "form": form, "hits": hits, "total": total, "asked": asked, "error": error,
        "categories": [*SOURCES, *CATEGORIES], "sorts": SORTS,
    }, status=400 if error else 200)  # fmt: skip


def _hits(answer: Any) -> list[dict[str, Any]]:
    return [
        {
            "name": record.name, "short": short_name(record.key), "version": record.version,
            "summary": record.summary, "category": record.category or "",
            "rating": (answer.signals.get(record.key).rating
                       if answer.signals.get(record.key) else None),
            "ratings": (answer.signals.get(record.key).ratings
                        if answer.signals.get(record.key) else 0),
        }
        for record in answer.result.records
    ]  # fmt: skip


def extension_view(request: Any, *, form: dict[str, Any] | None = None,
                   error: str | None = None, status: int = 200) -> Response:  # fmt: skip
    stage = plugin_hub.hub_stage(request)
    project = str(canonicalize_name(request.matchdict["project"]))
    versions = plugin_hub.project_versions(stage, project)
    home = plugin_hub.project_home(stage, project)
    latest = versions[-1]
    data = hub_data(stage)
    user = plugin_hub.signed_in_user(request, cookie=True)
    return render(request, "extension.html", {
        "project": project, "short": short_name(project), "versions": list(reversed(versions)),
        "latest": latest, "details": _details(home, project, latest),
        "ratings": data.ratings(project), "reviews": data.visible_reviews(project),
        "mine": data.review(project, user) if user else None,
        "moderator": bool(user) and (
            plugin_hub.is_hub_admin(stage, data, str(user))
            or plugin_hub.is_maintainer(stage, project, str(user))
        ),
        "form": form or {}, "error": error,
    }, status=status)  # fmt: skip


def _details(home: Any, project: str, version: str) -> dict[str, Any]:
    """What the index holds about one release: metadata, files, signature, publisher."""
    from anya_plugins.metadata.platforms import platform_names
    from anya_plugins.registry.indexconfig import PUBLISHERS_KEY, REQUIRE_SIGNATURES_KEY
    from anya_plugins.registry.plugin_provenance import PROVENANCE_REL
    from anya_plugins.registry.search import record_from_metadata

    metadata = home.get_versiondata_perstage(project, version) or {}
    record = record_from_metadata(metadata, home.name)
    try:
        linkstore = home.get_linkstore_perstage(project, version)
        files = [link.basename for link in linkstore.get_links(rel="releasefile")]
        signed = bool(linkstore.get_links(rel=PROVENANCE_REL))
    except home.MissesRegistration:
        files, signed = [], False
    tags: list[str] = []
    for filename in files:
        if filename.endswith(".whl"):
            from packaging.utils import parse_wheel_filename

            tags.extend(str(tag) for tag in parse_wheel_filename(filename)[3])
    return {
        "summary": record.summary, "category": record.category or "-",
        "host_api": record.host_api or "-",
        "features": sorted({str(e) for e in metadata.get("provides_extras") or ()}
                           | {str(e) for e in metadata.get("provides_extra") or ()}),
        "platforms": list(platform_names(tags)) if tags else [],
        "signed": signed, "index": home.name,
        "publishers": list(home.ixconfig.get(PUBLISHERS_KEY, ())),
        "signatures_required": bool(home.ixconfig.get(REQUIRE_SIGNATURES_KEY)),
        "links": _project_links(metadata),
    }  # fmt: skip


def _project_links(metadata: Any) -> list[tuple[str, str]]:
    """``Project-URL: Label, URL`` entries with http(s) URLs (tutorials, discussion...)."""
    links = []
    for entry in metadata.get("project_urls") or ():
        label, _, url = str(entry).partition(",")
        url = url.strip()
        if url.startswith(("https://", "http://")):
            links.append((label.strip() or url, url))
    home_page = str(metadata.get("home_page") or "")
    if home_page.startswith(("https://", "http://")):
        links.append(("Home page", home_page))
    return links


def review_form_view(request: Any) -> Response:
    stage = plugin_hub.hub_stage(request)
    user = plugin_hub.signed_in_user(request, cookie=True)
    project = str(canonicalize_name(request.matchdict["project"]))
    if user is None:
        return HTTPSeeOther(location=f"{base_path(request)}/sign-in?"
                            + urlencode({"next": f"{base_path(request)}/x/{project}"}))  # fmt: skip
    try:
        fields = {key: request.POST.get(key) for key in ("rating", "title", "body", "version")}
    except UnicodeDecodeError:
        return extension_view(request, error="the form was not sent as UTF-8", status=400)
    if not hub_session.form_token_valid(request, request.POST.get("form_token")):
        return extension_view(request, form=fields, error="the form expired; send it again",
                              status=400)  # fmt: skip
    try:
        plugin_hub.submit_review(stage, user, project, fields)
    except HubInputError as exc:
        return extension_view(request, form=fields, error=exc.message, status=400)
    except HubRefusal as refusal:
        return extension_view(request, form=fields, error=refusal.message, status=refusal.status)
    return HTTPSeeOther(location=f"{base_path(request)}/x/{project}#reviews")


def moderate_form_view(request: Any) -> Response:
    """Flag a review (any signed-in user) or hide / unhide it (maintainers, hub admins)."""
    stage = plugin_hub.hub_stage(request)
    user = plugin_hub.signed_in_user(request, cookie=True)
    project = str(canonicalize_name(request.matchdict["project"]))
    action = request.matchdict["action"]
    if user is None or action not in ("flag", "hide", "unhide", "helpful"):
        raise HubRefusal(401 if user is None else 404, "sign in to moderate reviews")
    if not hub_session.form_token_valid(request, request.POST.get("form_token")):
        return extension_view(request, error="the form expired; send it again", status=400)
    try:
        fields = {"reason": request.POST.get("reason", ""), "helpful": True}
        plugin_hub.moderate(stage, user, project, request.matchdict["reviewer"], action, fields)
    except HubInputError as exc:
        return extension_view(request, error=exc.message, status=400)
    return HTTPSeeOther(location=f"{base_path(request)}/x/{project}#reviews")


def collection_view(request: Any) -> Response:
    data = hub_data(plugin_hub.hub_stage(request))
    found = data.collections.get(request.matchdict["name"])
    if found is None:
        raise HubRefusal(404, f"no collection {request.matchdict['name']!r}")
    return render(request, "collection.html", {"collection": found, "short": short_name})


def contributor_view(request: Any) -> Response:
    stage = plugin_hub.hub_stage(request)
    name = request.matchdict["name"]
    if stage.xom.model.get_user(name) is None:
        raise HubRefusal(404, f"no user {name}")
    return render(request, "contributor.html", {"who": plugin_hub.contributor(stage, name),
                                                "short": short_name})  # fmt: skip


def sign_in_view(request: Any, *, error: str | None = None, status: int = 200) -> Response:
    return render(request, "sign_in.html", {"next": _next(request), "error": error},
                  status=status)  # fmt: skip


def sign_in_post_view(request: Any) -> Response:
    user = str(request.POST.get("user", ""))[:100]
    password = str(request.POST.get("password", ""))
    if not plugin_hub.limiter.allow("sign-in", user, 20, time.time()):
        return sign_in_view(request, error="too many attempts; try again later", status=429)
    account = request.registry["xom"].model.get_user(user) if user else None
    if account is None or not account.validate(password):
        return sign_in_view(request, error="wrong user name or password", status=401)
    response = HTTPSeeOther(location=_next(request))
    hub_session.set_session(request, response, user)
    return response


def sign_out_view(request: Any) -> Response:
    response = HTTPSeeOther(location=base_path(request))
    hub_session.end_session(response)
    return response


def _next(request: Any) -> str:
    """Where to go after signing in: a page of this hub only (never another site)."""
    wanted = str(request.params.get("next", ""))
    base = base_path(request)
    return wanted if wanted.startswith(base + "/") or wanted == base else base
