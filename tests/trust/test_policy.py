"""The ``[trust]`` section becomes a typed policy; who may sign what is decided by globs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from anya_plugins.config.layers import load_config
from anya_plugins.errors import ConfigError
from anya_plugins.trust.errors import TrustError, TrustPolicyError
from anya_plugins.trust.policy import (
    DEFAULT_MAX_ROOT_AGE_DAYS,
    Publisher,
    TrustPolicy,
    load_trust_policy,
    parse_trust_policy,
)
from tests.trust.publishing import LIGHTNING_RELEASES

GITHUB = "https://token.actions.githubusercontent.com"
ACME_IDP = "https://idp.acme.example"
LIGHTNING_PUBLISHER = {
    "identity": LIGHTNING_RELEASES,
    "issuer": GITHUB,
    "names": ["anya-ext-lightning*"],
    "sources": ["primary"],
}
ACME_RELEASE = {"identity": "release@acme.example", "issuer": ACME_IDP, "names": ["*"]}

CONFIG_FILE = f"""
[trust]
trusted_root = "roots/trusted_root.json"
require_signatures = true
allow_unsigned = false

[[trust.publishers]]
identity = "{LIGHTNING_RELEASES}"
issuer = "{GITHUB}"
names = ["anya-ext-lightning*"]
sources = ["primary"]

