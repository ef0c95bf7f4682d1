"""``registry deploy`` end to end: LDAP sign-in, roles, the read restriction and TLS, for real.

slapd holds alice (developer), bob (admin), sam (security) and gina (of another
organisation); the registry is the deployment of ``conftest.deployment``. Every client
talks HTTPS to nginx and trusts the self-signed certificate explicitly.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import replace
from pathlib import Path
from urllib.parse import urljoin

import pytest

from anya_plugins.audit.log import read_log
from anya_plugins.publish.publishing import publish
from anya_plugins.registry import server
from anya_plugins.registry.access import AccessRefused, access_profile
from anya_plugins.registry.audit_trail import trail_path
from anya_plugins.registry.deploy import DEVPI_DIR, DeployError, deploy
from anya_plugins.registry.devpi import Credentials, DevpiClient
from tests.enterprise.conftest import ORG, USERS, Deployment, free_port

pytestmark = pytest.mark.slow

INDEX = f"{ORG}/extensions"
CORE = ("anya-ext-wallet", "core/bitcoin")
ENTERPRISE = ("anya-ext-vault", "enterprise/custody")


def extension_wheel(directory: Path, name: str, category: str) -> Path:
    """An installable extension wheel: METADATA with the contract's keywords, WHEEL, RECORD."""
    dist, version = name.replace("-", "_"), "0.1.0"
    info = f"{dist}-{version}.dist-info"
    keywords = f"anya-extension,anya-category:{category},anya-host-api:>=1.0,anya-host-api:<2"
    files = {
        f"{dist}/__init__.py": "",
        f"{info}/METADATA": f"Metadata-Version: 2.4\nName: {name}\nVersion: {version}\n"
        f"Summary: An Anya extension.\nKeywords: {keywords}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: anya-tests\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    record = "".join(f"{path},,\n" for path in files) + f"{info}/RECORD,,\n"
    path = directory / f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, text in {**files, f"{info}/RECORD": record}.items():
            archive.writestr(member, text)
    return path


def fetch(
    deployment: Deployment, path: str, user: str | None = None, *, password: str | None = None,
    method: str = "GET", body: object = None,
) -> tuple[int, dict[str, object]]:  # fmt: skip
    """(status, JSON body) of a request through nginx, as ``user`` with HTTP Basic."""
    simple = "/+simple/" in path
    headers = {"Accept": "application/vnd.pypi.simple.v1+json" if simple else "application/json"}
    if user is not None:
        secret = password if password is not None else USERS[user][0]
        headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()
    data = None
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    request = urllib.request.Request(deployment.url + path, data, headers, method=method)
    context = ssl.create_default_context(cafile=str(deployment.ca))
    try:
        with urllib.request.urlopen(request, context=context, timeout=60) as response:
            content = response.read()
            try:
                return response.status, json.loads(content or b"{}")
            except json.JSONDecodeError:
                return response.status, {"text": content.decode(errors="replace")}
    except urllib.error.HTTPError as error:
        text = error.read()
        try:
            return error.code, json.loads(text or b"{}")
        except json.JSONDecodeError:
            return error.code, {"message": text.decode(errors="replace")}


def client_env(deployment: Deployment, home: Path) -> dict[str, str]:
    """pip and twine trust exactly the deployment's certificate (this machine presets others)."""
    return {
        "PATH": os.environ["PATH"], "HOME": str(home), "PIP_CONFIG_FILE": os.devnull,
        "PIP_CERT": str(deployment.ca), "REQUESTS_CA_BUNDLE": str(deployment.ca),
    }  # fmt: skip


def twine(
    deployment: Deployment, wheel: Path, user: str, home: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "twine", "upload", "--non-interactive", "--disable-progress-bar",
         "--repository-url", f"{deployment.url}/{INDEX}/", "--cert", str(deployment.ca),
         "-u", user, "-p", USERS[user][0], str(wheel)],
        capture_output=True, text=True, check=False, env=client_env(deployment, home),
    )  # fmt: skip


def pip_install(
    deployment: Deployment, name: str, user: str, target: Path, *, password: str | None = None
) -> subprocess.CompletedProcess[str]:
    host = deployment.url.removeprefix("https://")
    secret = password if password is not None else USERS[user][0]
    index = f"https://{user}:{secret}@{host}/{INDEX}/+simple/"
    return subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-cache-dir",
         "--disable-pip-version-check", "--target", str(target), "--index-url", index,
         "--cert", str(deployment.ca), name],
        capture_output=True, text=True, check=False, env=client_env(deployment, target.parent),
    )  # fmt: skip


