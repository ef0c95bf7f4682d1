# mypy: disallow-untyped-calls=False
# (devpi-server's model functions are untyped; this module is the adapter to them.)
"""devpi-server plugin: the ``anya`` index type (dependency-confusion guard) and the upload check.

Loaded by devpi-server through the ``devpi_server`` entry-point group, or registered
directly by ``anya_plugins.registry.launch`` for the embedded server.

* A private ``anya`` index: once a name exists on a private index in the resolution
  order, only private indexes holding that name serve it. devpi merges ordinary bases
  (a public ``foo 9.0`` would win over a private ``foo 1.0``) and its ``mirror_whitelist``
  guards mirror bases only, so both the simple links and the version list (which the
  JSON API shows) are filtered here.
* An ``anya`` index with ``anya_extensions``: a tween reads the core metadata of each
  file uploaded (twine) or pushed (``devpi push``) to it and refuses, with HTTP 400 and
  nothing stored, a file that breaks the extension contract, disagrees with the name
  and version it is sent as, or has a category the index does not accept. Hooks that
  run after an upload cannot veto it; a tween can.
* Search (``plugin_search``): ``GET /{user}/{index}/+anya/search``, answered from records
  kept in memory and marked stale by devpi's version-data events.
* PEP 740 provenance (``plugin_provenance``): upload attestations checked and kept beside
  their files, served at ``GET /{user}/{index}/+provenance/{filename}`` and linked from
  the simple pages.
* The simple pages are changed in one place (``plugin_simple_pages``): each concern in
  :data:`SIMPLE_PAGE_CONCERNS` (yank and deprecation marks, provenance links, PEP 708/792
  declarations) contributes its change to the page, parsed and written back once.
* The server's audit trail (``plugin_audit_trail``): uploads, downloads, sign-in failures,
  refusals and configuration changes, hash-chained; ``GET /+audit-trail`` for its readers.
* Roles (``plugin_roles``): with ``--anya-roles FILE``, reads, downloads and uploads
  outside the caller's roles (from their LDAP groups) refused with a 403 naming the role
  that would allow them; ``GET /+anya/roles`` for clients. ``plugin_ldap_guard``: no
  password sign-in reaches devpi-ldap while the directory does not answer (503).
* Community hub (``plugin_hub``, ``download_receipts``): reviews, moderation, collections
  kept in the index's ``custom_data``; signed download receipts on files fetched signed in.
* TUF metadata (``plugin_tuf``): with ``--anya-tuf DIR``, signed on every change of the
  delegated indexes, served at ``GET /+tuf/metadata/`` and ``/+tuf/targets/``.
* Prometheus metrics (``plugin_metrics``): ``GET /+metrics``; download latency, requests by
  index and status, availability of this server, its mirrors' upstreams and ``--anya-probe``.
* Usage analytics (``plugin_analytics``): opted-in clients' events, download counts, reports
  with a minimum group size, co-installations, charts at ``/+analytics``.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from devpi_server.model import (
    BaseStageCustomizer,
    InvalidIndexconfig,
    ensure_boolean,
    ensure_list,
)
from pluggy import HookimplMarker
from pyramid.tweens import EXCVIEW  # type: ignore[import-untyped]

from anya_plugins.metadata.taxonomy import CATEGORIES
from anya_plugins.registry import (
    download_receipts,
    plugin_access,
    plugin_analytics,
    plugin_audit_trail,
    plugin_hub,
    plugin_ldap_guard,
    plugin_metrics,
    plugin_project_status,
    plugin_provenance,
    plugin_releases,
    plugin_roles,
    plugin_search,
    plugin_signatures,
    plugin_simple_pages,
    plugin_tuf,
    plugin_upstream,
    plugin_upstream_provenance,
)
from anya_plugins.registry.indexconfig import (
    CATEGORIES_KEY,
    EXTENSIONS_KEY,
    FEATURE,
    INDEX_TYPE,
    PRIVATE_KEY,
    PUBLISHERS_KEY,
    READ_KEY,
    REQUIRE_SIGNATURES_KEY,
    is_private_index,
)
from anya_plugins.registry.plugin_responses import refusal_response
from anya_plugins.registry.uploadcheck import (
    ShownFields,
    UploadRefused,
    check_release_file,
    refuse_metadata_without_file,
)

hookimpl = HookimplMarker("devpiserver")

Handler = Callable[[Any], Any]

_UPLOAD_ACTION = "file_upload"
SIMPLE_PAGE_CONCERNS: tuple[plugin_simple_pages.Concern, ...] = (
    plugin_releases.mark_releases,
    plugin_provenance.link_provenance,
    plugin_upstream_provenance.link_upstream_provenance,
    plugin_project_status.declare_markers,
)
"""What each concern changes on a project's simple page, in this order (``plugin_simple_pages``)."""
_LOCKDOWN_DEFAULTS: dict[str, object] = {
    READ_KEY: list(plugin_access.DEFAULT_READERS),
    REQUIRE_SIGNATURES_KEY: False,
    PUBLISHERS_KEY: [],
}


