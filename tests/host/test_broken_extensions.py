"""A good extension keeps working beside five broken ones, each reported for what it is."""

from __future__ import annotations

import json
import textwrap

import pytest

from tests.support import ExtensionBuilder, ExtensionSpec, Venv, VenvFactory

pytestmark = pytest.mark.slow

RAISES_ON_IMPORT = 'raise RuntimeError("broken at import")\n'

RAISES_IN_HOOK = textwrap.dedent(
    """
    from anya_plugins import hookimpl

    ACTIVATED = []

    @hookimpl
    def anya_activate(context):
        ACTIVATED.append(context.name)

    @hookimpl
    def anya_commands():
        raise ValueError("no commands today")
    """
)

FOREIGN_PLATFORM = "macosx_11_0_arm64"


@pytest.fixture(scope="module")
def zoo(build_extension: ExtensionBuilder, make_venv: VenvFactory) -> Venv:
    good = build_extension(
        ExtensionSpec("good", category="core/bitcoin", features=("metrics", "lightning"),
                      default_features=("metrics",))
    )  # fmt: skip
    on_import = build_extension(ExtensionSpec("import-boom", plugin_source=RAISES_ON_IMPORT))
    in_hook = build_extension(ExtensionSpec("hook-boom", plugin_source=RAISES_IN_HOOK))
    bad_metadata = build_extension(
        ExtensionSpec("bad-meta", keywords_edit=("anya-category:community/experimental",
                                                 "anya-category:community/unknown"))
    )  # fmt: skip
    newer_api = build_extension(
        ExtensionSpec("future-api", host_api=("2.0", "3"), plugin_source=RAISES_ON_IMPORT)
    )
    foreign = build_extension(
        ExtensionSpec("mac-only", platform_tag=FOREIGN_PLATFORM, plugin_source=RAISES_ON_IMPORT)
    )
    venv = make_venv(good, on_import, in_hook, bad_metadata, newer_api)
    venv.install_foreign(foreign, FOREIGN_PLATFORM)
    return venv


def _by_name(venv: Venv, *args: str) -> dict[str, dict[str, object]]:
    return {row["name"]: row for row in venv.anya_json("list", *args)}


def test_good_extension_is_active_with_its_category_and_default_feature(zoo: Venv) -> None:
    good = _by_name(zoo)["good"]
    assert good["status"] == "active"
    assert good["category"] == "core/bitcoin"
    assert good["enabled_features"] == ["metrics"]
    assert good["distribution"] == "anya-ext-good"


def test_extension_raising_on_import_is_failed_with_its_traceback(zoo: Venv) -> None:
    broken = _by_name(zoo)["import-boom"]
    assert broken["status"] == "failed"
    assert "RuntimeError: broken at import" in str(broken["error"])
    assert "plugin.py" in str(broken["traceback"])


def test_extension_raising_in_a_hook_is_failed_and_others_still_answer(zoo: Venv) -> None:
    done = zoo.python_code(
        textwrap.dedent(
            """
            import json
            from anya_plugins import Host
            host = Host()
            commands = [c.name for batch in host.call("anya_commands") for c in batch]
            broken = host.get("hook-boom")
            print(json.dumps({"commands": commands, "status": broken.status,
                              "error": broken.error, "failures": len(host.failures)}))
            """
        )
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["commands"] == ["good-greet"]
    assert result["status"] == "failed"
    assert result["error"] == "hook anya_commands: ValueError: no commands today"
    assert result["failures"] == 2  # import-boom at load, hook-boom in the hook


def test_invalid_metadata_names_the_extension_and_the_field(zoo: Venv) -> None:
    bad = _by_name(zoo)["bad-meta"]
    assert bad["status"] == "invalid"
    assert "'bad-meta'" in str(bad["error"])
    assert "Keywords" in str(bad["error"])
    assert "community/unknown" in str(bad["error"])


def test_extension_for_another_platform_is_set_aside_with_the_reason(zoo: Venv) -> None:
    foreign = _by_name(zoo)["mac-only"]
    assert foreign["status"] == "incompatible"  # its code raises on import: never imported
    assert "macos-arm64" in str(foreign["error"])
    assert FOREIGN_PLATFORM in str(foreign["error"])
    assert foreign["platforms"] == ["macos-arm64"]


def test_extension_needing_a_newer_host_api_is_set_aside(zoo: Venv) -> None:
    future = _by_name(zoo)["future-api"]
    assert future["status"] == "incompatible"
    assert future["error"] == "needs host API <3,>=2.0; this host offers 1.0"


def test_extension_command_runs_beside_broken_extensions(zoo: Venv) -> None:
    done = zoo.anya_ext("good-greet", "--who", "anya")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "hello, anya!"
    assert "hook-boom failed" in done.stderr


def test_doctor_fails_and_names_every_problem(zoo: Venv) -> None:
    done = zoo.anya_ext("--json", "doctor")
    assert done.returncode == 1
    report = json.loads(done.stdout)
    failing = {c["subject"] for c in report["checks"] if not c["ok"]}
    assert failing == {
        "extension import-boom",
        "extension bad-meta",
        "extension future-api",
        "extension mac-only",
    }
    passing = {c["subject"]: c["detail"] for c in report["checks"] if c["ok"]}
    assert passing["extension good"].startswith("active, anya-ext-good")


def test_list_table_for_people_shows_each_status(zoo: Venv) -> None:
    done = zoo.anya_ext("list")
    assert done.returncode == 0, done.stderr
    for expected in ("good", "active", "failed", "invalid", "incompatible", "core/bitcoin"):
        assert expected in done.stdout
