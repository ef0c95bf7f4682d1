# mypy: disallow-untyped-calls=False
# (devpi-server's model functions are untyped; this module is the adapter to them.)
"""The community hub's JSON API, kept on the index it is reached through.

Routes under ``/{user}/{index}/+hub/api``:

* ``GET reviews/{project}``: aggregates (overall and per version) and the visible reviews.
* ``POST reviews/{project}`` ``{"rating", "title", "body", "version"?, "receipt"?}``: the
  signed-in user's review (one per user and extension; a second POST edits it and keeps the
  previous text). With a download receipt (``download_receipts``) it is "verified install".
* ``POST reviews/{project}/{reviewer}/hide`` ``{"reason"}`` (the project's maintainers and
  hub admins), ``.../unhide``, ``.../flag`` ``{"reason"}`` (any signed-in user),
  ``.../helpful`` ``{"helpful": true|false}``.
* ``GET collections``, ``GET collections/{name}``, ``PUT collections/{name}``
  ``{"title", "description", "entries": [{"name", "specifier", "features"}]}`` (curators).
* ``GET contributors/{user}``; ``PATCH roles`` ``{"admins", "curators", "writes_per_hour"}``
  (the index owner, or whoever may modify the index).

Refusals: 401 without a valid sign-in (devpi treats a wrong password as anonymous), 403
without the role, 400 for invalid input or a receipt the registry did not sign for this user
and project, 404 for an unknown project, 429 past the per-user write limit. Hub data is the
index's ``custom_data`` (``hub_store``): it replicates and is exported with the index; the
replica relays these POSTs to the primary.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from packaging.utils import canonicalize_name
from pyramid.response import Response  # type: ignore[import-untyped]
from pyramid.tweens import EXCVIEW  # type: ignore[import-untyped]

from anya_plugins.registry import download_receipts
from anya_plugins.registry.hub_store import (
    HUB_KEY,
    Collection,
    HubData,
    HubInputError,
    RateLimiter,
    Review,
    checked_collection_name,
    checked_entries,
    flagged_review,
    hidden_review,
    published_collection,
    shown_review,
    voted_review,
    written_review,
)
from anya_plugins.registry.plugin_responses import json_body, json_response, message_response

API = "/{user:[^+/]+}/{index:[^+/]+}/+hub/api"
_MIRROR = "mirror"
limiter = RateLimiter()
"""Hub writes and web sign-ins per user (in the memory of the primary, which takes every write)."""
Mutation = Callable[[Review, str], Review]


class HubRefusal(Exception):
    """A request the hub answers with an error status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def configure(pyramid_config: Any) -> None:
    routes: list[tuple[str, str, Callable[[Any], Response], str]] = [
        ("anya-hub-reviews", "/reviews/{project}", reviews_view, "GET"),
        ("anya-hub-review", "/reviews/{project}", review_post_view, "POST"),
        ("anya-hub-moderate", "/reviews/{project}/{reviewer}/{action}", moderate_view, "POST"),
        ("anya-hub-collections", "/collections", collections_view, "GET"),
        ("anya-hub-collection", "/collections/{name}", collection_view, "GET"),
        ("anya-hub-collection-put", "/collections/{name}", collection_put_view, "PUT"),
        ("anya-hub-contributor", "/contributors/{name}", contributor_view, "GET"),
        ("anya-hub-roles", "/roles", roles_view, "PATCH"),
    ]
    for name, pattern, view, method in routes:
        pyramid_config.add_route(name, API + pattern, request_method=method)
        pyramid_config.add_view(_answering(view), route_name=name, request_method=method)
    from anya_plugins.registry import hub_pages
    from anya_plugins.registry.plugin_search import DOWNLOAD_TOTALS_KEY

    hub_pages.configure(pyramid_config)
    pyramid_config.registry.setdefault(DOWNLOAD_TOTALS_KEY, analytics_download_totals)
    pyramid_config.add_tween(
        f"{__name__}.index_config_tween",
        under="devpi_server.views.tween_keyfs_transaction",
        over=EXCVIEW,
    )


