"""CLI conventions that need no extension installed: global options anywhere, JSON errors,
``-v`` wired to logging, plain tables on a pipe, ``NO_COLOR``, ``install --save-config``,
``config set`` of an extension that is not installed, the index's errors explained, and
command modules imported only for the command run."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from anya_plugins.cli.parser import COMMAND_MODULES, build_parser
from anya_plugins.gc_tuning import THRESHOLD as GC_THRESHOLD

CLOSED_PORT_INDEX = "http://127.0.0.1:9/anya/primary/+simple/"
"""A source nobody answers on (port 9, discard): a request to it fails with exit 8."""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("ANYA_", "NO_COLOR"))}
    return {
        **keep,
        "ANYA_CONFIG": str(tmp_path / "extensions.toml"),
        "ANYA_DATA_DIR": str(tmp_path / "data"),
        "ANYA_CACHE_DIR": str(tmp_path / "cache"),
        "ANYA_SOURCES__PRIMARY__URL": CLOSED_PORT_INDEX,
        "ANYA_SOURCES__PRIMARY__MIRRORS": "[]",
    }


def python_code(env: dict[str, str], code: str) -> subprocess.CompletedProcess[str]:
    """``python -c code`` in this interpreter, as a process of its own."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )


def anya(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "anya_plugins.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def json_error(done: subprocess.CompletedProcess[str]) -> dict[str, object]:
    document = json.loads(done.stderr)
    assert set(document) == {"error"}
    error: dict[str, object] = document["error"]
    return error


# --- global options, before or after the command ---------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ("--json", "list", "--no-load"),
        ("list", "--json", "--no-load"),
        ("list", "--no-load", "--json"),
    ],
)
def test_json_is_accepted_before_or_after_the_command(
    env: dict[str, str], argv: tuple[str, ...]
) -> None:
    done = anya(env, *argv)
    assert done.returncode == 0, done.stderr
    assert isinstance(json.loads(done.stdout), list)


def test_a_nested_command_takes_the_global_options_after_its_action(env: dict[str, str]) -> None:
    done = anya(
        env, "config", "get", "sources.max_page_mb", "--config", "sources.max_page_mb=7", "--json"
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "key": "sources.max_page_mb",
        "value": 7,
        "origin": "cli --config",
    }


