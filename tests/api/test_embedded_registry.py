"""EmbeddedRegistry against the session registry (which runs from its own state directory):
``up`` on a running registry applies a layout of our own (user and indexes "apiembed",
used nowhere else) without restarting it; ``status``, ``apply`` (user "apistage") and
``down`` as typed data."""

from __future__ import annotations

from pathlib import Path

import pytest

from anya_plugins import EmbeddedRegistry, RegistryAccount, RegistryState, RegistryUpOptions
from anya_plugins.errors import UsageError
from tests.registry_fixtures import Registry

LAYOUT = """
[users.apiembed]
password_env = "ANYA_TEST_APIEMBED_PASSWORD_UNSET"
[indexes."apiembed/dev"]
volatile = true
"""


def _layout(directory: Path, text: str) -> Path:
    path = directory / "layout.toml"
    path.write_text(text)
    return path


def test_up_on_a_running_registry_applies_the_layout_without_restarting(
    registry: Registry, tmp_path: Path
) -> None:
    options = RegistryUpOptions(layout=_layout(tmp_path, LAYOUT))

    running = EmbeddedRegistry(registry.state_dir).up(options)

    assert (running.url, running.started, running.host, running.unsigned) == (
        registry.url,
        False,
        None,
        (),
    )
    assert running.state_dir == registry.state_dir.resolve()
    assert ("index", "apiembed/dev", "created") in {
        (c.kind, c.name, c.action) for c in running.report.changes
    }
    # The generated password was stored: signing in needs none.
    account = RegistryAccount.sign_in("apiembed/dev", state_dir=registry.state_dir)
    assert (account.url, account.credentials.user) == (registry.url, "apiembed")
    # Idempotent: a second up changes nothing.
    again = EmbeddedRegistry(registry.state_dir).up(options).report.changes
    assert {c.action for c in again} == {"unchanged"}


def test_up_refuses_an_issuer_without_a_publisher_before_anything(tmp_path: Path) -> None:
    options = RegistryUpOptions(issuers=("https://issuer.example",))

    with pytest.raises(UsageError, match="--issuer without --publisher"):
        EmbeddedRegistry(tmp_path / "state").up(options)
    assert not (tmp_path / "state").exists()


def test_status_names_the_node_and_how_clients_use_each_index(registry: Registry) -> None:
    state = EmbeddedRegistry(registry.state_dir).status()

    assert isinstance(state, RegistryState) and state.running
    assert (state.node.url, state.node.pid is not None) == (registry.url, True)
    primary = {c.index: c for c in state.clients}["anya/primary"]
    assert (primary.source, primary.simple_url) == (
        "primary",
        f"{registry.url}/anya/primary/+simple/",
    )
    assert f'url = "{primary.simple_url}"' in primary.toml


def test_a_registry_that_is_not_running(tmp_path: Path) -> None:
    embedded = EmbeddedRegistry(tmp_path / "state")

    state = embedded.status()
    assert (state.running, state.clients) == (False, ())
    assert embedded.down() is False
    with pytest.raises(UsageError, match="not running"):
        embedded.apply(_layout(tmp_path, LAYOUT))


def test_apply_a_layout_as_the_administrator(registry: Registry, tmp_path: Path) -> None:
    layout = _layout(tmp_path, '[users.apistage]\npassword = "x"\n[indexes."apistage/main"]\n')

    report = EmbeddedRegistry(registry.state_dir).apply(layout)

    assert ("index", "apistage/main", "created") in {
        (c.kind, c.name, c.action) for c in report.changes
    }
    again = EmbeddedRegistry.apply_to(registry.url, layout, registry.admin)
    assert {c.action for c in again.changes} == {"unchanged"}
