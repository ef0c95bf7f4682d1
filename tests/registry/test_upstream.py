"""The upstream mirror: third-party dependencies come through it; extensions never do.

The session registry's ``anya/upstream`` mirror points at a local static index
(tests/upstream_index.py) that serves a third-party package, an ``anya-ext-*`` name
nobody uploaded here, a newer release of an extension that is uploaded here, and a name a
test puts on a private index.
"""

from __future__ import annotations

import hashlib
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from anya_plugins.registry.devpi import DevpiClient, mirror_config
from anya_plugins.registry.errors import DevpiError, LayoutError
from anya_plugins.registry.hostdist import publish_host
from anya_plugins.registry.layout import PYPI_SIMPLE, parse_layout
from tests.registry_fixtures import Registry, Upload, metadata_wheel
from tests.upstream_index import (
    PRIVATE_NAME,
    SHADOW_VERSION,
    SHADOWED_EXTENSION,
    SQUATTED_EXTENSION,
    THIRD_PARTY,
    THIRD_PARTY_VERSION,
    plain_wheel,
)

PUBLIC_INDEXES = ("anya/primary", "community/verified", "community/experimental")
READER = "acme"
"""Signed in, so the private indexes answer too."""


def _filenames(registry: Registry, index: str, project: str) -> list[str]:
    page = registry.client(READER).simple_project(index, project)
    return sorted(str(entry["filename"]) for entry in page.get("files", ()))


def _versions(registry: Registry, index: str, project: str) -> set[str]:
    try:
        return set(registry.client(READER).project(index, project))
    except DevpiError as error:  # devpi answers 404 for a project it does not serve
        if error.status == 404:
            return set()
        raise


def test_the_shipped_layout_mirrors_pypi_unless_told_otherwise() -> None:
    layout = parse_layout('[mirrors."root/upstream"]\nurl_env = "UPSTREAM"\n')
    (mirror,) = layout.mirrors

    assert mirror_config(mirror, {})["mirror_url"] == PYPI_SIMPLE
    assert mirror_config(mirror, {"UPSTREAM": "http://mirror.internal/simple/"}) == {
        "type": "mirror",
        "mirror_url": "http://mirror.internal/simple/",
    }


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ('[mirrors."root/up"]\nurl = "file:///srv/simple"\n', 'mirrors."root/up".url', "http"),
        ('[mirrors."root/up"]\nmirror_whitelist = ["*"]\n', "mirror_whitelist", "unknown key"),
        ('[indexes."root/a"]\nbases = ["root/up"]\n', "bases[0]", "unknown index"),
    ],
)
def test_a_broken_mirror_declaration_is_refused(text: str, key: str, problem: str) -> None:
    with pytest.raises(LayoutError) as caught:
        parse_layout(text)

    assert key in str(caught.value)
    assert problem in str(caught.value)


def test_the_public_indexes_have_the_upstream_mirror_as_their_last_base(
    registry: Registry,
) -> None:
    upstream = registry.client().index("anya/upstream")
    host = registry.client().index("anya/host")

    assert upstream is not None and host is not None
    assert (upstream["type"], upstream["mirror_url"]) == ("mirror", registry.upstream.url)
    assert host["bases"] == ["anya/upstream"]
    assert host["mirror_whitelist"] == []


@pytest.mark.parametrize("index", PUBLIC_INDEXES)
def test_a_third_party_package_is_served_and_cached_from_the_upstream(
    registry: Registry, index: str
) -> None:
    page = registry.client().simple_project(index, THIRD_PARTY)
    (entry,) = page["files"]
    wheel = next(w for w in registry.upstream.wheels if w.name.startswith("anya_test_thirdparty"))

    assert entry["filename"] == f"anya_test_thirdparty-{THIRD_PARTY_VERSION}-py3-none-any.whl"
    url = _absolute(registry, index, THIRD_PARTY, entry["url"])
    assert url.startswith(f"{registry.url}/anya/upstream/+f/")  # served by the registry
    with urllib.request.urlopen(url) as response:
        served = response.read()
    assert hashlib.sha256(served).hexdigest() == entry["hashes"]["sha256"]
    assert served == wheel.read_bytes()


