"""``anya-ext trust add-publisher``: a publisher written to the user file, comments kept, read
back by the same policy loader install uses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from anya_plugins.config.layers import load_config
from anya_plugins.errors import ConfigError
from anya_plugins.trust.policy import Publisher, TrustPolicy, load_trust_policy
from anya_plugins.trust.publisher_config import add_publisher

ISSUER = "https://token.actions.githubusercontent.com"
IDENTITY = "https://github.com/anya-org/ln/.github/workflows/release.yml@refs/tags/*"
COMMENTED = """\
# my Anya settings
[trust]
offline = false  # keep refreshing the root

[trust.enterprise.acme]
require_signatures = true  # ACME signs everything
"""


def _policy(path: Path) -> TrustPolicy:
    return load_trust_policy(load_config(path, environ={}))


def test_a_publisher_is_added_to_trust_publishers_and_the_comments_stay(tmp_path: Path) -> None:
    path = tmp_path / "extensions.toml"
    path.write_text(COMMENTED)

    done = add_publisher(path, IDENTITY, ISSUER, ["anya-ext-ln*"])

    assert done.added and done.key == "trust.publishers"
    text = path.read_text()
    assert text.startswith(COMMENTED)
    assert "[[trust.publishers]]" in text
    publisher = Publisher(IDENTITY, ISSUER, ("anya-ext-ln*",))
    policy = _policy(path)
    assert policy.publishers == (publisher,)
    assert policy.publishers_for("anya-ext-lnd", "primary") == (publisher,)
    assert policy.publishers_for("anya-ext-other", "primary") == ()


def test_a_second_publisher_is_appended_and_an_identical_one_is_not(tmp_path: Path) -> None:
    path = tmp_path / "extensions.toml"
    add_publisher(path, "a@anya.example", ISSUER, ["anya-ext-a"], sources=["primary"])
    add_publisher(path, "b@anya.example", ISSUER, ["anya-ext-b", "anya-ext-c"])
    before = path.read_text()

    again = add_publisher(path, "b@anya.example", ISSUER, ["anya-ext-b", "anya-ext-c"])

    assert not again.added
    assert path.read_text() == before
    policy = _policy(path)
    assert [p.identity for p in policy.publishers] == ["a@anya.example", "b@anya.example"]
    assert policy.publishers[0].sources == ("primary",)
    assert policy.publishers_for("anya-ext-a", "community") == ()


def test_with_an_org_it_becomes_that_organisations_only_publisher(tmp_path: Path) -> None:
    path = tmp_path / "extensions.toml"
    path.write_text(COMMENTED)
    add_publisher(path, "release@anya.example", ISSUER, ["*"])

    done = add_publisher(
        path, "release@acme.example", "https://idp.acme.example", ["*"], org="acme"
    )

    assert done.key == "trust.enterprise.acme.allowed_publishers"
    assert "require_signatures = true  # ACME signs everything" in path.read_text()
    policy = _policy(path)
    acme = Publisher("release@acme.example", "https://idp.acme.example", ("*",))
    assert policy.rules_for("enterprise.acme").publishers == (acme,)
    assert policy.rules_for("enterprise.acme").require_signatures
    assert [p.identity for p in policy.rules_for("primary").publishers] == ["release@anya.example"]


@pytest.mark.parametrize(
    ("issuer", "names", "kwargs"),
    [
        ("idp.acme.example", ["*"], {}),
        (ISSUER, [], {}),
        (ISSUER, ["*"], {"org": "acme", "sources": ["primary"]}),
    ],
)
def test_a_bad_publisher_is_refused_and_the_file_left_alone(
    tmp_path: Path, issuer: str, names: list[str], kwargs: dict[str, object]
) -> None:
    path = tmp_path / "extensions.toml"
    path.write_text(COMMENTED)

    with pytest.raises(ConfigError):
        add_publisher(path, IDENTITY, issuer, names, **kwargs)  # type: ignore[arg-type]

    assert path.read_text() == COMMENTED


def test_a_file_that_is_not_toml_is_never_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "extensions.toml"
    path.write_text("[trust\n")

    with pytest.raises(ConfigError):
        add_publisher(path, IDENTITY, ISSUER, ["*"])

    assert path.read_text() == "[trust\n"


def test_the_command_writes_the_users_file(tmp_path: Path) -> None:
    path = tmp_path / "extensions.toml"
    env = {**os.environ, "ANYA_CONFIG": str(path)}

    done = subprocess.run(
        [str(Path(sys.executable).parent / "anya-ext"), "--json", "trust", "add-publisher",
         IDENTITY, "--issuer", ISSUER, "--names", "anya-ext-ln*", "--names", "anya-ext-x"],
        capture_output=True, text=True, env=env, check=False, timeout=60,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["added"] is True
    policy = _policy(path)
    assert policy.publishers == (Publisher(IDENTITY, ISSUER, ("anya-ext-ln*", "anya-ext-x")),)
