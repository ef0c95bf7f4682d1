"""The default registry is locked down: who may create users and indexes, attach tox results,
read a private index — and what a signed index takes.

Against the session's embedded registry with the shipped layout (``registry`` fixture: its
``acme/private`` is readable by acme only, its ``anya/primary`` and ``community/verified``
take only releases their publisher signed), a second registry with a signed index of its
own, and registries brought up with ``registry up`` as a site would.
"""

from __future__ import annotations

import base64
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from anya_plugins.registry import server
from anya_plugins.registry.devpi import Credentials, DevpiClient, apply_layout
from anya_plugins.registry.errors import DevpiError, RegistryError
from anya_plugins.registry.indexconfig import index_config
from anya_plugins.registry.layout import ANONYMOUS, IndexPublisher, load_layout, parse_layout
from anya_sigstore_local import LocalSigstore
from tests.registry_fixtures import (
    LAYOUT_FILE,
    PASSWORDS,
    PUBLISHER,
    Registry,
    Upload,
    metadata_wheel,
)
from tests.support import ExtensionBuilder, ExtensionSpec, Venv, VenvFactory

pytestmark = pytest.mark.slow

PRIVATE = "acme/private"
"""The shipped layout's private index: only acme (and root) may read it."""
PRIVATE_PROJECT = "anya-ext-lockdown-vault"


