"""``anya-ext install`` against a real devpi: ranges, features, conflicts, mirrors, attacks.

Every test installs with the real CLI into a throwaway venv; the ones that must fail
also show that the environment is exactly as it was before.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.registry_fixtures import PASSWORDS, Registry, Upload
from tests.support import ExtensionBuilder, ExtensionSpec, Venv, VenvFactory

pytestmark = pytest.mark.slow

DEAD_URL = "http://127.0.0.1:9/anya/primary/+simple/"

BOTH_TOOLS = pytest.mark.parametrize("venv", ["uv", "pip"], indirect=True)
"""Run the test once resolving and installing with uv, once with pip (``[install] tool``)."""


def _core(name: str, version: str, **extra: Any) -> ExtensionSpec:
    return ExtensionSpec(name, category="core/bitcoin", version=version, **extra)


@pytest.fixture(scope="module")
def published(registry: Registry, upload: Upload, build_extension: ExtensionBuilder) -> Registry:
    """The extensions these tests install, uploaded once with twine."""
    specs = [
        *(_core("ranger", v) for v in ("1.0.0", "1.1.0", "1.2.0", "2.0.0")),
        _core("torlib", "1.0.0"),
        _core("featured", "1.0.0", features=("tor",),
              feature_requirements=(("tor", "anya-ext-torlib>=1"),)),
        _core("defaulted", "1.0.0", features=("tor",), default_features=("tor",),
              feature_requirements=(("tor", "anya-ext-torlib>=1"),)),
        *(_core("shared", v) for v in ("1.0.0", "2.0.0")),
        _core("left", "1.0.0", dependencies=("anya-ext-shared<2",)),
        _core("right", "1.0.0", dependencies=("anya-ext-shared>=2",)),
        _core("fragile", "1.0.0"),
        _core("bulky", "1.0.0", bulk_modules=1500),
    ]  # fmt: skip
    for spec in specs:
        done = upload("anya/primary", build_extension(spec), user="anya")
        assert done.returncode == 0, done.stdout + done.stderr
    return registry


@pytest.fixture(scope="module")
def replica(published: Registry, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second devpi-server replicating the first: the mirror tier."""
    from anya_plugins.registry import server
    from anya_plugins.sources.errors import SourceError
    from anya_plugins.sources.http import HttpClient

    state_dir = tmp_path_factory.mktemp("replica")
    running = server.start(state_dir, replica_of=published.state_dir)
    page = f"{running.url}/anya/primary/+simple/anya-ext-ranger/"
    try:
        with HttpClient(timeout=5) as http:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    with http.get(page) as response:
                        if response.status == 200 and b"ranger-2.0.0" in response.read():
                            break
                except SourceError:
                    pass  # a replica catching up may drop the connection
                time.sleep(0.2)
            else:
                pytest.fail("the replica did not catch up with the primary within 60 s")
        yield f"{running.url}/anya/primary/+simple/"
    finally:
        server.stop(state_dir)


@pytest.fixture(scope="module")
def extra_index(published: Registry, upload: Upload, build_extension: ExtensionBuilder) -> str:
    """Another index, serving a newer release of ``anya-ext-ranger`` than anya/primary."""
    published.client("root").create_index(
        "anya/extra", {"type": "stage", "bases": [], "acl_upload": ["anya"]}
    )
    done = upload("anya/extra", build_extension(_core("ranger", "3.0.0")), user="anya")
    assert done.returncode == 0, done.stdout + done.stderr
    return f"{published.url}/anya/extra/+simple/"


@pytest.fixture
def venv(
    request: pytest.FixtureRequest, published: Registry, make_venv: VenvFactory, tmp_path: Path
) -> Venv:
    venv = make_venv()
    venv.extra_env.update(
        ANYA_INSTALL__TOOL=getattr(request, "param", "uv"),
        ANYA_SOURCES__PRIMARY__URL=f"{published.url}/anya/primary/+simple/",
        ANYA_CACHE_DIR=str(tmp_path / "cache"),
        # These tests are about resolving and installing; signed installs are tested in
        # tests/install/test_signed_install.py. What anya/primary serves is signed by the
        # registry's publisher, and verified as such.
        ANYA_TRUST__REQUIRE_SIGNATURES="false",
        **published.trust_env(),
    )
    return venv