@pytest.fixture(scope="module")
def released(deployment: Deployment, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """bob (admin) publishes a core and an enterprise extension; name -> file URL."""
    directory = tmp_path_factory.mktemp("wheels")
    urls = {}
    for name, category in (CORE, ENTERPRISE):
        done = twine(deployment, extension_wheel(directory, name, category), "bob", directory)
        assert done.returncode == 0, done.stdout + done.stderr
        status, page = fetch(deployment, f"/{INDEX}/+simple/{name}/", "bob")
        assert status == 200, page
        page_url = f"{deployment.url}/{INDEX}/+simple/{name}/"
        urls[name] = urljoin(page_url, str(page["files"][0]["url"]))  # type: ignore[index]
    return urls


def test_admin_publishes(released: dict[str, str], deployment: Deployment) -> None:
    status, project = fetch(deployment, f"/{INDEX}/{ENTERPRISE[0]}", "bob")
    assert status == 200
    links = project["result"]["0.1.0"]["+links"]  # type: ignore[index]
    # devpi writes its URLs as nginx tells it clients see it: https, nginx's port.
    assert links[0]["href"].startswith(f"{deployment.url}/{INDEX}/+f/")


def test_developer_installs_a_core_extension(
    released: dict[str, str], deployment: Deployment, tmp_path: Path
) -> None:
    done = pip_install(deployment, CORE[0], "alice", tmp_path / "site")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "site" / "anya_ext_wallet-0.1.0.dist-info").is_dir()


def test_developer_is_refused_an_enterprise_extension_and_told_which_role_allows_it(
    released: dict[str, str], deployment: Deployment, tmp_path: Path
) -> None:
    done = pip_install(deployment, ENTERPRISE[0], "alice", tmp_path / "site")
    assert done.returncode != 0
    assert not (tmp_path / "site").exists() or not any((tmp_path / "site").iterdir())
    file_path = released[ENTERPRISE[0]].removeprefix(deployment.url)
    for path, explanation in (
        (file_path, "may not install enterprise/custody/anya-ext-vault; the role admin would"),
        (f"/{INDEX}/+simple/{ENTERPRISE[0]}/", "may not read enterprise/custody/anya-ext-vault; "
         "the role admin or security would"),
    ):  # fmt: skip
        status, answer = fetch(deployment, path, "alice")
        assert status == 403, answer
        assert f"user 'alice' (roles: developer) {explanation} allow it" == answer["message"]


def test_developer_cannot_publish(deployment: Deployment, tmp_path: Path) -> None:
    wheel = extension_wheel(tmp_path, "anya-ext-sneaky", "core/ml")
    done = twine(deployment, wheel, "alice", tmp_path)
    assert done.returncode != 0
    assert "403" in done.stdout + done.stderr
    assert "the role admin would allow it" in done.stdout + done.stderr
    assert fetch(deployment, f"/{INDEX}/anya-ext-sneaky", "bob")[0] == 404


def test_security_reads_everything_but_installs_nothing(
    released: dict[str, str], deployment: Deployment
) -> None:
    assert fetch(deployment, f"/{INDEX}/+simple/{ENTERPRISE[0]}/", "sam")[0] == 200
    status, answer = fetch(deployment, released[CORE[0]].removeprefix(deployment.url), "sam")
    assert status == 403
    assert "the role developer or admin would allow it" in str(answer["message"])


@pytest.mark.parametrize(("user", "password"), [("alice", "wrong"), ("mallory", "anything")])
def test_wrong_password_and_unknown_user_are_refused(
    deployment: Deployment, user: str, password: str, tmp_path: Path
) -> None:
    login = {"user": user, "password": password}
    assert fetch(deployment, "/+login", method="POST", body=login)[0] == 401
    assert fetch(deployment, f"/{INDEX}/+simple/", user, password=password)[0] == 401
    done = pip_install(deployment, CORE[0], user, tmp_path / "site", password=password)
    assert done.returncode != 0