def _get(
    url: str, *, user: str | None = None, password: str | None = None, method: str = "GET",
    body: bytes | None = None,
) -> tuple[int, dict[str, str], bytes]:  # fmt: skip
    """One HTTP request, with Basic credentials when ``user`` is given: status, headers (by
    lower-case name), body."""
    headers = {"Accept": "application/json"}
    if user is not None:
        secret = password if password is not None else PASSWORDS.get(user, "")
        token = base64.b64encode(f"{user}:{secret}".encode()).decode("ascii")
        headers["Authorization"] = f"Basic {token}"
    if body is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, _lower(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        return error.code, _lower(error.headers.items()), error.read()


def _lower(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers}


def _file_url(page: str, entry: dict[str, object]) -> str:
    """The absolute URL of a PEP 691 file entry (devpi's are relative to the page)."""
    return urllib.parse.urljoin(page, str(entry["url"]).split("#", 1)[0])


# --- who may create users and indexes ----------------------------------------------------


def test_anonymous_cannot_create_a_user(registry: Registry) -> None:
    with pytest.raises(DevpiError) as refused:
        registry.client().create_user("mallory", "mallory-password")
    assert refused.value.status == 403
    assert "mallory" not in registry.client("root").users()


def test_a_user_cannot_create_another_user(registry: Registry) -> None:
    with pytest.raises(DevpiError) as refused:
        registry.client("community").create_user("sockpuppet", "sockpuppet-password")
    assert refused.value.status == 403
    assert "sockpuppet" not in registry.client("root").users()


def test_a_user_cannot_create_an_index(registry: Registry) -> None:
    with pytest.raises(DevpiError) as refused:
        registry.client("community").create_index("community/shadow", {"type": "anya"})
    assert refused.value.status == 403
    assert registry.client("root").index("community/shadow") is None


def test_the_administrator_still_creates_users(registry: Registry) -> None:
    registry.client("root").create_user("lockdown-admin-made", "made-by-root")
    assert "lockdown-admin-made" in registry.client("root").users()


def test_a_server_started_with_more_managers_lets_them_create_indexes(
    tmp_path: Path,
) -> None:
    running = server.start(tmp_path / "managed", managers=("root", "ops"))
    try:
        root = DevpiClient(running.url)
        root.login(running.admin)
        root.create_user("ops", "ops-password")
        ops = DevpiClient(running.url)
        ops.login(Credentials("ops", "ops-password"))
        ops.create_index("ops/builds", {"type": "anya"})
        assert root.index("ops/builds") is not None
    finally:
        server.stop(tmp_path / "managed")


# --- tox results ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def released_file(
    registry: Registry, upload: Upload, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """The URL of a release file on community/experimental."""
    wheel = metadata_wheel(tmp_path_factory.mktemp("toxresult"), "anya-ext-lockdown-tox")
    done = upload("community/experimental", wheel, user="community")
    assert done.returncode == 0, done.stdout + done.stderr
    page = f"{registry.url}/community/experimental/+simple/anya-ext-lockdown-tox/"
    (entry,) = registry.client().simple_project("community/experimental", "anya-ext-lockdown-tox")[
        "files"
    ]
    return _file_url(page, entry)


def test_layout_indexes_take_tox_results_only_from_their_uploaders(registry: Registry) -> None:
    for spec in registry.layout.indexes:
        config = registry.client("root").index(spec.name)
        assert config is not None
        assert config["acl_toxresult_upload"] == list(spec.acl_upload), spec.name
        assert ANONYMOUS not in config["acl_toxresult_upload"], spec.name


def test_anonymous_tox_results_are_refused(registry: Registry, released_file: str) -> None:
    status, _, _ = _get(released_file, method="POST", body=b'{"reportversion": "1"}')
    assert status in (401, 403)


def test_an_uploader_attaches_tox_results(registry: Registry, released_file: str) -> None:
    status, _, body = _get(
        released_file, user="community", method="POST", body=b'{"reportversion": "1"}'
    )
    assert status == 200, body


# --- reading a private index -----------------------------------------------------------------


def test_the_shipped_layout_lets_only_acme_read_its_private_index(registry: Registry) -> None:
    config = registry.client("root").index(PRIVATE)

    assert config is not None
    assert config["anya_acl_read"] == ["acme"]
    for spec in registry.layout.indexes:
        if spec.name != PRIVATE:
            assert spec.acl_read == (ANONYMOUS,), spec.name


@pytest.fixture(scope="module")
def private_file(registry: Registry, upload: Upload, build_extension: ExtensionBuilder) -> str:
    """A release on the private index; returns its file URL (read as acme)."""
    wheel = build_extension(ExtensionSpec("lockdown-vault", category="enterprise/custody"))
    done = upload(PRIVATE, wheel, user="acme")
    assert done.returncode == 0, done.stdout + done.stderr
    status, _, body = _get(f"{registry.url}/{PRIVATE}/+simple/{PRIVATE_PROJECT}/", user="acme")
    assert status == 200, body
    page = f"{registry.url}/{PRIVATE}/+simple/{PRIVATE_PROJECT}/"
    (entry,) = registry.client("acme").simple_project(PRIVATE, PRIVATE_PROJECT)["files"]
    return _file_url(page, entry)


PRIVATE_PATHS = (
    f"/{PRIVATE}/+simple/",
    f"/{PRIVATE}/+simple/{PRIVATE_PROJECT}/",
    f"/{PRIVATE}",
    f"/{PRIVATE}/{PRIVATE_PROJECT}",
    f"/{PRIVATE}/+anya/search?q=vault",
)


def _private_urls(registry: Registry, private_file: str) -> list[str]:
    return [*(registry.url + path for path in PRIVATE_PATHS), private_file]


def test_anonymous_cannot_read_a_private_index(registry: Registry, private_file: str) -> None:
    for url in _private_urls(registry, private_file):
        status, headers, body = _get(url)
        assert status == 401, (url, body)
        assert headers.get("www-authenticate", "").startswith("Basic"), url
        assert PRIVATE_PROJECT.encode() not in body, url


def test_another_user_cannot_read_a_private_index(registry: Registry, private_file: str) -> None:
    for url in _private_urls(registry, private_file):
        status, _, body = _get(url, user="community")
        assert status == 403, (url, body)
        assert PRIVATE_PROJECT.encode() not in body, url


def test_a_wrong_password_cannot_read_a_private_index(
    registry: Registry, private_file: str
) -> None:
    status, _, _ = _get(private_file, user="acme", password="not-the-password")
    assert status == 401


def test_the_owner_reads_a_private_index_with_basic_auth(
    registry: Registry, private_file: str
) -> None:
    for url in _private_urls(registry, private_file):
        status, _, body = _get(url, user="acme")
        assert status == 200, (url, body)


def test_the_owner_reads_a_private_index_with_a_devpi_token(
    registry: Registry, private_file: str
) -> None:
    assert PRIVATE_PROJECT in registry.client("acme").projects(PRIVATE)
    assert PRIVATE_PROJECT in registry.client("root").projects(PRIVATE)


def test_a_replica_serves_a_private_index_to_its_owner_only(
    registry: Registry, private_file: str, tmp_path: Path
) -> None:
    replica = server.start(tmp_path / "replica", replica_of=registry.state_dir)
    try:
        url = private_file.replace(registry.url, replica.url)
        # A replica's first changelog fetch from the session's primary (every module's
        # uploads so far) has taken over a minute on a loaded machine.
        deadline = time.monotonic() + 240
        status = 0
        while time.monotonic() < deadline and status != 200:
            status, _, _ = _get(url, user="acme")
            time.sleep(0.2)
        assert status == 200, "the replica never served the private file to acme"
        assert _get(url)[0] == 401
        assert _get(url, user="community")[0] == 403
    finally:
        server.stop(tmp_path / "replica")


def test_public_indexes_stay_readable_by_anyone(registry: Registry) -> None:
    status, _, body = _get(f"{registry.url}/community/verified/+simple/")
    assert status == 200, body


# --- the client sends credentials for a private index ---------------------------------------


@pytest.fixture
def private_venv(
    registry: Registry, private_file: str, make_venv: VenvFactory, tmp_path: Path
) -> Venv:
    venv = make_venv()
    venv.extra_env.update(
        ANYA_SOURCES__PRIMARY__URL=f"{registry.url}/anya/primary/+simple/",
        ANYA_CACHE_DIR=str(tmp_path / "cache"),
        ANYA_TRUST__REQUIRE_SIGNATURES="false",
    )
    return venv


def _install_private(venv: Venv, url: str) -> tuple[int, str]:
    done = venv.anya_ext(
        "install", "--source", "enterprise", "--org", "acme", "lockdown-vault",
        ANYA_SOURCES__ENTERPRISE__ACME__URL=url,
    )  # fmt: skip
    return done.returncode, done.stdout + done.stderr


def _installed(venv: Venv) -> bool:
    return any(venv.site_packages.glob("anya_ext_lockdown_vault-*.dist-info"))


def test_install_from_a_private_index_with_credentials_in_the_url(
    registry: Registry, private_venv: Venv
) -> None:
    host = registry.url.removeprefix("http://")
    url = f"http://acme:{PASSWORDS['acme']}@{host}/{PRIVATE}/+simple/"
    code, output = _install_private(private_venv, url)
    assert code == 0, output
    assert _installed(private_venv)
    assert PASSWORDS["acme"] not in output


def test_install_from_a_private_index_with_credentials_in_netrc(
    registry: Registry, private_venv: Venv
) -> None:
    host = registry.url.removeprefix("http://").split(":", 1)[0]
    netrc = private_venv.home / ".netrc"
    netrc.write_text(f"machine {host} login acme password {PASSWORDS['acme']}\n")
    netrc.chmod(0o600)
    code, output = _install_private(private_venv, f"{registry.url}/{PRIVATE}/+simple/")
    assert code == 0, output
    assert _installed(private_venv)


def test_install_from_a_private_index_without_credentials_fails_saying_how_to_give_them(
    registry: Registry, private_venv: Venv
) -> None:
    code, output = _install_private(private_venv, f"{registry.url}/{PRIVATE}/+simple/")
    assert code != 0
    output = " ".join(output.split())  # rich wraps the hint
    assert "HTTP 401" in output, output
    assert "no credentials were sent for 127.0.0.1" in output, output
    for way in ("USER:PASSWORD@", "sources.<source>.url", "~/.netrc", "keyring set 127.0.0.1"):
        assert way in output, (way, output)
    assert not _installed(private_venv)


def test_install_from_a_private_index_as_another_user_fails_saying_so(
    registry: Registry, private_venv: Venv
) -> None:
    code, output = _install_private(private_venv, registry.simple_url(PRIVATE, "community"))
    assert code != 0
    output = " ".join(output.split())
    assert "HTTP 403" in output, output
    assert "are not allowed to read this index" in output, output
    assert PASSWORDS["community"] not in output
    assert not _installed(private_venv)


# --- signed indexes --------------------------------------------------------------------------

RELEASER = PUBLISHER
MALLORY = "mallory@evil.example"
SIGNED = "anya/signed"
SHIPPED_SIGNED = (("anya/primary", "core/bitcoin"), ("community/verified", "community/verified"))
"""The shipped layout's signed indexes, each with a category it takes."""


def test_the_shipped_layout_requires_signatures_without_naming_a_publisher() -> None:
    shipped = load_layout(LAYOUT_FILE)

    assert {i.name for i in shipped.indexes if i.require_signatures} == {
        name for name, _ in SHIPPED_SIGNED
    }
    assert all(not index.publishers for index in shipped.indexes)


@pytest.mark.parametrize(("index", "category"), SHIPPED_SIGNED)
def test_the_session_registry_gives_its_signed_indexes_its_publisher(
    registry: Registry, index: str, category: str
) -> None:
    config = registry.client("root").index(index)

    assert config is not None
    assert config["anya_require_signatures"] is True
    assert config["anya_publishers"] == [f"{PUBLISHER} {registry.sigstore.issuer_url}"]


@pytest.mark.parametrize(("index", "category"), SHIPPED_SIGNED)
def test_an_unsigned_upload_to_a_shipped_signed_index_is_refused_and_nothing_stored(
    registry: Registry, upload: Upload, tmp_path: Path, index: str, category: str
) -> None:
    name = f"anya-ext-unsigned-{category.replace('/', '-')}"
    wheel = metadata_wheel(tmp_path, name, category=category)

    done = upload(index, wheel, user=index.split("/")[0], sign=False)

    output = " ".join((done.stdout + done.stderr).split())
    assert done.returncode != 0
    assert "400" in output and "requires a PEP 740 attestation" in output, output
    assert name not in registry.client().projects(index)


@pytest.mark.parametrize(("index", "category"), SHIPPED_SIGNED)
def test_an_upload_to_a_shipped_signed_index_signed_by_its_publisher_is_taken(
    registry: Registry, local_sigstore: LocalSigstore, tmp_path: Path, index: str, category: str
) -> None:
    name = f"anya-ext-signed-{category.replace('/', '-')}"
    wheel = metadata_wheel(tmp_path, name, category=category)

    code, output = _publish(registry.url, wheel, local_sigstore, RELEASER, index=index)

    assert code == 0, output
    assert name in registry.client().projects(index)
    assert registry.client().provenance(index, wheel.name) is not None


def test_an_upload_to_a_shipped_signed_index_signed_by_someone_else_is_refused(
    registry: Registry, local_sigstore: LocalSigstore, tmp_path: Path
) -> None:
    wheel = metadata_wheel(tmp_path, "anya-ext-signed-by-mallory", category="core/bitcoin")

    code, output = _publish(registry.url, wheel, local_sigstore, MALLORY, index="anya/primary")

    assert code != 0
    assert "400" in output and RELEASER in output, output
    assert "anya-ext-signed-by-mallory" not in registry.client().projects("anya/primary")


def test_a_signed_index_may_leave_its_publishers_to_the_registry() -> None:
    text = '[users.anya]\npassword = "x"\n[indexes."anya/signed"]\nrequire_signatures = true\n'
    config = index_config(parse_layout(text).index(SIGNED))

    assert config["anya_require_signatures"] is True
    assert config["anya_publishers"] == []


def test_the_layout_writes_signature_settings_to_the_index() -> None:
    text = (
        '[users.anya]\npassword = "x"\n[indexes."anya/signed"]\nrequire_signatures = true\n'
        'publishers = [{identity = "a@b.example", issuer = "https://issuer.example"}]\n'
    )
    config = index_config(parse_layout(text).index(SIGNED))
    assert config["anya_require_signatures"] is True
    assert config["anya_publishers"] == ["a@b.example https://issuer.example"]


@pytest.fixture(scope="module")
def signed_registry(
    tmp_path_factory: pytest.TempPathFactory, local_sigstore: LocalSigstore
) -> Iterator[str]:
    """A registry trusting the local Sigstore, with ``anya/signed`` requiring RELEASER."""
    state_dir = tmp_path_factory.mktemp("signed-registry")
    running = server.start(state_dir, trusted_root=local_sigstore.trusted_root_path)
    layout = parse_layout(
        '[users.anya]\npassword = "core-team-password"\n'
        f'[indexes."{SIGNED}"]\ncategories = ["core/bitcoin"]\nrequire_signatures = true\n'
        f'publishers = [{{identity = "{RELEASER}", issuer = "{local_sigstore.issuer_url}"}}]\n'
        '[indexes."anya/staging"]\nvolatile = true\n'
    )
    try:
        apply_layout(running.url, layout, running.admin, environ={})
        yield running.url
    finally:
        server.stop(state_dir)


def _publish(
    url: str,
    wheel: Path,
    sigstore: LocalSigstore,
    identity: str | None,
    index: str = SIGNED,
    password: str | None = None,
) -> tuple[int, str]:
    """``anya-ext publish`` of one wheel, signed by ``identity`` (None: unsigned), as the
    index's owner (``password``: default the session registry's)."""
    import subprocess
    import sys

    command = [sys.executable, "-m", "anya_plugins.cli.main", "publish", str(wheel),
               "--index", index, "--url", url]  # fmt: skip
    if identity is None:
        command.append("--no-sign")
    else:
        command += ["--trust-config", str(sigstore.trust_config_path),
                    "--identity-token", sigstore.issue_token(identity)]  # fmt: skip
    done = subprocess.run(
        command, capture_output=True, text=True, check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(wheel.parent),
             "ANYA_PUBLISH_PASSWORD": password or PASSWORDS[index.split("/")[0]]},
    )  # fmt: skip
    # twine wraps its messages to the terminal width.
    return done.returncode, " ".join((done.stdout + done.stderr).split())


