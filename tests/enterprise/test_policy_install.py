"""The enterprise policy in force on a real install from the session registry: its
``registry.private.url`` is the ``enterprise`` source, and its security demands win over the
user's file (allowed publishers, required signatures, the vulnerability gate)."""

from __future__ import annotations

from pathlib import Path

import pytest

from anya_plugins.config.layers import LayeredConfig, load_config
from anya_plugins.enterprise.policy import load_policy, with_policy
from anya_plugins.errors import ConfigError
from anya_plugins.sources.settings import load_sources
from anya_plugins.trust.policy import load_trust_policy
from anya_sigstore_local import LocalSigstore
from tests.install.test_signed_install import MALLORY, UNCHECKED, _publish
from tests.registry_fixtures import PUBLISHER, Registry
from tests.support import ExtensionBuilder, ExtensionSpec, Venv, VenvFactory

SOURCE = ("--source", "enterprise", "--org", "acme-corp")


def policy_text(url: str, issuer: str, *, verify_ssl: bool = True) -> str:
    return (
        "organization: Acme Corp\n"
        f"registry_url: {url}\n"
        f"verify_ssl: {'true' if verify_ssl else 'false'}\n"
        "security:\n"
        "  require_signatures: true\n"
        f"  allowed_publishers: [{PUBLISHER}]\n"
        f"  issuer: {issuer}\n"
        "  vulnerability_scanning: true\n"
    )


def under_policy(
    directory: Path, policy: str, *, environ: dict[str, str] | None = None,
    overrides: tuple[str, ...] = (),
) -> LayeredConfig:  # fmt: skip
    """The configuration of a user with no file of their own (``environ`` and ``overrides``
    aside) under the policy ``policy`` (YAML)."""
    path = directory / "enterprise-registry.yml"
    path.write_text(policy)
    environ = {"ANYA_CONFIG": str(directory / "none.toml"), **(environ or {})}
    return with_policy(load_config(environ=environ, overrides=overrides), load_policy(path))


def loosening_user_file(sigstore: LocalSigstore, advisories: Path) -> str:
    """A user's file that tries to undo every demand of the policy."""
    return (
        "[trust]\n"
        f'trusted_root = "{sigstore.trusted_root_path}"\n'
        "require_signatures = false\n"
        "allow_unsigned = true\n\n"
        "[trust.enterprise.acme-corp]\n"
        f'allowed_publishers = [{{ identity = "{MALLORY}", issuer = "{sigstore.issuer_url}", '
        'names = ["*"] }]\n\n'
        "[audit]\n"
        f'advisories = "{advisories}"\n'
        "require_database = false\n\n"
        "[sources.enterprise.acme-corp]\n"
        'url = "http://127.0.0.1:9/elsewhere/+simple/"\n'
    )