@pytest.mark.parametrize("index", (*PUBLIC_INDEXES, "acme/private"))
def test_an_extension_name_published_only_upstream_is_not_served(
    registry: Registry, index: str
) -> None:
    assert _filenames(registry, "anya/upstream", SQUATTED_EXTENSION)  # the upstream has it

    assert _filenames(registry, index, SQUATTED_EXTENSION) == []
    assert _versions(registry, index, SQUATTED_EXTENSION) == set()


def test_a_newer_upstream_release_of_an_extension_uploaded_here_is_not_served(
    registry: Registry, upload: Upload, tmp_path: Path
) -> None:
    wheel = metadata_wheel(tmp_path, SHADOWED_EXTENSION, version="1.0.0")
    done = upload("community/experimental", wheel, user="community")
    assert done.returncode == 0, done.stdout + done.stderr

    assert _filenames(registry, "community/experimental", SHADOWED_EXTENSION) == [wheel.name]
    assert _versions(registry, "community/experimental", SHADOWED_EXTENSION) == {"1.0.0"}
    assert SHADOW_VERSION not in _versions(registry, "anya/primary", SHADOWED_EXTENSION)


def test_a_name_on_a_private_index_is_never_served_from_the_upstream(
    registry: Registry, upload: Upload, tmp_path: Path
) -> None:
    root = registry.client("root")
    root.create_index(
        "acme/internal",
        {"type": "anya", "bases": [], "acl_upload": ["acme"], "anya_private": True,
         "anya_extensions": False},
    )  # fmt: skip
    assert _versions(registry, "anya/primary", PRIVATE_NAME) == {"5.0.0"}  # before: upstream's
    private = plain_wheel(tmp_path, PRIVATE_NAME, "1.0.0", modules={"acme_internal_tools": ""})
    done = upload("acme/internal", private, user="acme")
    assert done.returncode == 0, done.stdout + done.stderr

    for index in PUBLIC_INDEXES:
        assert _filenames(registry, index, PRIVATE_NAME) == []
        assert _versions(registry, index, PRIVATE_NAME) == set()


def test_anya_plugins_is_published_to_the_host_index_once_and_served_by_every_index(
    registry: Registry, anya_wheel: Path
) -> None:
    # Other test modules may have published it to the session registry already: whichever
    # call is the first, a second one publishes nothing and one file is served.
    publish_host(registry.url, registry.credentials("anya"), wheel=anya_wheel)
    again = publish_host(registry.url, registry.credentials("anya"), wheel=anya_wheel)

    assert not again.published
    for index in PUBLIC_INDEXES:
        assert _filenames(registry, index, "anya-plugins") == [anya_wheel.name]


def _absolute(registry: Registry, index: str, project: str, url: str) -> str:
    return urllib.parse.urljoin(f"{registry.url}/{index}/+simple/{project}/", url)


def test_registry_up_points_the_mirror_upstream_remembers_it_and_publishes_the_host_once(
    registry: Registry, anya_wheel: Path, tmp_path: Path
) -> None:
    from anya_plugins.registry import embedded

    state_dir = tmp_path / "embedded"
    try:
        first = embedded.up(
            state_dir, port=0, upstream=registry.upstream.url, host_wheel=anya_wheel
        )
        again = embedded.up(state_dir, port=0, host_wheel=anya_wheel)
        mirror = DevpiClient(first.url).index("anya/upstream")
        page = DevpiClient(first.url).simple_project("anya/primary", THIRD_PARTY)
    finally:
        embedded.down(state_dir)

    assert mirror is not None and mirror["mirror_url"] == registry.upstream.url
    assert first.report.action("index", "anya/upstream") == "created"
    assert not again.report.changed  # the upstream was remembered, not reset to PyPI
    assert first.host is not None and first.host.published
    assert again.host is not None and not again.host.published
    assert [entry["filename"] for entry in page["files"]] == [
        f"anya_test_thirdparty-{THIRD_PARTY_VERSION}-py3-none-any.whl"
    ]