def _projects(url: str, index: str) -> tuple[str, ...]:
    return DevpiClient(url).projects(index)


def test_an_unsigned_upload_to_a_signed_index_is_refused(
    signed_registry: str, local_sigstore: LocalSigstore, build_extension: ExtensionBuilder
) -> None:
    wheel = build_extension(ExtensionSpec("signed-unsigned", category="core/bitcoin"))
    code, output = _publish(signed_registry, wheel, local_sigstore, None)
    assert code != 0
    assert "400" in output and "requires a PEP 740 attestation" in output, output
    assert "anya-ext-signed-unsigned" not in _projects(signed_registry, SIGNED)


def test_an_upload_signed_by_another_identity_is_refused(
    signed_registry: str, local_sigstore: LocalSigstore, build_extension: ExtensionBuilder
) -> None:
    wheel = build_extension(ExtensionSpec("signed-mallory", category="core/bitcoin"))
    code, output = _publish(signed_registry, wheel, local_sigstore, MALLORY)
    assert code != 0
    assert "400" in output and RELEASER in output, output
    assert "anya-ext-signed-mallory" not in _projects(signed_registry, SIGNED)


def test_an_upload_signed_under_an_untrusted_root_is_refused(
    signed_registry: str, untrusted_sigstore: LocalSigstore, build_extension: ExtensionBuilder
) -> None:
    wheel = build_extension(ExtensionSpec("signed-untrusted", category="core/bitcoin"))
    code, output = _publish(signed_registry, wheel, untrusted_sigstore, RELEASER)
    assert code != 0
    assert "400" in output, output
    assert "anya-ext-signed-untrusted" not in _projects(signed_registry, SIGNED)