def test_anonymous_reads_nothing(released: dict[str, str], deployment: Deployment) -> None:
    for path in (f"/{INDEX}/+simple/", f"/{INDEX}/+simple/{CORE[0]}/", f"/{INDEX}/{CORE[0]}"):
        assert fetch(deployment, path)[0] == 401, path
    assert fetch(deployment, released[CORE[0]].removeprefix(deployment.url))[0] == 401


def test_another_organizations_index_is_unreadable(deployment: Deployment) -> None:
    state = server.status(deployment.options.directory / DEVPI_DIR)
    root = DevpiClient(str(state.url))
    root.login(server.admin_credentials(deployment.options.directory / DEVPI_DIR))
    if "globex" not in root.users():
        root.create_user("globex", "globex-owner-password")
        root.create_index(
            "globex/extensions",
            {"type": "anya", "anya_private": True, "anya_acl_read": [":globex"]},
        )
    for user in ("alice", "sam"):
        status, answer = fetch(deployment, "/globex/extensions/+simple/", user)
        assert status == 403, answer
        assert answer["message"] == f"user {user!r} may not read globex/extensions"
    # The deployment's admins manage the whole server (devpi's --restrict-modify), and devpi
    # lets its managers read every index.
    assert fetch(deployment, "/globex/extensions/+simple/", "bob")[0] == 200


def test_deploying_again_changes_nothing(released: dict[str, str], deployment: Deployment) -> None:
    again = deploy(deployment.options)
    assert not again.changed, (again.files, again.processes)
    assert fetch(deployment, f"/{INDEX}/+simple/{CORE[0]}/", "alice")[0] == 200


def test_dry_run_shows_the_files_and_writes_nothing(deployment: Deployment, tmp_path: Path) -> None:
    options = replace(deployment.options, directory=tmp_path / "new")
    plan = deploy(options, dry_run=True)
    assert not options.directory.exists()
    assert {action for _, action in plan.files} == {"created"}
    assert {action for _, action in plan.processes} == {"planned"}
    nginx = next(f for f in plan.plan.files if f.path.endswith("nginx.conf"))
    assert "ssl_certificate" in nginx.content and "proxy_cache" not in nginx.content
    units = [f.path for f in plan.plan.files if f.path.startswith("systemd/")]
    assert len(units) == len(plan.processes) == 2


def test_deploy_with_ldap_down_writes_and_starts_nothing(
    deployment: Deployment, tmp_path: Path
) -> None:
    options = replace(
        deployment.options, directory=tmp_path / "other", ldap_url=f"ldap://127.0.0.1:{free_port()}"
    )
    with pytest.raises(DeployError, match="does not answer") as refused:
        deploy(options)
    assert "nothing was written" in str(refused.value.hint)
    assert not options.directory.exists()


def test_sign_in_with_ldap_down_is_a_clear_error_and_blocks_no_write(
    released: dict[str, str], deployment: Deployment
) -> None:
    state = server.status(deployment.options.directory / DEVPI_DIR)
    root = DevpiClient(str(state.url))
    root.login(server.admin_credentials(deployment.options.directory / DEVPI_DIR))
    deployment.slapd.stop()
    try:
        started = time.monotonic()
        login = {"user": "alice", "password": USERS["alice"][0]}
        status, answer = fetch(deployment, "/+login", method="POST", body=login)
        assert status == 503, answer
        assert "the directory" in str(answer["message"]) and "does not answer" in str(
            answer["message"]
        )
        assert fetch(deployment, f"/{INDEX}/+simple/", "alice")[0] == 503
        assert time.monotonic() - started < 15
        # devpi's write transaction is free: a signed-in administrator changes the index.
        root.modify_index(INDEX, {"description": "changed while LDAP was down"})
        assert root.index(INDEX)["description"] == "changed while LDAP was down"  # type: ignore[index]
    finally:
        deployment.slapd.start()
    assert fetch(deployment, "/+login", method="POST", body=login)[0] == 200


def test_the_client_knows_its_roles_and_refuses_a_publish_before_trying(
    deployment: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(deployment.ca))
    alice = Credentials("alice", USERS["alice"][0])
    profile = access_profile(deployment.url, alice)
    assert profile is not None and profile.roles == ("developer",)
    wheel = extension_wheel(tmp_path, "anya-ext-early", "core/web5")
    with pytest.raises(AccessRefused, match="the role admin would allow it"):
        publish([wheel], registry_url=deployment.url, index=INDEX, credentials=alice, sign=None)
    assert fetch(deployment, f"/{INDEX}/anya-ext-early", "bob")[0] == 404
    bob = access_profile(deployment.url, Credentials("bob", USERS["bob"][0]))
    assert bob is not None
    bob.require("publish", "core/web5", "anya-ext-early")