def index_config_tween(handler: Callable[[Any], Any], registry: Any) -> Callable[[Any], Any]:
    """Leave the hub document out of ``GET /{user}/{index}`` (devpi shows the whole index
    configuration to every reader): hidden reviews, flags and who flagged are for the API's
    moderators only. Replication and export read the stored config, not this answer."""

    def tween(request: Any) -> Any:
        response = handler(request)
        parts = request.path_info.strip("/").split("/")
        if (
            request.method != "GET" or len(parts) != 2 or parts[0].startswith("+")
            or response.status_code != 200 or response.content_type != "application/json"
        ):  # fmt: skip
            return response
        try:
            document = json.loads(response.body)
            custom = document["result"]["custom_data"]
        except (ValueError, KeyError, TypeError):
            return response
        if isinstance(custom, dict) and custom.pop(HUB_KEY, None) is not None:
            response.body = json.dumps(document).encode("utf-8")
        return response

    return tween


def analytics_download_totals(xom: Any, index_names: list[str]) -> dict[str, int]:
    """Downloads per project over the analytics retention period (``plugin_analytics``
    counts every ``/+f/`` file served, on any index of this server: not per index)."""
    from anya_plugins.registry import plugin_analytics

    store = plugin_analytics.store_of(xom)
    rows = store.report(last_days=store.retention_days, group_by="extension", categories={})
    return {row.group: row.downloads for row in rows}


def _answering(view: Callable[[Any], Response]) -> Callable[[Any], Response]:
    def answer(request: Any) -> Response:
        try:
            return view(request)
        except HubRefusal as refusal:
            return message_response(refusal.status, refusal.message)
        except HubInputError as error:
            text = error.message if not error.hint else f"{error.message} ({error.hint})"
            return message_response(400, text)

    return answer


# reading the index


def hub_stage(request: Any) -> Any:
    xom = request.registry["xom"]
    stage = xom.model.getstage(request.matchdict["user"], request.matchdict["index"])
    if stage is None:
        raise HubRefusal(404, f"no index {request.matchdict['user']}/{request.matchdict['index']}")
    if not request.has_permission("pkg_read"):
        raise HubRefusal(403, f"no permission to read {stage.name}")
    return stage


def hub_data(stage: Any) -> HubData:
    return HubData.from_custom_data(stage.ixconfig.get("custom_data"))


def save(stage: Any, data: HubData) -> None:
    """Write the hub document into the index's custom data (the request's write transaction)."""
    from devpi_server.readonly import get_mutable_deepcopy

    current = get_mutable_deepcopy(stage.ixconfig.get("custom_data") or {})
    stage.modify(custom_data=data.into_custom_data(current))


def local_stages(stage: Any) -> list[Any]:
    return [base for base in stage.sro() if base.ixconfig.get("type") != _MIRROR]


def project_home(stage: Any, project: str) -> Any:
    """The first index in the resolution order (mirrors left out) that holds ``project``."""
    for base in local_stages(stage):
        if base.has_project_perstage(project) is True:
            return base
    raise HubRefusal(404, f"no extension {project} on {stage.name}")


def project_versions(stage: Any, project: str) -> list[str]:
    from anya_plugins.registry.search import version_key

    home = project_home(stage, project)
    return sorted(home.list_versions_perstage(project), key=version_key)


def signed_in_user(request: Any, *, cookie: bool = False) -> str | None:
    """The devpi user the request authenticates as by header; with ``cookie`` (the web
    pages, whose forms carry a token) also by the hub's session cookie."""
    user = request.authenticated_userid
    if user:
        return str(user)
    if not cookie:
        return None
    from anya_plugins.registry.hub_session import cookie_user

    return cookie_user(request)


def required_user(request: Any, *, cookie: bool = False) -> str:
    user = signed_in_user(request, cookie=cookie)
    if user is None:
        raise HubRefusal(401, "sign in to do this (a wrong password counts as no sign-in)")
    return user


def is_hub_admin(stage: Any, data: HubData, user: str) -> bool:
    return user in ("root", stage.username) or user in data.roles.admins


def is_maintainer(stage: Any, project: str, user: str) -> bool:
    """Whoever may upload ``project`` where it lives: the index owner or a named uploader."""
    home = project_home(stage, project)
    uploaders = [u for u in home.ixconfig.get("acl_upload", ()) if not u.startswith(":")]
    return user == home.username or user in uploaders


