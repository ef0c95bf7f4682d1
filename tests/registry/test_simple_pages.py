"""The one simple-page hook: what a concern's change looks like in both page formats, read
back by the client's parser. Pure: pages devpi rendered, no server (the concerns themselves
run against the session registry in test_releases, test_deprecation, test_project_status,
test_provenance and test_upstream_provenance).
"""

from __future__ import annotations

import json
import re

import pytest

from anya_plugins.registry.plugin_simple_pages import SimplePage
from anya_plugins.sources.simple import SIMPLE_HTML, SIMPLE_JSON, ProjectPage, parse_project_page

URL = "http://registry.example/acme/private/+simple/acme-ledger/"
OLD, NEW = "acme_ledger-1.0-py3-none-any.whl", "acme_ledger-2.0-py3-none-any.whl"
HTML = (
    '<!DOCTYPE html><html lang="en"><head><title>links for acme-ledger</title>'
    '<meta name="pypi:repository-version" content="1.1"></head><body><h1>links</h1>\n'
    f'<a href="../../+f/ab/{OLD}#sha256={"ab" * 32}" data-requires-python="">{OLD}</a><br>\n'
    f'<a href="../../+f/cd/{NEW}#sha256={"cd" * 32}">{NEW}</a><br>\n'
    "</body></html>"
)
JSON = {
    "meta": {"api-version": "1.1"},
    "name": "acme-ledger",
    "files": [
        {"filename": name, "url": f"../../+f/{name}", "hashes": {"sha256": digest * 32}}
        for name, digest in ((OLD, "ab"), (NEW, "cd"))
    ],
}


def _page(kind: str) -> SimplePage:
    document: dict[str, object] | str = json.loads(json.dumps(JSON)) if kind == "json" else HTML
    return SimplePage(None, None, None, "acme-ledger", document)


def _served(page: SimplePage) -> ProjectPage:
    return parse_project_page(
        "acme-ledger", page.body(), SIMPLE_JSON if page.is_json else SIMPLE_HTML, URL
    )


def _api_versions(page: SimplePage) -> list[str]:
    body = page.body().decode()
    if page.is_json:
        return [json.loads(body)["meta"]["api-version"]]
    return re.findall(r'<meta name="pypi:repository-version" content="([^"]*)"', body)


@pytest.fixture(params=["json", "html"])
def page(request: pytest.FixtureRequest) -> SimplePage:
    return _page(str(request.param))


def test_each_concern_marks_files_by_name_whatever_the_format(page: SimplePage) -> None:
    page.mark_file(OLD, "yanked", True)
    page.mark_file(OLD, "_anya-deprecated", "loses data", attribute="data-anya-deprecated")
    page.mark_file(NEW, "provenance", "http://registry.example/+provenance/x")

    served = _served(page)

    old, new = served.files
    assert (old.yanked, old.yanked_reason, old.deprecated) == (True, None, "loses data")
    assert (new.yanked, new.deprecated, new.provenance) == (
        False,
        None,
        "http://registry.example/+provenance/x",
    )


def test_declarations_and_the_api_version_reach_both_formats(page: SimplePage) -> None:
    page.set_api_version("1.4")
    page.declare("tracks", ["https://pypi.org/simple/acme-ledger/"],
                 [("pypi:tracks", "https://pypi.org/simple/acme-ledger/")])  # fmt: skip
    page.declare("project-status", {"status": "archived", "reason": "moved"},
                 [("pypi:project-status", "archived"),
                  ("pypi:project-status-reason", "moved")])  # fmt: skip

    served = _served(page)

    assert served.tracks == ("https://pypi.org/simple/acme-ledger/",)
    assert (served.status, served.markers.status_reason) == ("archived", "moved")
    assert len(served.files) == 2
    assert _api_versions(page) == ["1.4"]


def test_dropping_the_files_leaves_the_declarations(page: SimplePage) -> None:
    page.declare("project-status", {"status": "quarantined"},
                 [("pypi:project-status", "quarantined")])  # fmt: skip
    page.mark_file(OLD, "yanked", "bad")
    page.drop_files()

    served = _served(page)

    assert (served.status, served.files) == ("quarantined", ())


def test_a_page_no_concern_changed_is_written_back_as_it_was() -> None:
    page = _page("html")

    assert page.body().decode() == HTML
    assert page.filenames == (OLD, NEW)
