"""PEP 708 (tracks, alternate-locations) and PEP 792 (project status), from both page formats."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from anya_plugins.install.transaction import DependencyConfusion, _refuse_mixed_origins
from anya_plugins.sources.errors import IndexResponseError
from anya_plugins.sources.project_markers import ProjectMarkers, ProjectQuarantined
from anya_plugins.sources.settings import parse_sources
from anya_plugins.sources.simple import SIMPLE_HTML, SIMPLE_JSON, SimpleIndex, parse_project_page
from anya_plugins.sources.snapshot import CheckedPages
from tests.sources.conftest import ServeRoutes
from tests.sources.network import send

URL = "https://pkgs.acme.example/acme/private/+simple/acme-ledger/"
WHEEL = "acme_ledger-1.0-py3-none-any.whl"


def _json_page(**extra: object) -> bytes:
    files = [{"filename": WHEEL, "url": f"../../+f/{WHEEL}", "hashes": {"sha256": "ab" * 32}}]
    document = {"meta": {"api-version": "1.4"}, "name": "acme-ledger", "files": files, **extra}
    return json.dumps(document).encode()


def _html_page(*meta: tuple[str, str]) -> bytes:
    tags = "".join(f'<meta name="{name}" content="{content}">' for name, content in meta)
    return (
        '<!DOCTYPE html><html><head><meta name="pypi:repository-version" content="1.4">'
        f'{tags}</head><body><a href="../../+f/{WHEEL}#sha256={"ab" * 32}">{WHEEL}</a>'
        "</body></html>"
    ).encode()


def test_a_json_page_gives_its_top_level_tracks_alternates_and_status() -> None:
    body = _json_page(
        tracks=["https://pypi.org/simple/acme-ledger/"],
        **{
            "alternate-locations": ["/acme/mirror/+simple/acme-ledger/"],
            "project-status": {"status": "Archived", "reason": "moved to acme-books"},
        },
    )

    page = parse_project_page("acme-ledger", body, SIMPLE_JSON, URL)

    assert page.markers == ProjectMarkers(
        tracks=("https://pypi.org/simple/acme-ledger/",),
        alternate_locations=("https://pkgs.acme.example/acme/mirror/+simple/acme-ledger/",),
        status="archived",
        status_reason="moved to acme-books",
    )
    assert page.tracks == page.markers.tracks
    assert page.alternate_locations == page.markers.alternate_locations
    assert page.status == "archived"


def test_an_html_page_gives_the_same_markers_from_its_meta_tags() -> None:
    body = _html_page(
        ("pypi:tracks", "https://pypi.org/simple/acme-ledger/"),
        ("pypi:alternate-locations", "/acme/mirror/+simple/acme-ledger/"),
        ("pypi:alternate-locations", "https://replica.acme.example/simple/acme-ledger/"),
        ("pypi:project-status", "quarantined"),
        ("pypi:project-status-reason", "malware reported"),
    )

    page = parse_project_page("acme-ledger", body, SIMPLE_HTML, URL)

    assert page.markers == ProjectMarkers(
        tracks=("https://pypi.org/simple/acme-ledger/",),
        alternate_locations=(
            "https://pkgs.acme.example/acme/mirror/+simple/acme-ledger/",
            "https://replica.acme.example/simple/acme-ledger/",
        ),
        status="quarantined",
        status_reason="malware reported",
    )
    assert [link.filename for link in page.files] == [WHEEL]


@pytest.mark.parametrize(
    ("content_type", "body"), [(SIMPLE_JSON, _json_page()), (SIMPLE_HTML, _html_page())]
)
def test_a_page_without_markers_is_an_active_project_that_declares_nothing(
    content_type: str, body: bytes
) -> None:
    page = parse_project_page("acme-ledger", body, content_type, URL)

    assert page.markers == ProjectMarkers()
    assert page.status == "active"


@pytest.mark.parametrize(
    "extra",
    [
        {"tracks": "https://pypi.org/simple/acme-ledger/"},
        {"alternate-locations": [3]},
        {"project-status": "quarantined"},
        {"project-status": {"status": 1}},
        {"project-status": {"status": "archived", "reason": ["no"]}},
    ],
)
def test_malformed_json_markers_are_refused(extra: dict[str, object]) -> None:
    with pytest.raises(IndexResponseError):
        parse_project_page("acme-ledger", _json_page(**extra), SIMPLE_JSON, URL)


def _serve_page(serve: ServeRoutes, body: bytes) -> str:
    def page(handler: BaseHTTPRequestHandler) -> None:
        send(handler, 200, body, content_type=SIMPLE_JSON)

    server = serve({"/simple/": lambda h: send(h, 200), "/simple/acme-ledger/": page})
    return f"{server.url()}/simple/"


def test_markers_survive_the_page_cache(serve: ServeRoutes, tmp_path: Path) -> None:
    url = _serve_page(serve, _json_page(**{"project-status": {"status": "archived"}}))
    index = SimpleIndex.from_settings(
        parse_sources({"primary": {"url": url}, "cache": {"dir": str(tmp_path)}})
    )

    fetched = index.project_page("acme-ledger")
    cached = index.project_page("acme-ledger")

    assert cached.from_cache and not fetched.from_cache
    assert cached.status == fetched.status == "archived"


def test_a_quarantined_project_is_refused_before_the_resolver_sees_it(
    serve: ServeRoutes, tmp_path: Path
) -> None:
    quarantined = {"project-status": {"status": "quarantined", "reason": "malware"}}
    url = _serve_page(serve, _json_page(**quarantined))
    index = SimpleIndex.from_settings(
        parse_sources({"primary": {"url": url}, "cache": {"dir": str(tmp_path)}})
    )

    with CheckedPages(index, tmp_path) as pages:
        with pytest.raises(ProjectQuarantined, match=r"acme-ledger is quarantined.*malware"):
            pages.page("acme-ledger")
        with pytest.raises(ProjectQuarantined):
            pages.raise_failure()


PRIVATE = "https://pkgs.acme.example/acme/private/+simple/"
PUBLIC_FILE = f"https://pkgs.acme.example/anya/primary/+f/ab/{WHEEL}"
PRIVATE_FILE = f"https://pkgs.acme.example/acme/private/+f/cd/{WHEEL}"


def _mixed_page(**extra: object) -> bytes:
    files = [
        {"filename": WHEEL, "url": url, "hashes": {"sha256": "ab" * 32}}
        for url in (PRIVATE_FILE, PUBLIC_FILE)
    ]
    return json.dumps(
        {"meta": {"api-version": "1.2"}, "name": "acme-ledger", "files": files, **extra}
    ).encode()


def test_a_private_name_also_served_from_an_undeclared_index_is_refused() -> None:
    page = parse_project_page("acme-ledger", _mixed_page(), SIMPLE_JSON, f"{PRIVATE}acme-ledger/")

    with pytest.raises(DependencyConfusion, match="anya/primary"):
        _refuse_mixed_origins(page, PRIVATE)


def test_the_same_refusal_works_on_a_server_that_is_not_devpi() -> None:
    files = [
        {
            "filename": WHEEL,
            "url": f"https://{host}/packages/{WHEEL}",
            "hashes": {"sha256": "ab" * 32},
        }
        for host in ("pkgs.acme.example", "files.pythonhosted.org")
    ]
    body = json.dumps(
        {"meta": {"api-version": "1.2"}, "name": "acme-ledger", "files": files}
    ).encode()
    page = parse_project_page(
        "acme-ledger", body, SIMPLE_JSON, "https://pkgs.acme.example/simple/acme-ledger/"
    )

    with pytest.raises(DependencyConfusion, match=r"files\.pythonhosted\.org"):
        _refuse_mixed_origins(page, "https://pkgs.acme.example/simple/")


@pytest.mark.parametrize("key", ["alternate-locations", "tracks"])
def test_an_index_the_page_declares_pep708_may_serve_the_same_name(key: str) -> None:
    declared = {key: ["https://pkgs.acme.example/anya/primary/+simple/acme-ledger/"]}
    page = parse_project_page(
        "acme-ledger", _mixed_page(**declared), SIMPLE_JSON, f"{PRIVATE}acme-ledger/"
    )

    _refuse_mixed_origins(page, PRIVATE)