def within_limit(data: HubData, user: str) -> None:
    if not limiter.allow("hub", user, data.writes_per_hour, time.time()):
        raise HubRefusal(
            429, f"{user} made {data.writes_per_hour} hub changes in the last hour; try later"
        )


def body_of(request: Any) -> dict[str, Any]:
    body = json_body(request)
    if body is None:
        raise HubRefusal(400, "the request body must be a JSON object")
    return body


# reviews


def reviews_document(data: HubData, project: str) -> dict[str, object]:
    ratings = data.ratings(project)
    return {
        "project": project,
        "ratings": asdict(ratings),
        "reviews": [review.as_json(moderation=False) for review in data.visible_reviews(project)],
    }


def reviews_view(request: Any) -> Response:
    stage = hub_stage(request)
    project = str(canonicalize_name(request.matchdict["project"]))
    project_home(stage, project)
    return json_response(reviews_document(hub_data(stage), project))


def submit_review(stage: Any, user: str, project: str, fields: dict[str, Any]) -> Review:
    """Check and store ``user``'s review of ``project`` (the JSON API and the web form)."""
    data = hub_data(stage)
    versions = project_versions(stage, project)
    receipt = _checked_receipt(stage, user, project, fields.get("receipt"))
    version = fields.get("version") or (receipt.version if receipt else None) or versions[-1]
    if version not in versions:
        raise HubInputError(f"{project} has no version {version!r} on {stage.name}")
    existing = data.review(project, user)
    within_limit(data, user)
    review = written_review(
        existing, project=project, user=user, version=str(version),
        rating=fields.get("rating"), title=fields.get("title"), body=fields.get("body", ""),
        verified=receipt is not None or (existing is not None and existing.verified),
        now=time.time(),
    )  # fmt: skip
    save(stage, data.with_review(review))
    return review


def _checked_receipt(
    stage: Any, user: str, project: str, token: object
) -> download_receipts.DownloadReceipt | None:
    """The download receipt sent with a review, refused unless the registry signed it for
    this user and this project on an index this one serves."""
    if token is None or token == "":
        return None
    if not isinstance(token, str) or len(token) > 4096:
        raise HubInputError("receipt must be the text of a download receipt")
    try:
        receipt = download_receipts.verify(download_receipts.server_key(stage.xom), token)
    except download_receipts.InvalidReceipt as exc:
        raise HubInputError(f"verified install refused: {exc}") from None
    if receipt.user != user:
        raise HubInputError("verified install refused: the receipt was issued to another user")
    if receipt.project != project:
        raise HubInputError(f"verified install refused: the receipt is for {receipt.project}")
    if receipt.index not in {base.name for base in local_stages(stage)}:
        raise HubInputError(f"verified install refused: {receipt.index} is not served here")
    return receipt


def review_post_view(request: Any) -> Response:
    stage = hub_stage(request)
    user = required_user(request)
    project = str(canonicalize_name(request.matchdict["project"]))
    review = submit_review(stage, user, project, body_of(request))
    return json_response(review.as_json(moderation=False))


def moderate(stage: Any, user: str, project: str, reviewer: str, action: str,
             fields: dict[str, Any]) -> Review:  # fmt: skip
    """Hide, unhide, flag or vote on ``reviewer``'s review of ``project`` as ``user``."""
    data = hub_data(stage)
    review = data.review(project, reviewer)
    if review is None:
        raise HubRefusal(404, f"{reviewer} has not reviewed {project}")
    now = time.time()
    if action in ("hide", "unhide"):
        if not (is_hub_admin(stage, data, user) or is_maintainer(stage, project, user)):
            raise HubRefusal(403, f"only {project}'s maintainers and hub admins hide reviews")
        changed = (
            hidden_review(review, by=user, reason=fields.get("reason"), now=now)
            if action == "hide"
            else shown_review(review)
        )
    elif action == "flag":
        within_limit(data, user)
        changed = flagged_review(review, by=user, reason=fields.get("reason"), now=now)
    elif action == "helpful":
        within_limit(data, user)
        changed = voted_review(review, by=user, helpful=fields.get("helpful", True) is not False)
    else:
        raise HubRefusal(404, f"no review action {action!r}")
    save(stage, data.with_review(changed))
    return changed


