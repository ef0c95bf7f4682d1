"""Extensions' commands in the CLI: one that is disabled says so, a failing extension is one
line on other commands (its traceback with -v and in doctor), and shell completion offers
the installed extensions' commands."""

from __future__ import annotations

import json
import subprocess
import textwrap
from collections.abc import Iterator

import pytest

from tests.support import ExtensionBuilder, ExtensionSpec, Venv, VenvFactory

pytestmark = pytest.mark.slow

RAISES_ON_IMPORT = 'raise RuntimeError("broken at import")\n'

OFF_PREFIX_COMMAND = textwrap.dedent(
    """
    from anya_plugins import Command, hookimpl

    @hookimpl
    def anya_commands():
        return [Command(name="sweep", help="a command not named after its extension",
                        run=lambda args: print("swept"))]
    """
)


@pytest.fixture(scope="module")
def venv(build_extension: ExtensionBuilder, make_venv: VenvFactory) -> Venv:
    chatty = build_extension(ExtensionSpec("chatty"))
    boom = build_extension(ExtensionSpec("kaboom", plugin_source=RAISES_ON_IMPORT))
    broom = build_extension(ExtensionSpec("broom", plugin_source=OFF_PREFIX_COMMAND))
    return make_venv(chatty, boom, broom)


@pytest.fixture
def chatty_disabled(venv: Venv) -> Iterator[None]:
    assert venv.anya_ext("disable", "chatty").returncode == 0
    yield
    assert venv.anya_ext("enable", "chatty").returncode == 0


# --- a disabled extension's command ----------------------------------------------------


@pytest.mark.usefixtures("chatty_disabled")
def test_the_command_of_a_disabled_extension_says_it_is_disabled(venv: Venv) -> None:
    done = venv.anya_ext("chatty-greet", "--who", "you")
    assert done.returncode == 2
    assert "error: 'chatty-greet' is a command of the extension chatty, which is disabled" in (
        done.stderr
    )
    assert "hint: anya-ext enable chatty" in done.stderr
    assert "invalid choice" not in done.stderr


@pytest.mark.usefixtures("chatty_disabled")
def test_with_json_the_disabled_extension_error_is_json(venv: Venv) -> None:
    done = venv.anya_ext("chatty-greet", "--json")
    error = json.loads(done.stderr.splitlines()[-1])["error"]
    assert error["exit_code"] == 2
    assert error["hint"] == "anya-ext enable chatty"


def test_a_command_not_named_after_its_extension_is_known_once_it_was_seen(venv: Venv) -> None:
    assert venv.anya_ext("sweep").stdout.strip() == "swept"  # seen active: remembered
    assert venv.anya_ext("disable", "broom").returncode == 0
    try:
        done = venv.anya_ext("sweep")
    finally:
        assert venv.anya_ext("enable", "broom").returncode == 0
    assert done.returncode == 2
    assert "'sweep' is a command of the extension broom, which is disabled" in done.stderr


def test_the_command_of_a_failed_extension_says_why_it_is_missing(venv: Venv) -> None:
    done = venv.anya_ext("kaboom-greet")
    assert done.returncode == 2
    assert "'kaboom-greet' is a command of the extension kaboom, which is failed" in done.stderr
    assert "RuntimeError: broken at import" in done.stderr
    assert "hint: anya-ext doctor" in done.stderr


def test_the_command_of_an_enabled_extension_runs(venv: Venv) -> None:
    done = venv.anya_ext("chatty-greet", "--who", "you")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "hello, you!"


# --- a failing extension on other commands --------------------------------------------


def test_a_failing_extension_is_one_line_on_an_unrelated_command(venv: Venv) -> None:
    done = venv.anya_ext("chatty-greet")
    assert done.returncode == 0, done.stderr
    failures = [line for line in done.stderr.splitlines() if "kaboom" in line]
    assert failures == ["extension kaboom failed (load: RuntimeError: broken at import)"], (
        done.stderr
    )
    assert "Traceback" not in done.stderr


def test_verbose_shows_the_failing_extensions_traceback(venv: Venv) -> None:
    done = venv.anya_ext("-v", "chatty-greet")
    assert done.returncode == 0, done.stderr
    assert "warning: extension kaboom failed (load: RuntimeError: broken at import)" in (
        done.stderr
    )
    assert "info: extension kaboom failed:" in done.stderr
    assert 'raise RuntimeError("broken at import")' in done.stderr


def test_doctor_shows_the_failing_extensions_traceback(venv: Venv) -> None:
    done = venv.anya_ext("doctor")
    assert done.returncode == 1
    assert 'raise RuntimeError("broken at import")' in done.stdout


def test_quiet_leaves_out_the_failing_extensions_warning(venv: Venv) -> None:
    done = venv.anya_ext("chatty-greet", "-q")
    assert done.returncode == 0
    assert done.stdout.strip() == "hello, world!"
    assert "kaboom" not in done.stderr


# --- completion -------------------------------------------------------------------------


def _bash_completions(venv: Venv, line: str) -> list[str]:
    """What bash offers after ``line`` once ``anya-ext completion bash`` is sourced."""
    script = (
        "source <(anya-ext completion bash)\n"
        f'COMP_LINE="{line}"; COMP_POINT=${{#COMP_LINE}}\n'
        'read -ra COMP_WORDS <<< "$COMP_LINE"; COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))\n'
        '_python_argcomplete anya-ext "${COMP_WORDS[-1]}" "${COMP_WORDS[-2]}" 2>/dev/null\n'
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    done = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, env=venv.env(), check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_bash_completes_built_in_commands(venv: Venv) -> None:
    assert set(_bash_completions(venv, "anya-ext con")) == {"config"}
    assert "audit-log" in _bash_completions(venv, "anya-ext aud")


def test_bash_completes_an_installed_extensions_command(venv: Venv) -> None:
    assert _bash_completions(venv, "anya-ext chat") == ["chatty-greet"]


def test_bash_completes_a_commands_options_including_the_global_ones(venv: Venv) -> None:
    offered = _bash_completions(venv, "anya-ext list --")
    assert {"--no-load", "--json", "--verbose", "--config"} <= set(offered)


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_a_script_for_each_shell(venv: Venv, shell: str) -> None:
    done = venv.anya_ext("completion", shell)
    assert done.returncode == 0, done.stderr
    assert "_ARGCOMPLETE" in done.stdout
    assert "anya-ext" in done.stdout
