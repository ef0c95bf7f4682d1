"""Installer, RegistryClient and Resolver: typed calls against the real registry, installing
into a throwaway venv, with a configuration built in code."""

from __future__ import annotations

from pathlib import Path

import pytest

from anya_plugins import (
    Installer,
    InstallOptions,
    RegistryClient,
    ResolutionStrategy,
    Resolver,
)
from anya_plugins.registry.search import InvalidQuery
from anya_plugins.trust.errors import VerificationFailed
from tests.api.conftest import RELEASER, ApiIndex
from tests.support import Venv, VenvFactory

pytestmark = pytest.mark.slow  # installs into real venvs from the session registry


@pytest.fixture
def venv(make_venv: VenvFactory) -> Venv:
    return make_venv()


def test_install_reports_what_went_where_from_which_source_verified_by_whom(
    api_index: ApiIndex, venv: Venv, tmp_path: Path
) -> None:
    installer = Installer(api_index.configuration(tmp_path), python=venv.python)

    report = installer.install(["api-wallet@^1.0"])

    (change,) = report.changes
    assert (change.name, change.old_version, change.new_version) == (
        "anya-ext-api-wallet", None, "1.1.0",
    )  # fmt: skip
    assert report.prefix == venv.path.resolve() or report.prefix == venv.path
    assert change.source == "primary"
    assert change.verification is not None
    assert (change.verification.identity, change.verification.how) == (RELEASER, "attestation")
    assert change.verification.issuer == api_index.sigstore.issuer_url
    assert venv.freeze()["anya-ext-api-wallet"] == "1.1.0"


def test_install_options_are_typed_fields_dry_run_changes_nothing(
    api_index: ApiIndex, venv: Venv, tmp_path: Path
) -> None:
    installer = Installer(api_index.configuration(tmp_path), python=venv.python)

    report = installer.install(["api-wallet@1.0.0"], InstallOptions(dry_run=True))

    assert report.dry_run and [c.new_version for c in report.changes] == ["1.0.0"]
    assert "anya-ext-api-wallet" not in venv.freeze()


def test_a_signer_outside_the_configured_policy_is_refused(
    api_index: ApiIndex, venv: Venv, tmp_path: Path
) -> None:
    configuration = api_index.configuration(tmp_path)
    other = configuration.with_values(
        {"trust.publishers": [{"identity": "someone@else.example",
                               "issuer": api_index.sigstore.issuer_url,
                               "names": ["anya-ext-*"]}]}
    )  # fmt: skip

    with pytest.raises(VerificationFailed):
        Installer(other, python=venv.python).install(["api-wallet"])
    assert "anya-ext-api-wallet" not in venv.freeze()


def test_update_outdated_uninstall(api_index: ApiIndex, venv: Venv, tmp_path: Path) -> None:
    installer = Installer(api_index.configuration(tmp_path), python=venv.python)
    installer.install(["api-wallet@1.0.0"])

    (outdated,) = installer.outdated()
    assert (outdated.name, outdated.installed, outdated.latest) == (
        "anya-ext-api-wallet", "1.0.0", "1.1.0",
    )  # fmt: skip
    updated = installer.update(["api-wallet"])
    assert [(c.old_version, c.new_version) for c in updated.changes] == [("1.0.0", "1.1.0")]
    assert installer.uninstall(["api-wallet"]).removed == ("anya-ext-api-wallet",)
    assert "anya-ext-api-wallet" not in venv.freeze()


def test_extension_config_is_stored_in_the_configurations_file(
    api_index: ApiIndex, venv: Venv, tmp_path: Path
) -> None:
    config_file = tmp_path / "extensions.toml"
    configuration = api_index.configuration(tmp_path)
    configuration = type(configuration)(file=config_file, values=configuration.values)

    Installer(configuration, python=venv.python).install(
        ["api-wallet"], InstallOptions(extension_config=("network=signet",))
    )

    assert configuration.extension("api-wallet") == {"network": "signet"}


def test_registry_search_filters_by_category_and_reads_info(
    api_index: ApiIndex, tmp_path: Path
) -> None:
    client = RegistryClient(api_index.configuration(tmp_path))

    hits = client.search("api", category="core/bitcoin")

    assert [h.name for h in hits] == ["anya-ext-api-wallet"]
    assert {h.name for h in client.search("api", category="core")} >= {
        "anya-ext-api-wallet", "anya-ext-api-shared",
    }  # fmt: skip
    info = client.info("api-wallet")
    assert (info.latest, info.versions) == ("1.1.0", ("1.0.0", "1.1.0"))
    assert info.category == "core/bitcoin"


def test_an_unknown_category_is_refused_before_any_request(tmp_path: Path) -> None:
    from anya_plugins import Configuration

    dead = Configuration(values={"sources.primary.url": "http://127.0.0.1:9/x/+simple/"})
    with pytest.raises(InvalidQuery, match="unknown category"):
        RegistryClient(dead).search("wallet", category="core/nope")


def test_resolver_returns_a_conflict_as_data(
    api_index: ApiIndex, venv: Venv, tmp_path: Path
) -> None:
    resolver = Resolver(api_index.configuration(tmp_path), python=venv.python)

    resolution = resolver.resolve(["api-left", "api-right"])

    assert not resolution.ok and resolution.conflict is not None
    assert "api-shared" in resolution.conflict.explanation
    assert resolution.changes == ()


def test_resolver_strategy_keeps_installed_or_takes_the_newest(
    api_index: ApiIndex, venv: Venv, tmp_path: Path
) -> None:
    configuration = api_index.configuration(tmp_path)
    Installer(configuration, python=venv.python).install(["api-wallet@1.0.0"])

    kept = Resolver(configuration, python=venv.python).resolve(["api-wallet"])
    newest = Resolver(
        configuration, python=venv.python, strategy=ResolutionStrategy.NEWEST
    ).resolve(["api-wallet"])

    assert kept.ok and kept.changes == ()
    assert [c.new_version for c in newest.changes] == ["1.1.0"]
    assert venv.freeze()["anya-ext-api-wallet"] == "1.0.0"