def moderate_view(request: Any) -> Response:
    stage = hub_stage(request)
    user = required_user(request)
    project = str(canonicalize_name(request.matchdict["project"]))
    changed = moderate(
        stage, user, project, request.matchdict["reviewer"], request.matchdict["action"],
        body_of(request),
    )  # fmt: skip
    return json_response(changed.as_json(moderation=False))


# collections


def collections_view(request: Any) -> Response:
    data = hub_data(hub_stage(request))
    return json_response({"collections": [c.as_json() for c in data.collections.values()]})


def collection_view(request: Any) -> Response:
    data = hub_data(hub_stage(request))
    found = data.collections.get(request.matchdict["name"])
    if found is None:
        raise HubRefusal(404, f"no collection {request.matchdict['name']!r}")
    return json_response(found.as_json())


def collection_put_view(request: Any) -> Response:
    stage = hub_stage(request)
    user = required_user(request)
    data = hub_data(stage)
    if user not in data.roles.curators and not is_hub_admin(stage, data, user):
        raise HubRefusal(403, "only curators publish collections")
    name = checked_collection_name(request.matchdict["name"])
    existing = data.collections.get(name)
    if existing is not None and existing.owner != user and not is_hub_admin(stage, data, user):
        raise HubRefusal(403, f"collection {name} belongs to {existing.owner}")
    fields = body_of(request)
    known = _known_projects(stage)
    collection = published_collection(
        existing, name=name, owner=existing.owner if existing else user,
        title=fields.get("title"), description=fields.get("description", ""),
        entries=checked_entries(fields.get("entries"), known), now=time.time(),
    )  # fmt: skip
    within_limit(data, user)
    save(stage, _with_collection(data, collection))
    return json_response(collection.as_json())


def _with_collection(data: HubData, collection: Collection) -> HubData:
    from dataclasses import replace

    return replace(data, collections={**data.collections, collection.name: collection})


def _known_projects(stage: Any) -> dict[str, str]:
    """Every project on the index's local resolution order: canonical -> canonical name."""
    names: dict[str, str] = {}
    for base in local_stages(stage):
        for project in base.list_projects_perstage():
            key = str(canonicalize_name(project))
            names.setdefault(key, key)
    return names


# contributors and roles


def contributor(stage: Any, name: str) -> dict[str, object]:
    """A contributor's extensions (on indexes they own or upload to), reviews and helpful
    votes their visible reviews received, on this hub."""
    data = hub_data(stage)
    published: list[str] = []
    for base in local_stages(stage):
        uploaders = [u for u in base.ixconfig.get("acl_upload", ()) if not u.startswith(":")]
        if name == base.username or name in uploaders:
            published.extend(str(canonicalize_name(p)) for p in base.list_projects_perstage())
    reviews = [
        r
        for by_user in data.reviews.values()
        for r in by_user.values()
        if r.user == name and r.hidden is None
    ]
    return {
        "name": name,
        "extensions": sorted(set(published)),
        "reviews": [r.as_json(moderation=False) for r in reviews],
        "helpful_votes": sum(len(r.helpful) for r in reviews),
    }


def contributor_view(request: Any) -> Response:
    stage = hub_stage(request)
    name = request.matchdict["name"]
    if stage.xom.model.get_user(name) is None:
        raise HubRefusal(404, f"no user {name}")
    return json_response(contributor(stage, name))


def roles_view(request: Any) -> Response:
    from dataclasses import replace

    from anya_plugins.registry.hub_store import Roles

    stage = hub_stage(request)
    user = required_user(request)
    if user not in (stage.username, "root") and not request.has_permission("index_modify"):
        raise HubRefusal(403, f"only the owner of {stage.name} sets hub roles")
    fields = body_of(request)
    data = hub_data(stage)
    roles = Roles(
        tuple(_names(fields.get("admins", data.roles.admins))),
        tuple(_names(fields.get("curators", data.roles.curators))),
    )
    limit = fields.get("writes_per_hour", data.writes_per_hour)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 100_000:
        raise HubInputError("writes_per_hour must be a whole number from 1 to 100000")
    save(stage, replace(data, roles=roles, writes_per_hour=limit))
    return json_response({"admins": list(roles.admins), "curators": list(roles.curators),
                          "writes_per_hour": limit})  # fmt: skip


def _names(value: object) -> list[str]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise HubInputError("roles are lists of user names")
    return [str(v) for v in value]
