"""``registry deploy --storage postgresql://...``: devpi-postgresql keeps the registry's data.

devpi-postgresql 3.0.1 with devpi-server 6.20.3 and PostgreSQL 15 (a throwaway cluster):
an admin publishes, a developer installs, nothing is stored on the file system, and a
restarted deployment serves what it held.
"""

from __future__ import annotations

import stat
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from anya_plugins.registry import server
from anya_plugins.registry.deploy import DEVPI_DIR, DeployOptions, deploy, undeploy
from tests.enterprise.conftest import ORG, Deployment, Slapd, free_port
from tests.enterprise.test_deploy import CORE, INDEX, extension_wheel, fetch, pip_install, twine

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pg_deployment(
    deployment: Deployment, slapd: Slapd, postgres: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    pytest.importorskip("devpi_postgresql")
    options: DeployOptions = replace(
        deployment.options, directory=tmp_path_factory.mktemp("deploy-pg") / ORG,
        storage=postgres, https_port=free_port(), devpi_port=free_port(),
    )  # fmt: skip
    try:
        result = deploy(options)
        yield Deployment(result=result, options=options, ca=deployment.ca, slapd=slapd)
    finally:
        undeploy(options.directory)


def test_a_release_lives_in_postgresql_and_survives_a_restart(
    pg_deployment: Deployment, tmp_path: Path
) -> None:
    done = twine(pg_deployment, extension_wheel(tmp_path, *CORE), "bob", tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    installed = pip_install(pg_deployment, CORE[0], "alice", tmp_path / "site")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    serverdir = pg_deployment.options.directory / DEVPI_DIR / "server"
    assert not any(serverdir.rglob("*.whl")), "a release file was stored on the file system"
    # The database password is in a private file, not in the process list.
    state = pg_deployment.options.directory / DEVPI_DIR
    assert stat.S_IMODE((state / "storage.yml").stat().st_mode) == 0o600
    password = urlsplit(pg_deployment.options.storage).password
    assert (
        password
        and password.encode() not in Path(f"/proc/{server.status(state).pid}/cmdline").read_bytes()
    )

    undeploy(pg_deployment.options.directory)
    again = deploy(pg_deployment.options)
    assert dict(again.processes) == {"devpi-server": "started", "nginx": "started"}
    status, page = fetch(pg_deployment, f"/{INDEX}/+simple/{CORE[0]}/", "alice")
    assert status == 200
    files = page["files"]
    assert isinstance(files, list)
    assert [f["filename"] for f in files] == ["anya_ext_wallet-0.1.0-py3-none-any.whl"]
