"""PEP 740 provenance of an upstream project, through devpi's mirror.

A static upstream of its own (tests/upstream_index.py, as PyPI serves Trusted Publishing
uploads: a ``data-provenance`` link per attested file) is mirrored by ``root/prov-upstream``
(devpi ``type=mirror``), the base of ``root/prov-anya`` (an ``anya`` index). devpi's mirror
drops the provenance link; the plugin carries it on the ``anya`` index, and the client
verifies what it gets like any served provenance.

All project names here contain "provenant", which no other test module uses.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from anya_plugins.registry.provenance import provenance_object
from anya_plugins.sources.http import HttpClient
from anya_plugins.sources.mirrors import MirrorSet
from anya_plugins.sources.simple import SIMPLE_HTML, SimpleIndex, parse_project_page
from anya_plugins.trust.dependencies import verify_dependency
from anya_plugins.trust.policy import TrustPolicy
from anya_plugins.trust.signing import attest_files
from anya_sigstore_local import LocalSigstore
from tests.registry_fixtures import Registry
from tests.upstream_index import plain_wheel, serve_static_index, write_simple_index

pytestmark = pytest.mark.slow

MIRROR, INDEX = "root/prov-upstream", "root/prov-anya"
ATTESTED, PLAIN = "anya-test-provenant", "anya-test-provenant-plain"
RELEASER = "upstream-release@anya.example"


@pytest.fixture(scope="module")
def upstream(
    tmp_path_factory: pytest.TempPathFactory, local_sigstore: LocalSigstore
) -> Iterator[tuple[str, dict[str, Path], dict[str, bytes]]]:
    """The upstream's URL, its wheels by project, and the provenance it serves by file name."""
    wheels = tmp_path_factory.mktemp("provenant-wheels")
    attested = plain_wheel(wheels, ATTESTED, "1.0.0", modules={"anya_test_provenant": ""})
    plain = plain_wheel(wheels, PLAIN, "1.0.0", modules={"anya_test_provenant_plain": ""})
    (attestation,) = attest_files(
        [attested],
        identity_token=local_sigstore.issue_token(RELEASER),
        trust_config=local_sigstore.trust_config_path,
    )
    bundle = {
        "publisher": {"kind": "GitHub", "repository": "example/provenant"},
        "attestations": [json.loads(attestation.read_text())],
    }
    provenance = {attested.name: json.dumps(provenance_object([bundle])).encode()}
    root = tmp_path_factory.mktemp("provenant-upstream")
    write_simple_index(root, [attested, plain], provenance)
    with serve_static_index(root) as url:
        yield url, {ATTESTED: attested, PLAIN: plain}, provenance


@pytest.fixture(scope="module")
def indexes(registry: Registry, upstream: tuple[str, dict[str, Path], dict[str, bytes]]) -> str:
    admin = registry.client(registry.admin.user)
    admin.create_index(MIRROR, {"type": "mirror", "mirror_url": upstream[0]})
    admin.create_index(INDEX, {"type": "anya", "bases": [MIRROR], "anya_extensions": False})
    return registry.url


def _json_page(url: str, index: str, project: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{url}/{index}/+simple/{project}/",
        headers={"Accept": "application/vnd.pypi.simple.v1+json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        page: dict[str, Any] = json.load(response)
    return page


def test_devpis_mirror_drops_the_upstream_provenance(indexes: str) -> None:
    (entry,) = _json_page(indexes, MIRROR, ATTESTED)["files"]

    assert entry["filename"] == "anya_test_provenant-1.0.0-py3-none-any.whl"
    assert "provenance" not in entry


def test_an_anya_index_carries_the_upstream_provenance_of_a_mirrored_file(
    indexes: str, upstream: tuple[str, dict[str, Path], dict[str, bytes]]
) -> None:
    (entry,) = _json_page(indexes, INDEX, ATTESTED)["files"]

    assert entry["provenance"] == f"{indexes}/{INDEX}/+provenance/{entry['filename']}"
    with urllib.request.urlopen(entry["provenance"], timeout=60) as response:
        assert response.headers["Content-Type"].startswith("application/vnd.pypi.integrity.v1")
        assert response.read() == upstream[2][entry["filename"]]


def test_the_html_page_links_it_too(indexes: str) -> None:
    url = f"{indexes}/{INDEX}/+simple/{ATTESTED}/"
    request = urllib.request.Request(url, headers={"Accept": "text/html"})
    with urllib.request.urlopen(request, timeout=60) as response:
        page = parse_project_page(ATTESTED, response.read(), SIMPLE_HTML, url)

    (link,) = page.files
    assert link.provenance == f"{indexes}/{INDEX}/+provenance/{link.filename}"


def test_a_mirrored_file_without_upstream_provenance_gets_none(indexes: str) -> None:
    (entry,) = _json_page(indexes, INDEX, PLAIN)["files"]

    assert "provenance" not in entry


def test_the_client_verifies_the_carried_provenance_and_names_the_upstream_signer(
    indexes: str,
    upstream: tuple[str, dict[str, Path], dict[str, bytes]],
    local_sigstore: LocalSigstore,
) -> None:
    index = SimpleIndex(MirrorSet([f"{indexes}/{INDEX}/+simple/"], http=HttpClient(timeout=60)))
    (link,) = index.project_page(ATTESTED).files
    provenance = index.fetch_provenance(link)

    check = verify_dependency(
        upstream[1][ATTESTED], provenance=provenance, dist_name=ATTESTED, version="1.0.0",
        source="primary",
        policy=TrustPolicy(trusted_root=local_sigstore.trusted_root_path),
    )  # fmt: skip

    assert check.summary == (
        f"{ATTESTED} 1.0.0 (dependency, trust.dependencies = 'provenance-if-served'): "
        f"sha256 and provenance by {RELEASER} (issuer {local_sigstore.issuer_url})"
    )