def test_config_overrides_before_and_after_the_command_add_up(env: dict[str, str]) -> None:
    done = anya(
        env, "--config", "sources.max_page_mb=7", "config", "show", "sources",
        "--config", "sources.read_seconds=9", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    shown = {entry["key"]: entry["value"] for entry in json.loads(done.stdout)}
    assert (shown["sources.max_page_mb"], shown["sources.read_seconds"]) == (7, 9)


def test_verbose_before_and_after_the_command_counts_as_debug(env: dict[str, str]) -> None:
    parser, _commands = build_parser("list")
    from anya_plugins.cli.global_options import merge_late

    args = merge_late(parser.parse_args(["-v", "list", "-v", "--no-load"]))
    assert args.verbose == 2


def test_a_malformed_global_config_after_the_command_is_a_usage_error(env: dict[str, str]) -> None:
    done = anya(env, "list", "--no-load", "--config", "greeting")
    assert done.returncode == 2
    assert "--config 'greeting' has no '='" in done.stderr


# --- errors ---------------------------------------------------------------------------


def test_with_json_a_usage_error_is_json_on_stderr_with_exit_code_and_hint(
    env: dict[str, str],
) -> None:
    done = anya(env, "list", "--json", "--no-such-option")
    assert done.returncode == 2
    assert done.stdout == ""
    error = json_error(done)
    assert error["exit_code"] == 2
    assert error["type"] == "UsageError"
    assert "--no-such-option" in str(error["message"])
    assert error["hint"] == "see 'anya-ext list --help'"


def test_with_json_an_index_error_is_json_on_stderr(env: dict[str, str]) -> None:
    done = anya(env, "--json", "search", "lightning")
    assert done.returncode == 8
    error = json_error(done)
    assert error["exit_code"] == 8
    assert "127.0.0.1:9" in str(error["message"])


def test_an_unknown_category_is_a_usage_error_before_any_request(env: dict[str, str]) -> None:
    done = anya(env, "search", "lightning", "--category", "core/doge")
    assert done.returncode == 2, done.stderr  # 8 if it had asked the (closed) index
    assert "unknown category 'core/doge'" in done.stderr
    assert "core/bitcoin" in done.stderr


def test_an_index_error_body_is_explained_not_shown_as_bytes() -> None:
    from anya_plugins.sources.search import _explained

    assert _explained(b'{"message": "unknown category \'x\' (use one of: core)"}') == (
        "unknown category 'x' (use one of: core)"
    )
    assert _explained(b"<html>\n<body>Bad gateway</body>") == "<html>"
    assert _explained(b"\xff\xfeoops") == "\ufffd\ufffdoops"
    assert _explained(b"") == "(no explanation in the answer)"


def test_an_index_error_cannot_send_escape_sequences_to_the_terminal() -> None:
    from anya_plugins.sources.search import _explained

    in_json = b'{"message": "denied \\u001b]0;pwned\\u0007\\u001b[2J see evil.example"}'
    assert _explained(in_json) == "denied \\x1b]0;pwned\\x07\\x1b[2J see evil.example"
    in_text = b"denied \x1b[31mred\x1b[0m"
    assert _explained(in_text) == "denied \\x1b[31mred\\x1b[0m"


def test_an_unknown_command_is_a_usage_error_listing_the_commands(env: dict[str, str]) -> None:
    done = anya(env, "lisst")
    assert done.returncode == 2
    assert "invalid choice: 'lisst'" in done.stderr


# --- -v and -q ------------------------------------------------------------------------


def test_verbose_logs_which_mirror_was_tried(env: dict[str, str]) -> None:
    quiet = anya(env, "search", "lightning")
    loud = anya(env, "search", "lightning", "-v")
    assert quiet.returncode == loud.returncode == 8
    assert "info: mirror http://127.0.0.1:9/anya/primary/+simple/ does not answer" in loud.stderr
    assert "info:" not in quiet.stderr


def test_very_verbose_names_the_logger(env: dict[str, str]) -> None:
    done = anya(env, "-vv", "search", "lightning")
    assert "info: anya_plugins.sources.mirrors: mirror" in done.stderr


def test_quiet_leaves_the_error(env: dict[str, str]) -> None:
    done = anya(env, "-q", "search", "lightning", "-v")
    assert done.returncode == 8
    assert "info:" not in done.stderr
    assert done.stderr.startswith("error: ")


# --- tables ---------------------------------------------------------------------------


LONG_DIR = "/srv/" + "/".join(f"segment-{n:02d}" for n in range(12)) + "/downloads"


def test_on_a_pipe_a_table_keeps_each_value_whole_on_its_row(env: dict[str, str]) -> None:
    done = anya(
        env, "--config", f"sources.cache.dir={LONG_DIR}", "config", "show", "sources", "--origin"
    )
    assert done.returncode == 0, done.stderr
    (row,) = [line for line in done.stdout.splitlines() if line.startswith("sources.cache.dir ")]
    assert row.split() == ["sources.cache.dir", LONG_DIR, "cli", "--config"]
    assert "\x1b[" not in done.stdout
    assert "│" not in done.stdout


def _on_a_terminal(env: dict[str, str], *args: str) -> str:
    """The CLI's output as a terminal (a pty) receives it."""
    controller, terminal = pty.openpty()
    with subprocess.Popen(
        [sys.executable, "-m", "anya_plugins.cli", *args],
        stdout=terminal,
        stderr=subprocess.PIPE,
        env={**env, "TERM": "xterm-256color", "COLUMNS": "200"},
    ) as process:
        os.close(terminal)
        chunks = []
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        process.wait(timeout=60)
    os.close(controller)
    return b"".join(chunks).decode()


def test_on_a_terminal_a_table_is_styled(env: dict[str, str]) -> None:
    output = _on_a_terminal(env, "config", "show", "sources")
    assert "sources.primary.url" in output
    assert "\x1b[1m" in output  # bold headers: the check below can fail


def test_no_color_removes_all_styling_bold_included(env: dict[str, str]) -> None:
    output = _on_a_terminal({**env, "NO_COLOR": "1"}, "config", "show", "sources")
    assert "sources.primary.url" in output
    assert "\x1b[" not in output


# --- install --save-config and config set ---------------------------------------------


def test_install_save_config_is_checked_before_anything_is_resolved(env: dict[str, str]) -> None:
    done = anya(env, "install", "lightning", "--save-config", "greeting")
    assert done.returncode == 2, done.stderr  # 8 if it had asked the (closed) index
    assert "--save-config 'greeting': expected KEY=VALUE" in done.stderr
    assert "deprecated" not in done.stderr


def test_install_config_is_the_deprecated_spelling_of_save_config(env: dict[str, str]) -> None:
    done = anya(env, "install", "lightning", "--config", "greeting")
    assert done.returncode == 2
    assert "--save-config 'greeting': expected KEY=VALUE" in done.stderr
    assert "warning: --config is deprecated here: it is spelt --save-config" in done.stderr


def test_config_set_refuses_a_section_no_installed_extension_has(
    env: dict[str, str], tmp_path: Path
) -> None:
    done = anya(env, "config", "set", "lightnin.port", "9735")
    assert done.returncode == 5
    assert "no installed extension is called 'lightnin'" in done.stderr
    assert (
        "hint: check the name, or store it anyway: anya-ext config set lightnin.port 9735 --force"
        in done.stderr
    )
    assert not (tmp_path / "extensions.toml").exists()


def test_config_set_force_stores_a_section_for_an_extension_not_installed_yet(
    env: dict[str, str], tmp_path: Path
) -> None:
    done = anya(env, "config", "set", "lightnin.port", "9735", "--force")
    assert done.returncode == 0, done.stderr
    assert "port = 9735" in (tmp_path / "extensions.toml").read_text()


def test_config_set_of_a_host_section_needs_no_force(env: dict[str, str]) -> None:
    assert anya(env, "config", "set", "sources.max_page_mb", "30").returncode == 0


# --- start-up -------------------------------------------------------------------------


def test_a_command_imports_its_own_module_only(env: dict[str, str]) -> None:
    code = (
        "import sys\nfrom anya_plugins.cli.main import main\n"
        "main(['--json', 'list', '--no-load'])\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('anya_plugins.cli.'))\n"
        "print(loaded, file=sys.stderr)"
    )
    done = python_code(env, code)
    loaded = done.stderr.strip().splitlines()[-1]
    assert "anya_plugins.cli.extensions_cmd" in loaded
    for module in ("install_cmd", "registry_cmd", "audit_cmd", "publish_cmd", "search_cmd"):
        assert f"anya_plugins.cli.{module}" not in loaded


def test_only_a_verifying_command_starts_the_verifying_process(env: dict[str, str]) -> None:
    """The console script starts it before its own imports for install, update and sync
    (:func:`anya_plugins.cli.argv.verifies`); any other command never even imports it."""
    code = (
        "import sys\nfrom anya_plugins.cli import console\n"
        "sys.argv[1:] = ['--json', 'list', '--no-load']\ncode = console.main()\n"
        "print(code, 'anya_plugins.trust.verify_process' in sys.modules, file=sys.stderr)"
    )
    done = python_code(env, code)
    assert done.stderr.split()[-2:] == ["0", "False"], done.stderr


def test_the_command_table_is_what_the_modules_register() -> None:
    _parser, every = build_parser(None)
    assert set(every.choices) == set(COMMAND_MODULES)
    for command in COMMAND_MODULES:
        _parser, one = build_parser(command)
        assert set(one.choices) == {command}  # its module's other commands are not built


def test_the_console_script_collects_rarely_and_exits_without_the_last_collections(
    env: dict[str, str],
) -> None:
    """``anya-ext`` raises the collector's threshold before its imports and freezes the heap
    after the command (CPython's exit-time collections walk it whole, 90-150 ms after an
    install); ``main`` for a calling program changes neither."""
    scripts = entry_points(group="console_scripts", name="anya-ext")
    assert [script.value for script in scripts] == ["anya_plugins.cli.console:main"]
    code = (
        "import gc, sys\nfrom anya_plugins.cli import console\n"
        "from anya_plugins.cli.main import main\n"
        "sys.argv[1:] = ['--json', 'list', '--no-load']\n"
        "code = main()\nafter_main = (gc.get_freeze_count(), gc.get_threshold()[0])\n"
        "code += console.main()\n"
        "print(code, *after_main, gc.get_freeze_count() > 0, gc.get_threshold()[0], "
        "file=sys.stderr)"
    )
    done = python_code(env, code)
    assert done.stderr.split() == ["0", "0", "700", "True", str(GC_THRESHOLD)], done.stderr
    assert done.stdout.count("[") == 2  # both listed (an empty list each)