class AnyaStageCustomizer(BaseStageCustomizer):
    """Policy of an ``anya`` index; otherwise it behaves like devpi's ``stage`` type."""

    def get_possible_indexconfig_keys(self) -> tuple[str, ...]:
        return (
            PRIVATE_KEY,
            EXTENSIONS_KEY,
            CATEGORIES_KEY,
            *_LOCKDOWN_DEFAULTS,
            plugin_project_status.PROJECT_STATUS_KEY,
        )

    def get_default_config_items(self) -> list[tuple[str, object]]:
        return [
            (PRIVATE_KEY, False), (EXTENSIONS_KEY, True), (CATEGORIES_KEY, []),
            *_LOCKDOWN_DEFAULTS.items(), (plugin_project_status.PROJECT_STATUS_KEY, []),
        ]  # fmt: skip

    def normalize_indexconfig_value(self, key: str, value: object) -> object:
        if key in (PRIVATE_KEY, EXTENSIONS_KEY, REQUIRE_SIGNATURES_KEY):
            return ensure_boolean(value)
        if key == READ_KEY:
            return plugin_access.normalize_readers(value)
        if key == PUBLISHERS_KEY:
            return plugin_signatures.normalize_publishers(value)
        if key == plugin_project_status.PROJECT_STATUS_KEY:
            return plugin_project_status.normalize_statuses(value)
        if key == CATEGORIES_KEY:
            categories = ensure_list(value)
            unknown = [c for c in categories if c not in CATEGORIES]
            if unknown:
                raise InvalidIndexconfig(
                    f"{CATEGORIES_KEY}: unknown categories {', '.join(unknown)}; "
                    f"use {', '.join(CATEGORIES)}"
                )
            return categories
        return None

    def get_versions_filter_iter(
        self, project: str, versions: Iterable[str]
    ) -> Iterator[bool] | None:
        owners = self._allowed_stages(project)
        if owners is None:
            return None
        allowed: set[str] = set()
        for stage in owners:
            allowed.update(stage.list_versions_perstage(project))
        return (version in allowed for version in versions)

    def get_simple_links_filter_iter(
        self, project: str, links: Iterable[Any]
    ) -> Iterator[bool] | None:
        owners = self._allowed_stages(project)
        if owners is None:
            return None
        prefixes = tuple(f"{stage.name}/" for stage in owners)
        return (link.path.lstrip("/").startswith(prefixes) for link in links)

    def _allowed_stages(self, project: str) -> list[Any] | None:
        """The only indexes that may serve ``project`` here; None when any may.

        Private owners first (the dependency-confusion guard), else, for a name the
        upstream guard protects, every index but the mirrors (``plugin_upstream``).
        """
        owners = self._private_owners(project)
        if owners:
            return owners
        if plugin_upstream.never_from_upstream(self.stage, project):
            return plugin_upstream.local_stages(self.stage)
        return None

    def _private_owners(self, project: str) -> list[Any]:
        """The private ``anya`` indexes in resolution order that hold ``project`` themselves."""
        return [
            stage
            for stage in self.stage.sro()
            if is_private_index(stage.ixconfig) and stage.has_project_perstage(project) is True
        ]


