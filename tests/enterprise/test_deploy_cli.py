"""``anya-ext registry deploy --dry-run``: the plan as the CLI shows it, nothing written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def deploy_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "anya_plugins.cli", "--json", "registry", "deploy",
         "--org", "acme-corp", "--auth", "ldap://127.0.0.1:1", "--base-dn", "dc=acme,dc=test",
         "--tls-cert", "cert.pem", "--tls-key", "key.pem", *(str(a) for a in args)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_dry_run_prints_every_file_and_unit_and_writes_nothing(tmp_path: Path) -> None:
    policy = tmp_path / "enterprise-registry.yml"
    policy.write_text(
        "enterprise:\n  organization: acme-corp\n  roles:\n    custody-ops:\n"
        "      permissions: [read, install]\n      scopes: [enterprise/custody/*]\n"
        "      groups: [custody]\n"
    )
    done = deploy_cli("--dir", tmp_path / "reg", "--policy", policy, "--dry-run")
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    assert not (tmp_path / "reg").exists()
    assert plan["dry_run"] and plan["index"] == "acme-corp/extensions"
    assert plan["units"] == [
        "anya-registry-acme-corp-devpi.service", "anya-registry-acme-corp-nginx.service",
    ]  # fmt: skip
    roles = json.loads(plan["contents"]["roles.json"])
    assert list(roles) == ["developer", "admin", "security", "custody-ops"]
    assert roles["custody-ops"]["groups"] == ["custody"]
    devpi_unit = plan["contents"]["systemd/anya-registry-acme-corp-devpi.service"]
    assert "--ldap-config=" in devpi_unit and "--anya-roles=" in devpi_unit
    assert "--restrict-modify=root,:admin" in devpi_unit
    assert "--anya-audit-readers=root,:security\n" in devpi_unit
    assert plan["client"]["simple_url"] == "https://localhost/acme-corp/extensions/+simple/"


def test_postgresql_storage_goes_to_devpi_postgresql_in_a_private_config_file(
    tmp_path: Path,
) -> None:
    done = deploy_cli(
        "--dir", tmp_path / "reg", "--dry-run",
        "--storage", "postgresql://devpi:s3cret@db.internal:5433/registry",
    )  # fmt: skip
    plan = json.loads(done.stdout)
    assert plan["contents"]["devpi/storage.yml"] == (
        "devpi-server:\n"
        '  storage: "pg8000:host=db.internal,port=5433,user=devpi,password=s3cret,'
        'database=registry"\n'
    )
    devpi_unit = plan["contents"]["systemd/anya-registry-acme-corp-devpi.service"]
    assert "s3cret" not in devpi_unit
    assert f"--configfile={tmp_path / 'reg' / 'devpi' / 'storage.yml'}" in devpi_unit


def test_a_storage_that_is_neither_fs_nor_postgresql_is_refused(tmp_path: Path) -> None:
    done = deploy_cli("--dir", tmp_path / "reg", "--dry-run", "--storage", "mysql://x/y")
    assert done.returncode != 0
    assert "expected fs or postgresql://" in done.stderr
    assert not (tmp_path / "reg").exists()