def test_an_upload_signed_by_the_publisher_is_taken(
    signed_registry: str, local_sigstore: LocalSigstore, build_extension: ExtensionBuilder
) -> None:
    wheel = build_extension(ExtensionSpec("signed-good", category="core/bitcoin"))
    code, output = _publish(signed_registry, wheel, local_sigstore, RELEASER)
    assert code == 0, output
    assert "anya-ext-signed-good" in _projects(signed_registry, SIGNED)


def test_an_index_without_require_signatures_takes_unsigned_uploads(
    signed_registry: str, local_sigstore: LocalSigstore, build_extension: ExtensionBuilder
) -> None:
    wheel = build_extension(ExtensionSpec("staging-unsigned", category="core/bitcoin"))
    code, output = _publish(signed_registry, wheel, local_sigstore, None, index="anya/staging")
    assert code == 0, output


def test_a_push_into_a_signed_index_is_refused(
    signed_registry: str, local_sigstore: LocalSigstore, build_extension: ExtensionBuilder
) -> None:
    wheel = build_extension(ExtensionSpec("staging-pushed", category="core/bitcoin"))
    code, output = _publish(signed_registry, wheel, local_sigstore, None, index="anya/staging")
    assert code == 0, output
    anya = DevpiClient(signed_registry)
    anya.login(Credentials("anya", PASSWORDS["anya"]))
    with pytest.raises(DevpiError) as refused:
        anya.push("anya/staging", "anya-ext-staging-pushed", "0.1.0", SIGNED)
    assert refused.value.status == 400
    assert "anya-ext-staging-pushed" not in _projects(signed_registry, SIGNED)


