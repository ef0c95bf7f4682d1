"""The enterprise policy file: YAML or TOML, every wrong field named with its line, credentials
refused, its keys loaded as the ``policy`` layer of the configuration; the private registry's
credentials from the environment or the keyring."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

from anya_plugins.enterprise.credentials import registry_credentials
from anya_plugins.enterprise.errors import CredentialsMissing, PolicyError
from anya_plugins.enterprise.policy import (
    AllowedPublisher,
    EnterprisePolicy,
    ReportingPolicy,
    SecurityPolicy,
    load_policy,
    view_policy,
)
from anya_plugins.registry.devpi import Credentials
from tests.sources.test_credentials import MemoryKeyring

YAML_POLICY = """\
enterprise:
  organization: Acme Corp
  registry_url: https://registry.acme.example/acme/private/+simple/
  auth_method: ldap
  security:
    require_signatures: true
    allowed_publishers: [release@acme.example]
    issuer: https://idp.acme.example
    audit_logging: true
    vulnerability_scanning: true
  compliance:
    standards: [SOC2, iso27001]
    reporting:
      frequency: monthly
      recipients: [compliance@acme.example]
      smtp: smtp.acme.example:587
  support:
    contact: platform@acme.example
    level: premium
"""

TOML_POLICY = """\
organization = "Acme Corp"
registry_url = "https://registry.acme.example/acme/private/+simple/"
auth_method = "ldap"

[security]
require_signatures = true
allowed_publishers = ["release@acme.example"]
issuer = "https://idp.acme.example"
audit_logging = true
vulnerability_scanning = true

[compliance]
standards = ["SOC2", "iso27001"]

[compliance.reporting]
frequency = "monthly"
recipients = ["compliance@acme.example"]
smtp = "smtp.acme.example:587"

[support]
contact = "platform@acme.example"
level = "premium"
"""

BROKEN = """\
organization: Acme Corp
registry_url: https://bob:hunter2@registry.acme.example/simple/
auth_method: kerberos
verify_ssl: "no"
security:
  require_signatures: "yes"
  allowed_publishers: []
  api_token: abc123
compliance:
  standards: [SOC2, HIPAA]
  reporting:
    frequency: weekly
    recipients: [not-an-address]
colour: blue
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text)
    return path


def test_a_yaml_policy_is_read_into_typed_fields(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, "enterprise-registry.yml", YAML_POLICY))

    assert policy == EnterprisePolicy(
        path=str(tmp_path / "enterprise-registry.yml"),
        organization="Acme Corp",
        registry_url="https://registry.acme.example/acme/private/+simple/",
        auth_method="ldap",
        verify_ssl=True,
        security=SecurityPolicy(
            True,
            (AllowedPublisher("release@acme.example", "https://idp.acme.example"),),
            True,
            True,
            "https://idp.acme.example",
        ),
        compliance=policy.compliance,
        support={"contact": "platform@acme.example", "level": "premium"},
    )
    assert policy.compliance.standards == ("SOC2", "ISO27001")
    assert policy.compliance.reporting == ReportingPolicy(
        "monthly", ("compliance@acme.example",), "smtp.acme.example", 587, None
    )


def test_the_same_policy_in_toml_reads_the_same(tmp_path: Path) -> None:
    from_yaml = load_policy(write(tmp_path, "policy.yml", YAML_POLICY))
    from_toml = load_policy(write(tmp_path, "policy.toml", TOML_POLICY))

    assert from_toml == EnterprisePolicy(**{**from_yaml.__dict__, "path": from_toml.path})