[trust.enterprise.acme]
require_signatures = true
allowed_publishers = [
  {{ identity = "release@acme.example", issuer = "{ACME_IDP}", names = ["*"] }},
]
"""


def test_no_trust_section_requires_signatures_from_the_public_good_instance() -> None:
    policy = parse_trust_policy({})

    assert policy == TrustPolicy()
    assert policy.trusted_root is None
    assert policy.require_signatures is True
    assert policy.allow_unsigned is False
    assert (policy.offline, policy.max_root_age_days) == (False, DEFAULT_MAX_ROOT_AGE_DAYS)


def test_the_documented_example_reads_from_a_config_file(tmp_path: Path) -> None:
    config_file = tmp_path / "extensions.toml"
    config_file.write_text(CONFIG_FILE)

    policy = load_trust_policy(load_config(config_file, environ={}))

    assert policy.trusted_root == tmp_path / "roots" / "trusted_root.json"
    assert policy.publishers == (
        Publisher(LIGHTNING_RELEASES, GITHUB, ("anya-ext-lightning*",), ("primary",)),
    )
    (acme,) = policy.enterprise
    assert acme.source == "enterprise.acme"
    assert acme.allowed_publishers == (Publisher("release@acme.example", ACME_IDP, ("*",)),)


def test_an_environment_variable_can_relax_require_signatures(tmp_path: Path) -> None:
    config_file = tmp_path / "extensions.toml"
    config_file.write_text(CONFIG_FILE)

    config = load_config(config_file, environ={"ANYA_TRUST__REQUIRE_SIGNATURES": "false"})

    assert load_trust_policy(config).require_signatures is False


def test_a_publisher_name_glob_matches_normalised_distribution_names() -> None:
    policy = parse_trust_policy({"publishers": [LIGHTNING_PUBLISHER]})

    assert policy.publishers_for("anya-ext-lightning", "primary")
    assert policy.publishers_for("Anya_Ext.Lightning-Tools", "primary")
    assert policy.publishers_for("anya-ext-wallet", "primary") == ()


def test_a_publisher_limited_to_one_source_is_not_trusted_from_another() -> None:
    policy = parse_trust_policy({"publishers": [LIGHTNING_PUBLISHER]})

    assert policy.publishers_for("anya-ext-lightning", "community") == ()


def test_a_publisher_without_sources_serves_every_source() -> None:
    everywhere = {**LIGHTNING_PUBLISHER}
    del everywhere["sources"]
    policy = parse_trust_policy({"publishers": [everywhere]})

    for source in ("primary", "community", "enterprise.acme"):
        assert policy.publishers_for("anya-ext-lightning", source), source


def test_source_globs_select_enterprise_sources() -> None:
    internal = {**LIGHTNING_PUBLISHER, "names": ["*"], "sources": ["enterprise.*"]}
    policy = parse_trust_policy({"publishers": [internal]})

    assert policy.publishers_for("anya-ext-ledger", "enterprise.globex")
    assert policy.publishers_for("anya-ext-ledger", "primary") == ()


def test_enterprise_allowed_publishers_replace_the_top_level_ones() -> None:
    everyone = {"identity": "*", "issuer": GITHUB, "names": ["*"]}
    policy = parse_trust_policy(
        {"publishers": [everyone], "enterprise": {"acme": {"allowed_publishers": [ACME_RELEASE]}}}
    )

    (only,) = policy.publishers_for("acme-ledger", "enterprise.acme")
    assert only.identity == "release@acme.example"
    assert policy.publishers_for("acme-ledger", "enterprise.globex")[0].identity == "*"


def test_enterprise_settings_override_the_top_level_ones_for_their_source_only() -> None:
    policy = parse_trust_policy(
        {
            "require_signatures": True,
            "enterprise": {"acme": {"require_signatures": False, "allow_unsigned": True}},
        }
    )

    acme, primary = policy.rules_for("enterprise.acme"), policy.rules_for("primary")
    assert (acme.require_signatures, acme.allow_unsigned) == (False, True)
    assert (primary.require_signatures, primary.allow_unsigned) == (True, False)


def test_an_identity_glob_matches_every_tag_of_one_workflow_only() -> None:
    publisher = Publisher(LIGHTNING_RELEASES, GITHUB, ("*",))
    workflow = "https://github.com/anya-org/lightning/.github/workflows/release.yml"

    assert publisher.identity_is_glob
    assert publisher.matches(f"{workflow}@refs/tags/v1.2.0", GITHUB)
    assert not publisher.matches(f"{workflow}@refs/heads/main", GITHUB)
    assert not publisher.matches(f"{workflow}@refs/tags/v1.2.0", "https://gitlab.com")


def test_offline_and_the_root_age_limit_read_from_a_file_and_the_environment(
    tmp_path: Path,
) -> None:
    config_file = tmp_path / "extensions.toml"
    config_file.write_text("[trust]\noffline = true\nmax_root_age_days = 30\n")

    from_file = load_trust_policy(load_config(config_file, environ={}))
    from_environment = load_trust_policy(
        load_config(config_file, environ={"ANYA_TRUST__MAX_ROOT_AGE_DAYS": "365"})
    )

    assert (from_file.offline, from_file.max_root_age_days) == (True, 30)
    assert from_environment.max_root_age_days == 365


@pytest.mark.parametrize(
    ("section", "key", "problem"),
    [
        ({"require_signature": False}, "trust.require_signature", "unknown key"),
        ({"require_signatures": "yes"}, "trust.require_signatures", "must be true or false"),
        ({"trusted_root": ""}, "trust.trusted_root", "must be a non-empty string"),
        ({"publishers": {"identity": "x"}}, "trust.publishers", "must be a list"),
        (
            {"publishers": [{"issuer": GITHUB, "names": ["*"]}]},
            "trust.publishers[0].identity",
            "is missing",
        ),
        (
            {"publishers": [{**LIGHTNING_PUBLISHER, "names": []}]},
            "trust.publishers[0].names",
            "must be a non-empty list",
        ),
        (
            {"publishers": [{**LIGHTNING_PUBLISHER, "names": ["ok", 3]}]},
            "trust.publishers[0].names[1]",
            "must be a non-empty string",
        ),
        (
            {"enterprise": {"acme": {"allowed_publishers": [{**ACME_RELEASE, "sources": ["x"]}]}}},
            "trust.enterprise.acme.allowed_publishers[0].sources",
            "unknown key",
        ),
        ({"enterprise": {"acme": True}}, "trust.enterprise.acme", "must be a table"),
        ({"offline": "yes"}, "trust.offline", "must be true or false"),
        ({"max_root_age_days": 0}, "trust.max_root_age_days", "must be a whole number of days"),
        ({"max_root_age_days": 1.5}, "trust.max_root_age_days", "must be a whole number of days"),
    ],
    ids=[
        "misspelt-key",
        "flag-not-bool",
        "empty-root",
        "publishers-not-list",
        "identity-missing",
        "names-empty",
        "name-not-string",
        "sources-in-enterprise",
        "enterprise-not-table",
        "offline-not-bool",
        "root-age-zero",
        "root-age-fraction",
    ],
)
def test_an_invalid_policy_names_the_key(section: dict[str, Any], key: str, problem: str) -> None:
    with pytest.raises(TrustPolicyError, match=rf"^{re.escape(key)}: {problem}"):
        parse_trust_policy(section)


def test_a_policy_error_names_the_file_and_line_it_came_from(tmp_path: Path) -> None:
    config_file = tmp_path / "extensions.toml"
    config_file.write_text("[trust]\nrequire_signatures = 'no'\n")

    with pytest.raises(TrustPolicyError, match=r"extensions\.toml:2\)$"):
        load_trust_policy(load_config(config_file, environ={}))


def test_a_policy_error_is_both_a_trust_and_a_configuration_error() -> None:
    error = TrustPolicyError("allow_unsigned", "must be true or false")

    assert isinstance(error, TrustError)
    assert isinstance(error, ConfigError)
    assert error.exit_code == ConfigError.exit_code
