"""``anya-ext config`` and enable/disable: layers, origins, validation, and files never lost."""

from __future__ import annotations

import pytest

from tests.support import ExtensionBuilder, ExtensionSpec, Venv, VenvFactory

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def venv(build_extension: ExtensionBuilder, make_venv: VenvFactory) -> Venv:
    return make_venv(build_extension(ExtensionSpec("greeter")))


@pytest.fixture(autouse=True)
def fresh_config(venv: Venv) -> None:
    venv.config_file.parent.mkdir(parents=True, exist_ok=True)
    venv.config_file.unlink(missing_ok=True)


def _greet(venv: Venv, *global_args: str, **env: str) -> str:
    done = venv.anya_ext(*global_args, "greeter-greet", **env)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_schema_default_applies_when_nothing_is_set(venv: Venv) -> None:
    assert _greet(venv) == "hello, world!"


def test_file_then_environment_then_command_line_win_in_turn(venv: Venv) -> None:
    assert venv.anya_ext("config", "set", "greeter.greeting", "gm").returncode == 0
    assert _greet(venv) == "gm, world!"
    assert _greet(venv, ANYA_GREETER__GREETING="ahoy") == "ahoy, world!"
    assert _greet(venv, "--config", "greeter.greeting=hey", ANYA_GREETER__GREETING="ahoy") == (
        "hey, world!"
    )


def test_origin_names_the_layer_the_value_came_from(venv: Venv) -> None:
    venv.anya_ext("config", "set", "greeter.greeting", "gm")
    from_file = venv.anya_ext("config", "get", "--origin", "greeter.greeting")
    assert from_file.stdout.startswith("gm")
    assert f"file {venv.config_file}:2" in from_file.stdout
    from_env = venv.anya_json("config", "get", "greeter.greeting", ANYA_GREETER__GREETING="x")
    assert from_env == {
        "key": "greeter.greeting",
        "value": "x",
        "origin": "env ANYA_GREETER__GREETING",
    }
    shown = venv.anya_json("--config", "greeter.verbose=true", "config", "show")
    assert {"key": "greeter.verbose", "value": True, "origin": "cli --config"} in shown


def test_value_of_the_wrong_type_is_refused_and_the_file_kept(venv: Venv) -> None:
    venv.config_file.write_text('# mine\n[greeter]\ngreeting = "gm"  # keep me\n')
    before = venv.config_file.read_bytes()
    done = venv.anya_ext("config", "set", "greeter.verbose", "loud")
    assert done.returncode == 4
    assert "greeter.verbose" in done.stderr or "verbose" in done.stderr
    assert venv.config_file.read_bytes() == before


def test_unknown_key_is_refused_by_the_extension_schema(venv: Venv) -> None:
    done = venv.anya_ext("config", "set", "greeter.colour", "red")
    assert done.returncode == 4
    assert "colour" in done.stderr
    assert not venv.config_file.exists() or "colour" not in venv.config_file.read_text()


def test_set_and_unset_keep_the_users_comments(venv: Venv) -> None:
    venv.config_file.write_text('# mine\n[greeter]\ngreeting = "gm"  # keep me\n')
    assert venv.anya_ext("config", "set", "greeter.verbose", "true").returncode == 0
    assert venv.anya_ext("config", "unset", "greeter.greeting").returncode == 0
    text = venv.config_file.read_text()
    assert "# mine" in text
    assert "verbose = true" in text
    assert "greeting" not in text


def test_bad_value_in_the_file_fails_the_extension_with_file_line_and_key(venv: Venv) -> None:
    venv.config_file.write_text('[greeter]\n\nverbose = "very"\n')
    row = {r["name"]: r for r in venv.anya_json("list")}["greeter"]
    assert row["status"] == "failed"
    assert f"{venv.config_file}:3" in row["error"]
    assert "verbose" in row["error"]


def test_broken_toml_is_a_clear_error_and_nothing_is_written(venv: Venv) -> None:
    venv.config_file.write_text('[greeter]\ngreeting = "unterminated\n')
    before = venv.config_file.read_bytes()
    listing = venv.anya_ext("list")
    assert listing.returncode == 4
    assert f"{venv.config_file}:2" in listing.stderr
    setting = venv.anya_ext("config", "set", "greeter.greeting", "gm")
    assert setting.returncode == 4
    assert venv.config_file.read_bytes() == before


def test_disable_then_enable_round_trip(venv: Venv) -> None:
    assert venv.anya_json("disable", "greeter")["changed"] is True
    assert venv.anya_json("disable", "greeter")["changed"] is False
    assert {r["name"]: r["status"] for r in venv.anya_json("list")} == {"greeter": "disabled"}
    assert venv.anya_ext("greeter-greet").returncode == 2  # its command is gone with it
    assert venv.anya_json("enable", "greeter")["changed"] is True
    assert {r["name"]: r["status"] for r in venv.anya_json("list")} == {"greeter": "active"}


def test_unknown_extension_is_a_clear_error(venv: Venv) -> None:
    done = venv.anya_ext("info", "nope")
    assert done.returncode == 5
    assert "no extension named 'nope'" in done.stderr
    assert "greeter" in done.stderr


def test_set_does_not_echo_the_password_of_a_source_url(venv: Venv) -> None:
    url = "http://acme:s3cret@127.0.0.1:3141/acme/private/+simple/"
    for args in ((), ("--json",)):
        done = venv.anya_ext(*args, "config", "set", "sources.primary.url", url)
        assert done.returncode == 0, done.stderr
        assert "s3cret" not in done.stdout + done.stderr
        assert "acme:****@127.0.0.1" in done.stdout
    assert url in venv.config_file.read_text()