@hookimpl
def devpiserver_get_stage_customizer_classes() -> list[tuple[str, type]]:
    return [(INDEX_TYPE, AnyaStageCustomizer)]


@hookimpl
def devpiserver_stage_get_principals_for_pkg_read(ixconfig: Any) -> list[str] | None:
    return plugin_access.read_principals(ixconfig)


@hookimpl
def devpiserver_add_parser_options(parser: Any) -> None:
    plugin_signatures.add_options(parser)
    plugin_metrics.add_options(parser)
    plugin_tuf.add_options(parser)
    plugin_analytics.add_options(parser)
    plugin_roles.add_options(parser)
    plugin_audit_trail.add_options(parser)


@hookimpl
def devpiserver_get_features() -> set[str]:
    return {FEATURE}


@hookimpl
def devpiserver_pyramid_configure(config: Any, pyramid_config: Any) -> None:
    # Under the keyfs transaction tween: the stage is readable, a refusal stores nothing,
    # and what the provenance tween stores is committed with the upload or not at all. Over
    # the exception view: devpi's answers (e.g. its 200 for an identical re-upload) are
    # raised as exceptions, which the tweens must see as responses.
    contract_tween = f"{__name__}.upload_contract_tween"
    pyramid_config.add_tween(
        contract_tween, under="devpi_server.views.tween_keyfs_transaction", over=EXCVIEW
    )
    pyramid_config.add_tween(
        f"{plugin_provenance.__name__}.provenance_tween", under=contract_tween, over=EXCVIEW
    )
    pyramid_config.add_tween(
        f"{plugin_access.__name__}.read_tween",
        under="devpi_server.views.tween_keyfs_transaction",
        over=contract_tween,
    )
    pyramid_config.add_tween(
        f"{plugin_roles.__name__}.roles_tween",
        under=f"{plugin_access.__name__}.read_tween",
        over=contract_tween,
    )
    pyramid_config.add_tween(
        f"{plugin_ldap_guard.__name__}.ldap_guard_tween",
        over="devpi_server.views.tween_keyfs_transaction",
    )
    pyramid_config.add_tween(
        f"{plugin_signatures.__name__}.signature_tween", under=contract_tween, over=EXCVIEW
    )
    pyramid_config.add_tween(
        f"{plugin_project_status.__name__}.status_tween", under=contract_tween, over=EXCVIEW
    )
    pyramid_config.registry[plugin_simple_pages.CONCERNS_KEY] = SIMPLE_PAGE_CONCERNS
    pyramid_config.add_tween(
        f"{plugin_simple_pages.__name__}.simple_page_tween", under=contract_tween, over=EXCVIEW
    )
    plugin_search.configure(pyramid_config)
    plugin_provenance.configure(pyramid_config)
    plugin_releases.configure(pyramid_config)
    plugin_project_status.configure(pyramid_config)
    plugin_metrics.configure(pyramid_config)
    plugin_tuf.configure(pyramid_config)
    pyramid_config.add_tween(
        f"{plugin_tuf.__name__}.tuf_tween",
        under="devpi_server.views.tween_keyfs_transaction",
        over=EXCVIEW,
    )
    plugin_analytics.configure(pyramid_config)
    pyramid_config.add_tween(
        f"{download_receipts.__name__}.receipt_tween",
        under="devpi_server.views.tween_keyfs_transaction",
        over=EXCVIEW,
    )
    plugin_hub.configure(pyramid_config)
    plugin_roles.configure(config, pyramid_config)
    pyramid_config.registry.setdefault(plugin_roles.REFUSAL_LISTENERS_KEY, []).append(
        _record_role_refusal
    )
    # Above every tween that refuses a request, to record its final answer.
    pyramid_config.add_tween(
        f"{plugin_audit_trail.__name__}.audit_trail_tween",
        under="devpi_server.views.tween_keyfs_transaction",
        over=(f"{plugin_access.__name__}.read_tween", contract_tween),
    )
    plugin_audit_trail.configure(pyramid_config)