def test_a_role_refusal_is_in_the_servers_audit_trail_with_the_role_that_would_allow_it(
    released: dict[str, str], deployment: Deployment
) -> None:
    assert fetch(deployment, f"/{INDEX}/+simple/{ENTERPRISE[0]}/", "alice")[0] == 403
    serverdir = deployment.options.directory / DEVPI_DIR / server.SERVER_DIR
    refusals = [
        entry for entry in read_log(trail_path(serverdir))
        if entry.action == "permission-refused" and entry.user == "alice"
    ]  # fmt: skip
    assert refusals[-1].details["subject"] == f"{ENTERPRISE[1]}/{ENTERPRISE[0]}"
    assert refusals[-1].details["roles"] == ["developer"]
    assert refusals[-1].details["would_allow"] == ["admin", "security"]


def test_the_audit_trail_records_the_clients_address_behind_nginx_not_a_forged_one(
    released: dict[str, str], deployment: Deployment
) -> None:
    import http.client

    # 127.0.0.2 is this machine too, but not nginx's own address (127.0.0.1)
    host, port = deployment.url.removeprefix("https://").rsplit(":", 1)
    context = ssl.create_default_context(cafile=str(deployment.ca))
    connection = http.client.HTTPSConnection(
        host, int(port), context=context, source_address=("127.0.0.2", 0), timeout=60
    )
    secret = base64.b64encode(f"alice:{USERS['alice'][0]}".encode()).decode()
    path = f"/{INDEX}/+simple/{ENTERPRISE[0]}/"
    connection.request(
        "GET", path, headers={"Authorization": f"Basic {secret}", "X-Forwarded-For": "203.0.113.9"}
    )
    assert connection.getresponse().status == 403
    connection.close()
    serverdir = deployment.options.directory / DEVPI_DIR / server.SERVER_DIR
    entry = [e for e in read_log(trail_path(serverdir)) if e.action == "permission-refused"][-1]

    assert entry.host == "127.0.0.2"  # not nginx's 127.0.0.1, nor what the client claimed


def test_a_policy_role_mapped_from_an_ldap_group_takes_effect_on_the_next_deploy(
    released: dict[str, str], deployment: Deployment, tmp_path: Path
) -> None:
    wallet = released[CORE[0]].removeprefix(deployment.url)
    assert fetch(deployment, wallet, "gina")[0] == 403
    policy = tmp_path / "enterprise-registry.toml"
    policy.write_text(
        '[roles.partner]\npermissions = ["read", "install"]\nscopes = ["core/bitcoin/*"]\n'
        'groups = ["globex"]\n'
    )
    changed = deploy(replace(deployment.options, policy=policy))
    assert dict(changed.files)["roles.json"] == "updated"
    assert dict(changed.processes) == {"devpi-server": "restarted", "nginx": "unchanged"}
    assert fetch(deployment, wallet, "gina")[0] == 200
    status, answer = fetch(deployment, released[ENTERPRISE[0]].removeprefix(deployment.url), "gina")
    assert status == 403
    assert str(answer["message"]).startswith("user 'gina' (roles: partner) may not install")


def test_a_directory_that_hangs_gives_a_clear_error_within_the_ldap_timeout(
    deployment: Deployment,
) -> None:
    login = {"user": "alice", "password": USERS["alice"][0]}
    deployment.slapd.pause()
    try:
        started = time.monotonic()
        status, answer = fetch(deployment, "/+login", method="POST", body=login)
        assert (status, time.monotonic() - started < 30) == (503, True), answer
        assert "did not answer in time" in str(answer["message"])
    finally:
        deployment.slapd.resume()
    assert fetch(deployment, "/+login", method="POST", body=login)[0] == 200


def test_the_audit_trail_is_read_by_the_roles_with_audit(
    released: dict[str, str], deployment: Deployment
) -> None:
    assert fetch(deployment, "/+audit-trail", "sam")[0] == 200
    for user in ("alice", "bob"):
        assert fetch(deployment, "/+audit-trail", user)[0] == 403, user