@pytest.fixture(scope="module")
def venv(
    registry: Registry,
    local_sigstore: LocalSigstore,
    build_extension: ExtensionBuilder,
    make_venv: VenvFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> Venv:
    def wheel(name: str) -> Path:
        return build_extension(ExtensionSpec(name, category=UNCHECKED))

    _publish(registry, local_sigstore, wheel("policy-signed"), PUBLISHER, index=UNCHECKED)
    _publish(registry, local_sigstore, wheel("policy-foreign"), MALLORY, index=UNCHECKED)
    _publish(registry, local_sigstore, wheel("policy-default-org"), PUBLISHER, index=UNCHECKED)
    venv = make_venv()
    work = tmp_path_factory.mktemp("policy-install")
    advisories = work / "advisories"
    advisories.mkdir()
    policy = work / "enterprise-registry.yml"
    policy.write_text(
        policy_text(f"{registry.url}/{UNCHECKED}/+simple/", local_sigstore.issuer_url)
    )
    venv.config_file.parent.mkdir(parents=True, exist_ok=True)
    venv.config_file.write_text(loosening_user_file(local_sigstore, advisories))
    venv.extra_env.update(ANYA_ENTERPRISE_POLICY=str(policy), ANYA_CACHE_DIR=str(work / "c"))
    return venv


@pytest.mark.slow
def test_the_enterprise_source_is_the_policys_registry_url(venv: Venv) -> None:
    done = venv.anya_ext("install", *SOURCE, "policy-signed")

    assert done.returncode == 0, done.stderr
    assert venv.freeze()["anya-ext-policy-signed"] == "0.1.0"


@pytest.mark.slow
def test_source_enterprise_without_org_is_the_policys_organisation(venv: Venv) -> None:
    done = venv.anya_ext("install", "--json", "--source", "enterprise", "policy-default-org")

    assert done.returncode == 0, done.stderr
    assert venv.freeze()["anya-ext-policy-default-org"] == "0.1.0"
    assert '"enterprise.acme-corp"' in done.stdout


@pytest.mark.slow
def test_a_signer_the_policy_does_not_allow_is_refused_whatever_the_user_file_says(
    venv: Venv,
) -> None:
    before = venv.freeze()

    done = venv.anya_ext("install", *SOURCE, "policy-foreign", "--allow-unsigned")

    assert done.returncode != 0, done.stdout
    assert MALLORY in done.stderr and PUBLISHER in done.stderr
    assert venv.freeze() == before


def test_the_policy_wins_over_the_environment_and_the_command_line_for_security_keys(
    tmp_path: Path,
) -> None:
    config = under_policy(
        tmp_path, policy_text("https://reg.acme.example/acme/+simple/", "https://idp.example"),
        environ={"ANYA_TRUST__REQUIRE_SIGNATURES": "false"},
        overrides=("audit.require_database=false",),
    )  # fmt: skip

    rules = load_trust_policy(config).rules_for("enterprise.acme-corp")

    assert (rules.require_signatures, rules.allow_unsigned) == (True, False)
    assert [p.identity for p in rules.publishers] == [PUBLISHER]
    assert load_trust_policy(config).require_signatures is True
    entry = config.get("audit.require_database")
    assert entry is not None and entry.value is True and entry.origin.layer == "policy"


def test_a_policy_that_asks_for_nothing_loosens_nothing(tmp_path: Path) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text(
        'organization = "Acme Corp"\nregistry_url = "https://reg.acme.example/+simple/"\n'
        "[security]\nrequire_signatures = false\nvulnerability_scanning = false\n"
    )
    user_file = tmp_path / "config.toml"
    user_file.write_text("[audit]\nrequire_database = true\n")
    user = load_config(environ={"ANYA_CONFIG": str(user_file)})

    config = with_policy(user, load_policy(policy))

    assert load_trust_policy(config).require_signatures is True
    entry = config.get("audit.require_database")
    assert entry is not None and entry.value is True and entry.origin.layer == "file"


def test_verify_ssl_false_is_refused_not_obeyed(tmp_path: Path) -> None:
    config = under_policy(
        tmp_path,
        policy_text("https://reg.acme.example/+simple/", "https://idp.example", verify_ssl=False),
    )

    refused = r"registry\.private\.verify-ssl: is False .* never turns"
    with pytest.raises(ConfigError, match=refused):
        load_sources(config, environ={})


def test_the_private_registry_credentials_come_from_the_environment_only_in_memory(
    tmp_path: Path,
) -> None:
    config = under_policy(
        tmp_path, policy_text("https://reg.acme.example/acme/+simple/", "https://idp.example")
    )
    environ = {"ANYA_REGISTRY_USER": "alice", "ANYA_REGISTRY_PASSWORD": "s3cr/t"}

    source = load_sources(config, environ=environ).source("enterprise.acme-corp")

    assert source.url == "https://alice:s3cr%2Ft@reg.acme.example/acme/+simple/"
    assert not (tmp_path / "none.toml").exists()