# --- registry up names who signs -------------------------------------------------------------


def _site_release(tmp_path: Path, name: str) -> Path:
    directory = tmp_path / name
    directory.mkdir()
    return metadata_wheel(directory, name, category="core/bitcoin")


def test_registry_up_names_the_publishers_of_the_signed_indexes_and_remembers_them(
    registry: Registry, local_sigstore: LocalSigstore, anya_wheel: Path, tmp_path: Path
) -> None:
    from anya_plugins.registry import embedded

    state_dir = tmp_path / "site"
    common = {"port": 0, "upstream": registry.upstream.url, "host_wheel": anya_wheel}
    try:
        bare = embedded.up(state_dir, trusted_root=local_sigstore.trusted_root_path, **common)
        anya = embedded.user_credentials("anya", state_dir)
        assert anya is not None
        refused = _publish(
            bare.url, _site_release(tmp_path, "anya-ext-site-early"), local_sigstore, RELEASER,
            index="anya/primary", password=anya.password,
        )  # fmt: skip
        named = embedded.up(
            state_dir, publishers=[IndexPublisher(RELEASER, local_sigstore.issuer_url)], **common
        )
        taken = _publish(
            named.url, _site_release(tmp_path, "anya-ext-site-release"), local_sigstore, RELEASER,
            index="anya/primary", password=anya.password,
        )  # fmt: skip
        later = embedded.up(state_dir, **common)
        projects = _projects(named.url, "anya/primary")
    finally:
        embedded.down(state_dir)

    assert bare.unsigned == ("anya/primary", "community/verified")
    assert refused[0] != 0
    assert "400" in refused[1] and "no publisher is configured" in refused[1], refused[1]
    assert "anya-ext registry up --publisher IDENTITY --issuer URL" in refused[1]
    assert named.unsigned == ()
    assert named.report.action("index", "anya/primary") == "updated"
    assert taken[0] == 0, taken[1]
    assert (projects.count("anya-ext-site-early"), projects.count("anya-ext-site-release")) == (
        0,
        1,
    )
    assert not later.report.changed  # the publishers were remembered
    assert later.unsigned == ()


