"""A real directory (Debian's slapd) and a real private registry deployed in front of it.

slapd runs from a throwaway ``slapd.conf`` and mdb database under a temp dir, on a free
loopback port, once per session; :class:`Slapd` can stop and restart it (the LDAP-down
test). The registry is ``anya_plugins.registry.deploy.deploy`` exactly as the CLI calls it:
devpi-server with devpi-ldap, the roles plugin and the read restriction, nginx with a
self-signed certificate in front. Everything is stopped at the end of the session.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from anya_plugins.registry.deploy import DeployOptions, DeployResult, deploy, undeploy

BASE_DN = "dc=acme,dc=test"
ADMIN_DN = f"cn=admin,{BASE_DN}"
ADMIN_PASSWORD = "directory-admin"
ORG = "acme-corp"

USERS = {
    "alice": ("alice-password", ("developer",)),
    "bob": ("bob-password", ("admin",)),
    "sam": ("sam-password", ("security",)),
    "gina": ("gina-password", ("globex",)),
}
"""LDAP users: uid -> (password, the groups they are members of)."""
GROUPS = ("developer", "admin", "security", "globex")

SLAPD = shutil.which("slapd") or shutil.which("slapd", path="/usr/sbin")
LDAPADD = shutil.which("ldapadd")
NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Slapd:
    """One slapd on ``url``; ``stop()`` and ``start()`` keep its database."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"ldap://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        (directory / "db").mkdir(parents=True)
        self.config = directory / "slapd.conf"
        self.config.write_text(
            "\n".join(
                [
                    *(
                        f"include /etc/ldap/schema/{s}.schema"
                        for s in ("core", "cosine", "nis", "inetorgperson")
                    ),
                    f"pidfile {directory / 'slapd.pid'}",
                    f"argsfile {directory / 'slapd.args'}",
                    "modulepath /usr/lib/ldap",
                    "moduleload back_mdb",
                    "database mdb",
                    f'suffix "{BASE_DN}"',
                    f'rootdn "{ADMIN_DN}"',
                    f"rootpw {ADMIN_PASSWORD}",
                    f"directory {directory / 'db'}",
                    "access to attrs=userPassword by self read by anonymous auth by * none",
                    "access to * by * read",
                    "",
                ]
            )
        )

    def start(self) -> None:
        assert SLAPD is not None
        # -d 0: stay in the foreground (so this process owns it) and log nothing extra.
        with (self.directory / "slapd.log").open("ab") as log:
            self.process = subprocess.Popen(
                [SLAPD, "-f", str(self.config), "-h", f"{self.url}/", "-d", "0"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                assert self.process.poll() is None, (self.directory / "slapd.log").read_text()
                time.sleep(0.05)
        raise AssertionError("slapd did not listen within 10 s")

    def pause(self) -> None:
        """SIGSTOP: the port still accepts connections (the kernel's backlog), nothing answers."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def populate(self) -> None:
        entries = [
            f"dn: {BASE_DN}\nobjectClass: dcObject\nobjectClass: organization\no: Acme\ndc: acme",
            f"dn: ou=users,{BASE_DN}\nobjectClass: organizationalUnit\nou: users",
            f"dn: ou=groups,{BASE_DN}\nobjectClass: organizationalUnit\nou: groups",
            *(
                f"dn: uid={uid},ou=users,{BASE_DN}\nobjectClass: inetOrgPerson\nuid: {uid}\n"
                f"cn: {uid}\nsn: {uid}\nuserPassword: {password}"
                for uid, (password, _) in USERS.items()
            ),
            *(
                f"dn: cn={group},ou=groups,{BASE_DN}\nobjectClass: groupOfNames\ncn: {group}\n"
                + "\n".join(
                    f"member: uid={uid},ou=users,{BASE_DN}"
                    for uid, (_, groups) in USERS.items()
                    if group in groups
                )
                for group in GROUPS
            ),
        ]
        ldif = self.directory / "base.ldif"
        ldif.write_text("\n\n".join(entries) + "\n")
        assert LDAPADD is not None
        subprocess.run(
            [LDAPADD, "-x", "-H", self.url, "-D", ADMIN_DN, "-w", ADMIN_PASSWORD, "-f", str(ldif)],
            check=True, capture_output=True,
        )  # fmt: skip


@dataclass(frozen=True)
class Deployment:
    result: DeployResult
    options: DeployOptions
    ca: Path
    """The self-signed certificate, which clients trust as their CA."""
    slapd: Slapd

    @property
    def url(self) -> str:
        return self.result.url

    @property
    def simple_url(self) -> str:
        return self.result.client.simple_url


@pytest.fixture(scope="session")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    if SLAPD is None or LDAPADD is None:
        pytest.skip("slapd and ldap-utils are not installed (apt-get install slapd ldap-utils)")
    directory = Slapd(tmp_path_factory.mktemp("slapd"))
    directory.start()
    try:
        directory.populate()
        yield directory
    finally:
        directory.stop()


def self_signed(directory: Path, host: str) -> tuple[Path, Path]:
    cert, key = directory / "tls.crt", directory / "tls.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", f"/CN={host}", "-addext", f"subjectAltName=IP:{host}",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture(scope="session")
def deployment(slapd: Slapd, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    if NGINX is None:
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    pytest.importorskip("devpi_ldap")
    tls = tmp_path_factory.mktemp("tls")
    cert, key = self_signed(tls, "127.0.0.1")
    options = DeployOptions(
        org=ORG, ldap_url=slapd.url, base_dn=BASE_DN, tls_cert=cert, tls_key=key,
        directory=tmp_path_factory.mktemp("deploy") / "acme", server_name="127.0.0.1",
        listen="127.0.0.1", https_port=free_port(), devpi_port=free_port(),
    )  # fmt: skip
    try:
        result = deploy(options)
        yield Deployment(result=result, options=options, ca=cert, slapd=slapd)
    finally:
        undeploy(options.directory)


def _postgres_bin() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return versions[-1].parent if versions else None


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on loopback (password login); its ``postgresql://`` URL.

    initdb refuses to run as root, so as root the cluster belongs to ``nobody``.
    """
    binaries = _postgres_bin()
    if binaries is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="anya-pg-", dir="/tmp"))
    root.chmod(0o755)
    password, port = "devpi-db-password", free_port()
    (root / "pw").write_text(password)
    as_owner: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "nobody")
        shutil.chown(root / "pw", "nobody")
        as_owner = ["runuser", "-u", "nobody", "--"]
    data = root / "data"
    subprocess.run(
        [*as_owner, str(binaries / "initdb"), "-D", str(data), "-U", "devpi", "-E", "UTF8",
         "--auth=scram-sha-256", f"--pwfile={root / 'pw'}"],
        check=True, capture_output=True,
    )  # fmt: skip
    pg_ctl = [*as_owner, str(binaries / "pg_ctl"), "-D", str(data), "-w"]
    subprocess.run(
        [*pg_ctl, "-l", str(root / "log"), "-o",
         f"-p {port} -k {root} -c listen_addresses=127.0.0.1", "start"],
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        yield f"postgresql://devpi:{password}@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*pg_ctl, "-m", "fast", "stop"], check=False, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