def test_every_wrong_field_is_named_with_its_line(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as raised:
        load_policy(write(tmp_path, "enterprise-registry.yml", BROKEN))

    lines = raised.value.message.splitlines()
    assert lines[0].endswith("10 problems in the enterprise policy:")
    assert [line.split(":")[0].strip() for line in lines[1:]] == [
        "line 2", "line 3", "line 4", "line 6", "line 7", "line 8", "line 10", "line 12",
        "line 13", "line 14",
    ]  # fmt: skip
    text = raised.value.message
    assert "line 3: auth_method: expected one of basic, ldap, token, got 'kerberos'" in text
    assert "line 4: verify_ssl: expected true or false, got 'no'" in text
    assert "line 6: security.require_signatures: expected true or false, got 'yes'" in text
    assert "line 10: compliance.standards: unknown standard 'HIPAA'" in text
    assert "line 12: compliance.reporting.frequency: 'weekly' is not a reporting frequency" in text
    assert "line 13: compliance.reporting.recipients: 'not-an-address' is not an e-mail" in text
    assert "line 14: colour: unknown field" in text


def test_credentials_in_the_policy_are_refused_and_never_repeated(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as raised:
        load_policy(write(tmp_path, "enterprise-registry.yml", BROKEN))

    text = raised.value.message
    assert "line 2: registry_url: the URL carries credentials" in text
    assert "line 8: security.api_token: credentials do not belong in the policy file" in text
    assert "hunter2" not in text and "abc123" not in text


def test_broken_yaml_names_its_line(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"line 3: not valid YAML"):
        load_policy(write(tmp_path, "p.yml", "organization: Acme\nsecurity:\n\tbad: 1\n"))


def test_registry_keys_sit_below_the_command_line_and_security_demands_above_it(
    tmp_path: Path,
) -> None:
    policy = write(tmp_path, "enterprise-registry.yml", YAML_POLICY)
    user_file = write(
        tmp_path, "config.toml", '[registry.private]\nurl = "https://elsewhere.example/"\n'
    )
    environ = {"ANYA_CONFIG": str(user_file), "HOME": str(tmp_path)}

    overrides = ("registry.private.verify-ssl=false", "trust.require_signatures=false")
    view = view_policy(policy, environ=environ, overrides=overrides)

    assert view.settings[:4] == (
        ("registry.private.url", "https://registry.acme.example/acme/private/+simple/",
         f"policy {policy}"),
        ("registry.private.org", "acme-corp", f"policy {policy}"),
        ("registry.private.auth-method", "ldap", f"policy {policy}"),
        ("registry.private.verify-ssl", False, "cli --config"),
    )  # fmt: skip
    # security demands are enforced: above the command line too
    assert ("trust.require_signatures", True, f"policy {policy}") in view.settings


def test_the_cli_checks_a_policy_and_shows_its_keys(tmp_path: Path) -> None:
    policy = write(tmp_path, "enterprise-registry.yml", YAML_POLICY)
    env = {**os.environ, "HOME": str(tmp_path), "ANYA_CONFIG": str(tmp_path / "none.toml")}

    done = subprocess.run(
        [sys.executable, "-m", "anya_plugins.cli.main", "--json", "enterprise", "policy",
         str(policy)],
        capture_output=True, text=True, check=False, env=env,
    )  # fmt: skip
    broken = subprocess.run(
        [sys.executable, "-m", "anya_plugins.cli.main", "enterprise", "policy",
         str(write(tmp_path, "broken.yml", BROKEN))],
        capture_output=True, text=True, check=False, env=env,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["policy"]["organization"] == "Acme Corp"
    assert broken.returncode == 4
    assert "10 problems in the enterprise policy" in broken.stderr
    assert "hunter2" not in broken.stderr + broken.stdout


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


URL = "https://registry.acme.example:8443/acme/private/+simple/"


def test_registry_credentials_come_from_the_environment_first(
    memory_keyring: MemoryKeyring,
) -> None:
    memory_keyring.set_password("registry.acme.example:8443", "auditor", "from-keyring")
    environ = {"ANYA_REGISTRY_USER": "auditor", "ANYA_REGISTRY_PASSWORD": "from-env"}

    assert registry_credentials(URL, None, environ) == Credentials("auditor", "from-env")
    assert memory_keyring.asked == []


def test_registry_credentials_come_from_the_keyring_for_the_host(
    memory_keyring: MemoryKeyring,
) -> None:
    memory_keyring.set_password("registry.acme.example:8443", "auditor", "from-keyring")

    assert registry_credentials(URL, "auditor", {}) == Credentials("auditor", "from-keyring")


def test_no_credentials_says_where_to_put_them(memory_keyring: MemoryKeyring) -> None:
    with pytest.raises(CredentialsMissing) as raised:
        registry_credentials(URL, "auditor", {})

    assert raised.value.message == "no password for auditor at registry.acme.example:8443"
    assert "keyring set registry.acme.example:8443 <user>" in str(raised.value.hint)


ROLES = """\
organization: Acme Corp
registry_url: https://registry.acme.example/acme/private/+simple/
roles:
  partner:
    permissions: [read, install]
    scopes: [core/bitcoin/*]
    groups: [globex]
  intruder:
    permissions: [read, teleport]
    scopes: [core/*]
  stranger: {permissions: [read], scopes: [core/*], colour: blue}
"""


def test_roles_are_checked_as_registry_deploy_checks_them_each_with_its_line(
    tmp_path: Path,
) -> None:
    with pytest.raises(PolicyError) as raised:
        load_policy(write(tmp_path, "enterprise-registry.yml", ROLES))

    text = raised.value.message
    assert "2 problems" in text
    assert "line 9: roles.intruder.permissions: unknown teleport (use read, install" in text
    assert "line 11: roles.stranger: unknown keys colour" in text
    assert "partner" not in text


def test_valid_roles_are_kept_for_the_deployment(tmp_path: Path) -> None:
    valid = "\n".join(ROLES.splitlines()[:7]) + "\n"

    policy = load_policy(write(tmp_path, "enterprise-registry.yml", valid))

    assert policy.roles == {
        "partner": {"permissions": ["read", "install"], "scopes": ["core/bitcoin/*"],
                    "groups": ["globex"]},
    }  # fmt: skip


PUBLISHER_TABLES = """\
organization: Acme Corp
registry_url: https://registry.acme.example/acme/private/+simple/
security:
  issuer: https://idp.acme.example
  allowed_publishers:
    - release@acme.example
    - identity: "ci@acme.example"
      issuer: "https://ci.acme.example"
      names: "anya-ext-acme-*"
    - {identity: ops@acme.example, names: [anya-ext-ops, anya-ext-ops-*]}
"""

TABLE_PUBLISHERS = (  # identity, issuer, names: PUBLISHER_TABLES as read
    ("release@acme.example", "https://idp.acme.example", ("*",)),
    ("ci@acme.example", "https://ci.acme.example", ("anya-ext-acme-*",)),
    ("ops@acme.example", "https://idp.acme.example", ("anya-ext-ops", "anya-ext-ops-*")),
)

PUBLISHER_TABLES_TOML = """\
organization = "Acme Corp"
registry_url = "https://registry.acme.example/acme/private/+simple/"

[security]
issuer = "https://idp.acme.example"
allowed_publishers = [
  "release@acme.example",
  { identity = "ci@acme.example", issuer = "https://ci.acme.example", names = "anya-ext-acme-*" },
  { identity = "ops@acme.example", names = ["anya-ext-ops", "anya-ext-ops-*"] },
]
"""

BROKEN_PUBLISHERS = """\
organization: Acme Corp
registry_url: https://registry.acme.example/acme/private/+simple/
security:
  allowed_publishers:
    - identity: ci@acme.example
      issuer: not-a-url
      names: []
    - issuer: https://idp.acme.example
      colour: blue
      api_token: abc123
    - 42
    - {identity: ops@acme.example, names: 7}
"""


def test_allowed_publishers_take_tables_beside_plain_identities(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, "p.yml", PUBLISHER_TABLES))

    assert policy.security.allowed_publishers == tuple(
        AllowedPublisher(*fields) for fields in TABLE_PUBLISHERS
    )
    from_toml = load_policy(write(tmp_path, "p.toml", PUBLISHER_TABLES_TOML))
    assert from_toml.security == policy.security


def test_publisher_tables_become_the_organisations_trusted_signers(tmp_path: Path) -> None:
    from anya_plugins.config.layers import load_config
    from anya_plugins.enterprise.policy import with_policy
    from anya_plugins.trust.policy import Publisher, load_trust_policy

    policy = load_policy(write(tmp_path, "p.yml", PUBLISHER_TABLES))
    user = load_config(environ={"ANYA_CONFIG": str(tmp_path / "none.toml")})

    rules = load_trust_policy(with_policy(user, policy)).rules_for("enterprise.acme-corp")

    assert rules.publishers == tuple(Publisher(*fields) for fields in TABLE_PUBLISHERS)


def test_every_wrong_publisher_field_is_named_with_its_line(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as raised:
        load_policy(write(tmp_path, "p.yml", BROKEN_PUBLISHERS))

    text = raised.value.message
    expected = (
        (6, "[0].issuer: 'not-a-url' is not the URL"),
        (7, "[0].names: expected at least one name glob"),
        (8, "[1].identity: required"),
        (9, "[1].colour: unknown field"),
        (10, "[1].api_token: credentials do not"),
        (11, "[2]: expected an identity or a table"),
        (12, "[3].names: expected a list of text"),
        # no security.issuer: the table without its own issuer says so
        (12, "[3].issuer: required (or security.issuer)"),
    )
    missing = [
        (line, problem) for line, problem in expected
        if f"line {line}: security.allowed_publishers{problem}" not in text
    ]  # fmt: skip
    assert not missing, text
    assert "abc123" not in text


def test_source_enterprise_without_org_is_the_policys_organisation(tmp_path: Path) -> None:
    from anya_plugins.config.layers import load_config
    from anya_plugins.enterprise.policy import with_policy
    from anya_plugins.errors import UsageError
    from anya_plugins.sources.settings import load_sources, source_name

    policy = load_policy(write(tmp_path, "p.yml", PUBLISHER_TABLES))
    user = load_config(environ={"ANYA_CONFIG": str(tmp_path / "none.toml")})
    config = with_policy(user, policy)

    name = source_name("enterprise", None, lambda: config)

    assert name == "enterprise.acme-corp"
    assert load_sources(config, environ={}).source(name).url == policy.registry_url
    assert source_name("enterprise", "globex", config) == "enterprise.globex"
    with pytest.raises(UsageError, match="needs --org ORG") as refused:
        source_name("enterprise", None, user)
    assert refused.value.hint is not None and "ANYA_ENTERPRISE_POLICY" in refused.value.hint


def test_the_cli_takes_source_enterprise_without_org_under_a_policy(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on: the search fails, not the CLI
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/acme/private/+simple/"
    policy = write(tmp_path, "p.yml", PUBLISHER_TABLES.replace(
        "https://registry.acme.example/acme/private/+simple/", url
    ))  # fmt: skip
    env = {**os.environ, "HOME": str(tmp_path), "ANYA_CONFIG": str(tmp_path / "none.toml"),
           "ANYA_CACHE_DIR": str(tmp_path / "cache")}  # fmt: skip
    env.pop("ANYA_ENTERPRISE_POLICY", None)
    command = [sys.executable, "-m", "anya_plugins.cli.main", "search", "--source", "enterprise",
               "lightning"]  # fmt: skip

    without = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    under = subprocess.run(
        command, capture_output=True, text=True, check=False,
        env={**env, "ANYA_ENTERPRISE_POLICY": str(policy)},
    )  # fmt: skip

    assert without.returncode == 2 and "--source enterprise needs --org ORG" in without.stderr
    assert under.returncode not in (0, 2), under.stdout
    assert "needs --org" not in under.stderr and f"127.0.0.1:{port}" in under.stderr