@hookimpl
def devpiserver_on_changed_versiondata(
    stage: Any, project: str, version: str, metadata: Any
) -> None:
    plugin_search.mark_changed(stage, project)


@hookimpl
def devpiserver_stage_created(stage: Any) -> None:
    plugin_search.forget_stage(stage)


def _record_role_refusal(request: Any, decision: Any) -> None:
    """A role refusal in the audit trail, with the roles held and those that would allow it."""
    plugin_audit_trail.record_server_event(
        request,
        "permission-refused",
        status=403,
        details={
            "permission": decision.permission,
            "subject": decision.subject,
            "roles": list(decision.held),
            "would_allow": list(decision.would_allow),
        },
    )


def upload_contract_tween(handler: Handler, registry: Any) -> Handler:
    """Refuse an upload or push to an extension index when a file breaks the contract."""
    xom = registry["xom"]

    def tween(request: Any) -> Any:
        try:
            _check_request(xom, request)
        except UploadRefused as refusal:
            return refusal_response(refusal)
        return handler(request)

    return tween


def _check_request(xom: Any, request: Any) -> None:
    """Raise UploadRefused for a release file an extension index must not take.

    Requests this check does not concern (other methods or paths, indexes without
    ``anya_extensions``, callers without upload permission, who get devpi's own 401
    or 403) pass untouched.
    """
    if request.method not in ("POST", "PUSH"):
        return
    parts = request.path_info.strip("/").split("/")
    if len(parts) != 2:
        return
    if request.content_type.startswith("multipart/form-data"):
        _check_upload(xom.model.getstage(*parts), request)
    elif request.content_type == "application/json":
        _check_push(xom, xom.model.getstage(*parts), request)


def _check_upload(stage: Any, request: Any) -> None:
    """twine's ``file_upload``: the file in the form, against the form's name and version."""
    if not _takes_only_extensions(stage) or not request.has_permission("upload", stage):
        return
    form = request.POST
    content = form.get("content")
    refuse_metadata_without_file(form)
    if form.get(":action") != _UPLOAD_ACTION or not getattr(content, "filename", None):
        return
    content.file.seek(0)
    try:
        _check_file(
            content.filename, content.file, stage, str(form.get("name", "")),
            str(form.get("version", "")),
            ShownFields.from_values(form.get("summary"), form.get("keywords")),
        )  # fmt: skip
    finally:
        content.file.seek(0)


def _check_push(xom: Any, source: Any, request: Any) -> None:
    """``devpi push`` into an extension index: every release file already on the source."""
    try:
        push = request.json_body
    except ValueError:
        return
    if source is None or not isinstance(push, dict) or not push.get("targetindex"):
        return
    target_parts = str(push["targetindex"]).split("/")
    target = xom.model.getstage(*target_parts) if len(target_parts) == 2 else None
    if not _takes_only_extensions(target) or not request.has_permission("upload", target):
        return
    name, version = str(push.get("name", "")), str(push.get("version", ""))
    try:
        links = source.get_linkstore_perstage(name, version).get_links(rel="releasefile")
    except source.MissesRegistration:
        return
    pushed = source.get_versiondata_perstage(name, version) or {}
    shown = ShownFields.from_values(pushed.get("summary"), pushed.get("keywords"))
    for link in links:
        with link.entry.file_open_read() as content:
            _check_file(link.basename, content, target, name, version, shown)


def _takes_only_extensions(stage: Any) -> bool:
    return (
        stage is not None
        and stage.ixconfig.get("type") == INDEX_TYPE
        and bool(stage.ixconfig.get(EXTENSIONS_KEY))
    )


def _check_file(
    filename: str, content: IO[bytes], stage: Any, name: str, version: str, shown: ShownFields
) -> None:
    """Copy the file out under its own name (wheel tags come from it) and check it."""
    with tempfile.TemporaryDirectory(prefix="anya-upload-") as tmp:
        path = Path(tmp) / Path(filename).name
        with path.open("wb") as out:
            shutil.copyfileobj(content, out)
        check_release_file(
            path, name=name, version=version, categories=stage.ixconfig.get(CATEGORIES_KEY, []),
            shown=shown,
        )  # fmt: skip