def _install(venv: Venv, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return venv.anya_ext("install", *args, **env)


def _dry_run_version(venv: Venv, spec: str, name: str) -> str:
    result = venv.anya_json("install", "--dry-run", spec)
    (change,) = [c for c in result["changes"] if c["name"] == name]
    return str(change["new_version"])


def _freeze(venv: Venv) -> dict[str, str]:
    done = venv.python_code(
        "import json, importlib.metadata as m;"
        "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))"
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("spec", "version"),
    [
        ("ranger", "2.0.0"),
        ("ranger@1.0.0", "1.0.0"),
        ("ranger@^1.0", "1.2.0"),
        ("ranger@~1.1", "1.1.0"),
        ("ranger@>=1.0,<1.1", "1.0.0"),
    ],
)
def test_version_ranges_resolve_to_the_expected_release(
    venv: Venv, spec: str, version: str
) -> None:
    assert _dry_run_version(venv, spec, "anya-ext-ranger") == version


@BOTH_TOOLS
def test_the_configured_tool_resolves_and_installs(venv: Venv) -> None:
    tool = venv.extra_env["ANYA_INSTALL__TOOL"]
    result = venv.anya_json("install", "ranger@1.0.0")
    assert (result["resolver"], result["installer"]) == (tool, tool)
    assert _freeze(venv)["anya-ext-ranger"] == "1.0.0"


def test_an_install_goes_over_the_standard_library_transport(venv: Venv) -> None:
    """Importing urllib3 and our transport over it was ~11% of what a warm install imports;
    http.client keeps connections alive as well (tests/sources/test_stdlib_transport.py).
    (sigstore still imports urllib3, through requests, where an install verifies.)"""
    done = venv.python_code(
        "import sys\nfrom anya_plugins.cli.main import main\n"
        "code = main(['--json', 'install', 'ranger@1.0.0'])\n"
        "print(code, 'anya_plugins.sources.transport_pooled' in sys.modules, "
        "'anya_plugins.sources.transport_stdlib' in sys.modules, file=sys.stderr)"
    )
    assert done.stderr.strip().splitlines()[-1] == "0 False True", done.stderr
    assert _freeze(venv)["anya-ext-ranger"] == "1.0.0"


def test_uv_installs_each_verified_file_from_a_staged_path_it_can_reuse(
    venv: Venv, tmp_path: Path
) -> None:
    """uv keeps what it unpacked from a local wheel by path and ctime: the verified file is
    handed to it from the same staged path in every install, and that file is never touched
    again, so a second install does not unpack it again."""

    def installed_from() -> Path:
        done = venv.python_code(
            "import importlib.metadata as m;"
            "print(m.distribution('anya-ext-ranger').read_text('direct_url.json'))"
        )
        url = json.loads(done.stdout)["url"]
        assert url.startswith("file://")
        return Path(url.removeprefix("file://"))

    assert _install(venv, "ranger@1.0.0").returncode == 0
    staged = installed_from()
    assert staged.parent.parent == tmp_path / "cache" / "downloads" / "staged"
    before = staged.stat()
    assert venv.anya_ext("uninstall", "ranger").returncode == 0

    assert _install(venv, "ranger@1.0.0").returncode == 0

    assert installed_from() == staged
    after = staged.stat()
    assert (after.st_ino, after.st_ctime_ns) == (before.st_ino, before.st_ctime_ns)


@BOTH_TOOLS
def test_an_index_added_by_the_users_uv_or_pip_settings_is_not_consulted(
    venv: Venv, extra_index: str, tmp_path: Path
) -> None:
    """The resolver reads the one index it is given: an extra index (or find-links, or a
    pip.conf) exported in the user's shell would let it pick releases nobody checked."""
    pip_conf = tmp_path / "pip.conf"
    pip_conf.write_text(f"[global]\nextra-index-url = {extra_index}\n")
    result = venv.anya_json(
        "install", "--dry-run", "ranger",
        UV_EXTRA_INDEX_URL=extra_index, UV_INDEX_STRATEGY="unsafe-best-match",
        PIP_EXTRA_INDEX_URL=extra_index, PIP_CONFIG_FILE=str(pip_conf),
    )  # fmt: skip
    assert [(c["name"], c["new_version"]) for c in result["changes"]] == [
        ("anya-ext-ranger", "2.0.0")
    ]


def test_dry_run_changes_nothing(venv: Venv) -> None:
    before = _freeze(venv)
    venv.anya_json("install", "--dry-run", "ranger")
    assert _freeze(venv) == before


@BOTH_TOOLS
def test_install_then_update_then_refuse_a_silent_downgrade(venv: Venv) -> None:
    assert _install(venv, "ranger@~1.1").returncode == 0
    assert _freeze(venv)["anya-ext-ranger"] == "1.1.0"
    assert venv.anya_json("outdated") == [
        {"name": "anya-ext-ranger", "installed": "1.1.0", "latest": "2.0.0", "source": "primary"}
    ]
    assert venv.anya_ext("update", "ranger").returncode == 0
    assert _freeze(venv)["anya-ext-ranger"] == "2.0.0"
    refused = _install(venv, "ranger@1.0.0")
    assert refused.returncode == 11
    assert "from 2.0.0 down to 1.0.0" in refused.stderr
    assert _freeze(venv)["anya-ext-ranger"] == "2.0.0"
    assert _install(venv, "ranger@1.0.0", "--allow-downgrade").returncode == 0
    assert _freeze(venv)["anya-ext-ranger"] == "1.0.0"


def test_a_feature_brings_its_requirements(venv: Venv) -> None:
    assert _install(venv, "featured[tor]").returncode == 0
    assert _freeze(venv)["anya-ext-torlib"] == "1.0.0"
    (row,) = [r for r in venv.anya_json("list") if r["name"] == "featured"]
    assert row["enabled_features"] == ["tor"]


@BOTH_TOOLS
def test_default_features_are_installed_unless_features_are_named(venv: Venv) -> None:
    assert _install(venv, "defaulted").returncode == 0
    assert "anya-ext-torlib" in _freeze(venv)


@BOTH_TOOLS
def test_conflicting_requirements_are_explained_and_nothing_changes(venv: Venv) -> None:
    before = _freeze(venv)
    done = _install(venv, "left", "right")
    assert done.returncode == 9
    assert "cannot be installed together" in done.stderr
    assert "anya-ext-shared" in done.stderr  # the resolver's own explanation
    assert _freeze(venv) == before


def test_dead_primary_fails_over_to_a_mirror_and_says_so(venv: Venv, replica: str) -> None:
    done = venv.anya_ext(
        "-v", "install", "ranger@1.0.0",
        ANYA_SOURCES__PRIMARY__URL=DEAD_URL,
        ANYA_SOURCES__PRIMARY__MIRRORS=replica,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"index: {replica}" in done.stdout
    assert _freeze(venv)["anya-ext-ranger"] == "1.0.0"


def test_unreachable_index_is_a_clear_error(venv: Venv) -> None:
    before = _freeze(venv)
    done = _install(venv, "ranger", ANYA_SOURCES__PRIMARY__URL=DEAD_URL)
    assert done.returncode == 8
    assert "127.0.0.1:9" in done.stderr
    assert _freeze(venv) == before


def test_corrupted_file_on_the_index_installs_nothing(venv: Venv, published: Registry) -> None:
    (stored,) = published.state_dir.glob("server/**/anya_ext_fragile-1.0.0-py3-none-any.whl")
    original = stored.read_bytes()
    # Damage the first member's bytes: the zip (and its METADATA) still reads, the hash fails.
    stored.write_bytes(original[:100] + bytes(10) + original[110:])
    try:
        before = _freeze(venv)
        done = _install(venv, "fragile")
        assert done.returncode == 8
        assert "anya_ext_fragile-1.0.0-py3-none-any.whl" in done.stderr
        assert "sha256" in done.stderr
        assert _freeze(venv) == before
    finally:
        stored.write_bytes(original)


def test_install_killed_midway_is_rolled_back_and_can_be_redone(venv: Venv) -> None:
    before = _freeze(venv)
    journal = venv.path / ".anya-install-journal" / "journal.json"
    process = subprocess.Popen(
        [str(venv.path / "bin" / "anya-ext"), "install", "bulky"],
        env=venv.env(),
        cwd=venv.home,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while not journal.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    assert journal.exists(), "the install step was never reached (or finished unseen)"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()

    listing = venv.anya_ext("list")
    assert "an install was interrupted; rolled back" in listing.stderr
    assert _freeze(venv) == before
    assert not journal.parent.exists()

    assert _install(venv, "bulky").returncode == 0
    assert _freeze(venv)["anya-ext-bulky"] == "1.0.0"


def test_private_name_is_never_taken_from_a_public_base(
    published: Registry, upload: Upload, build_extension: ExtensionBuilder, venv: Venv
) -> None:
    private = build_extension(ExtensionSpec("shadowed", category="enterprise/custody"))
    public = build_extension(
        ExtensionSpec("shadowed", category="community/verified", version="9.0.0")
    )
    assert upload("acme/private", private, user="acme").returncode == 0
    assert upload("community/verified", public, user="community").returncode == 0

    done = venv.anya_ext(
        "install", "--source", "enterprise", "--org", "acme", "shadowed",
        ANYA_SOURCES__ENTERPRISE__ACME__URL=published.simple_url("acme/private", "acme"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert _freeze(venv)["anya-ext-shadowed"] == "0.1.0"


def test_client_refuses_a_private_name_served_from_two_indexes(
    published: Registry, upload: Upload, build_extension: ExtensionBuilder, venv: Venv
) -> None:
    """Second line of defence: an index without the server-side guard merges the public
    release in; the client sees the name served by two indexes and refuses."""
    root = published.client("root")
    root.create_index("acme/unguarded", {"type": "stage", "bases": ["community/verified"],
                                         "acl_upload": ["acme"], "volatile": False})  # fmt: skip
    private = build_extension(ExtensionSpec("confused", category="enterprise/custody"))
    public = build_extension(
        ExtensionSpec("confused", category="community/verified", version="9.0.0")
    )
    assert upload("acme/unguarded", private, user="acme").returncode == 0
    assert upload("community/verified", public, user="community").returncode == 0
    before = _freeze(venv)
    done = venv.anya_ext(
        "install", "--source", "enterprise", "--org", "acme", "confused",
        ANYA_SOURCES__ENTERPRISE__ACME__URL=f"{published.url}/acme/unguarded/+simple/",
    )  # fmt: skip
    assert done.returncode == 11
    assert "served by more than one index" in done.stderr
    assert _freeze(venv) == before


def test_search_answers_from_the_index_by_name_and_category(venv: Venv) -> None:
    hits = venv.anya_json("search", "ranger")
    assert [(h["name"], h["version"], h["category"]) for h in hits] == [
        ("anya-ext-ranger", "2.0.0", "core/bitcoin")
    ]
    assert venv.anya_json("search", "ranger", "--category", "core/web5") == []
    assert venv.anya_json("search", "no-such-thing-at-all") == []


def test_info_of_an_extension_not_installed_comes_from_the_index(venv: Venv) -> None:
    remote = venv.anya_json("info", "defaulted")
    assert remote["versions"] == ["1.0.0"]
    assert remote["category"] == "core/bitcoin"
    assert remote["features"] == ["tor"]
    assert remote["default_features"] == ["tor"]
    assert remote["platforms"] == ["pure"]
    assert remote["source"] == "primary"


def test_a_mirror_serving_older_releases_than_seen_before_is_refused(
    venv: Venv, published: Registry, upload: Upload, build_extension: ExtensionBuilder
) -> None:
    """A stale mirror (or replayed metadata) must not hold a user back silently."""
    root = published.client("root")
    root.create_index("anya/stale", {"type": "stage", "bases": [], "acl_upload": ["anya"]})
    assert (
        upload("anya/stale", build_extension(_core("ranger", "1.0.0")), user="anya").returncode == 0
    )
    fresh = f"{published.url}/anya/primary/+simple/"
    stale = f"{published.url}/anya/stale/+simple/"

    seen = venv.anya_json(
        "install", "--dry-run", "ranger",
        ANYA_SOURCES__PRIMARY__URL=DEAD_URL, ANYA_SOURCES__PRIMARY__MIRRORS=fresh,
    )  # fmt: skip
    assert seen["changes"][0]["new_version"] == "2.0.0"

    before = _freeze(venv)
    done = venv.anya_ext(
        "install", "ranger",
        ANYA_SOURCES__PRIMARY__URL=DEAD_URL, ANYA_SOURCES__PRIMARY__MIRRORS=stale,
    )  # fmt: skip
    assert done.returncode == 8
    assert "only up to 1.0.0, but 2.0.0 was verified from this source before" in done.stderr
    assert _freeze(venv) == before


@BOTH_TOOLS
def test_install_stores_extension_config_then_uninstall_removes_it(venv: Venv) -> None:
    done = _install(venv, "ranger@1.0.0", "--save-config", "greeting=gm")
    assert done.returncode == 0, done.stderr
    greeted = venv.anya_ext("ranger-greet", "--who", "anya")
    assert greeted.stdout.strip() == "gm, anya!"
    removed = venv.anya_json("uninstall", "ranger")
    assert removed["removed"] == ["anya-ext-ranger"]
    assert Path(removed["prefix"]).resolve() == venv.path.resolve()
    assert "anya-ext-ranger" not in _freeze(venv)
    assert venv.anya_ext("uninstall", "ranger").returncode == 5


def test_cache_is_shared_and_can_be_cleaned(venv: Venv) -> None:
    assert _install(venv, "ranger@1.0.0").returncode == 0
    info = venv.anya_json("cache", "info")
    assert info["files"] >= 1
    assert info["staged"] >= 1  # installed with uv: each file from its staged copy
    assert venv.anya_json("cache", "clean")["freed_bytes"] > 0
    cleaned = venv.anya_json("cache", "info")
    assert (cleaned["files"], cleaned["staged"]) == (0, 0)


def test_publish_builds_a_project_and_refuses_a_second_upload(
    published: Registry, tmp_path: Path
) -> None:
    from anya_plugins.authoring.new import new_extension

    project = new_extension("republished", "core/bitcoin", output_dir=tmp_path).path

    def publish(*targets: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "anya_plugins.cli.main", "publish", *targets,
             "--index", "anya/primary", "--url", published.url, *published.signing_options()],
            capture_output=True, text=True, check=False,
            env={**os.environ, "ANYA_PUBLISH_PASSWORD": PASSWORDS["anya"]},
        )  # fmt: skip

    first = publish(str(project))
    assert first.returncode == 0, first.stderr
    wheels = sorted((project / "dist").glob("*.whl"))
    assert [w.name for w in wheels] == ["anya_ext_republished-0.1.0-py3-none-any.whl"]
    again = publish(str(wheels[0]))
    assert again.returncode == 15
    assert "is already on anya/primary" in again.stderr


def test_publish_refuses_a_wheel_that_breaks_the_contract(
    published: Registry, build_extension: ExtensionBuilder
) -> None:
    broken = build_extension(
        ExtensionSpec("contractless", keywords_edit=("anya-category:community/experimental",
                                                     "anya-category:core/quantum"))
    )  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "anya_plugins.cli.main", "publish", str(broken),
         "--index", "anya/primary", "--url", published.url, *published.signing_options()],
        capture_output=True, text=True, check=False,
        env={**os.environ, "ANYA_PUBLISH_PASSWORD": PASSWORDS["anya"]},
    )  # fmt: skip
    assert done.returncode != 0
    assert "unknown category 'core/quantum'" in done.stderr
    from anya_plugins.registry.errors import DevpiError

    try:
        files = published.client().simple_project("anya/primary", "anya-ext-contractless")["files"]
    except DevpiError as error:
        assert error.status == 404
        files = []
    assert files == []