def test_registry_up_keeps_its_trusted_root_and_refuses_another_while_running(
    registry: Registry,
    local_sigstore: LocalSigstore,
    untrusted_sigstore: LocalSigstore,
    anya_wheel: Path,
    tmp_path: Path,
) -> None:
    from anya_plugins.registry import embedded

    state_dir = tmp_path / "site"
    common = {"port": 0, "upstream": registry.upstream.url, "host_wheel": anya_wheel}
    publisher = IndexPublisher(RELEASER, local_sigstore.issuer_url)
    try:
        embedded.up(
            state_dir, trusted_root=local_sigstore.trusted_root_path, publishers=[publisher],
            **common,
        )  # fmt: skip
        with pytest.raises(RegistryError, match="running with another trusted root"):
            embedded.up(state_dir, trusted_root=untrusted_sigstore.trusted_root_path, **common)
        embedded.down(state_dir)
        restarted = embedded.up(state_dir, **common)
        anya = embedded.user_credentials("anya", state_dir)
        assert anya is not None
        code, output = _publish(
            restarted.url, _site_release(tmp_path, "anya-ext-site-restarted"), local_sigstore,
            RELEASER, index="anya/primary", password=anya.password,
        )  # fmt: skip
    finally:
        embedded.down(state_dir)

    assert restarted.started
    assert code == 0, output  # still checked against the local Sigstore's root
