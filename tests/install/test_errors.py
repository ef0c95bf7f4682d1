"""Errors that say what happened: unknown features, a missing dependency, an index the
resolver cannot reach, a malformed ``--config``, and Ctrl-C during an install.

Every test runs the real CLI (or the real resolver adapters) against the session's devpi
and throwaway venvs; the ones that must fail also show the environment is unchanged.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from anya_plugins.install.resolver import (
    PipResolver,
    RequirementNotFound,
    Resolution,
    ResolutionConflict,
    Resolver,
    ResolveRequest,
    ResolverUnreachable,
    UvResolver,
)
from tests.registry_fixtures import Registry, Upload
from tests.support import (
    ExtensionBuilder,
    ExtensionSpec,
    Venv,
    VenvFactory,
    installing_unsigned_from,
    uv,
)

pytestmark = pytest.mark.slow

DEAD_URL = "http://127.0.0.1:9/anya/primary/+simple/"
MISSING_DEPENDENCY = "anya-ext-never-published"
PATIENCE = 300
"""Seconds an install may take to reach a step (the suite shares a loaded machine)."""


def _core(name: str, version: str = "1.0.0", **extra: Any) -> ExtensionSpec:
    return ExtensionSpec(name, category="core/bitcoin", version=version, **extra)


@pytest.fixture(scope="module")
def published(registry: Registry, upload: Upload, build_extension: ExtensionBuilder) -> Registry:
    """The extensions these tests need, uploaded once (names apart from other modules')."""
    specs = [
        # Features that switch on code only (no requirements), one default; the template
        # adds "full", which switches on both.
        _core("flagged", features=("metrics", "tor"), default_features=("metrics",)),
        _core("orphaned", dependencies=(f"{MISSING_DEPENDENCY}>=1",)),
        *(_core("pivot", v) for v in ("1.0.0", "2.0.0")),
        _core("older-side", dependencies=("anya-ext-pivot<2",)),
        _core("newer-side", dependencies=("anya-ext-pivot>=2",)),
        _core("weighty", bulk_modules=1500),
    ]
    for spec in specs:
        done = upload("anya/primary", build_extension(spec), user="anya")
        assert done.returncode == 0, done.stdout + done.stderr
    return registry


@pytest.fixture
def venv(published: Registry, make_venv: VenvFactory, tmp_path: Path) -> Venv:
    return installing_unsigned_from(make_venv(), published, tmp_path / "cache")


def _listed(venv: Venv, name: str) -> dict[str, Any]:
    (row,) = [row for row in venv.anya_json("list") if row["name"] == name]
    return row  # type: ignore[no-any-return]


# --- features -------------------------------------------------------------------------


def test_an_unknown_feature_is_a_usage_error_naming_the_declared_ones(venv: Venv) -> None:
    before = venv.freeze()
    done = venv.anya_ext("install", "flagged[nonexistent]")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "anya-ext-flagged has no feature nonexistent" in done.stderr
    assert "the features it declares: full, metrics, tor" in done.stderr
    assert "nothing to do" not in done.stdout
    assert venv.freeze() == before


def test_an_unknown_feature_is_refused_when_the_extension_is_already_installed(
    venv: Venv,
) -> None:
    assert venv.anya_ext("install", "flagged").returncode == 0
    before = venv.freeze()
    done = venv.anya_ext("install", "flagged[tor,nonexistent,bogus]")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "anya-ext-flagged has no feature bogus, nonexistent" in done.stderr
    assert "the features it declares: full, metrics, tor" in done.stderr
    assert venv.freeze() == before


def test_list_and_info_show_the_features_installed_with_not_the_defaults(venv: Venv) -> None:
    assert venv.anya_ext("install", "flagged[tor]").returncode == 0
    assert _listed(venv, "flagged")["enabled_features"] == ["tor"]
    info = venv.anya_json("info", "flagged")
    assert {f["name"]: f["enabled"] for f in info["features"]} == {
        "full": False,
        "metrics": False,
        "tor": True,
    }
    table = venv.anya_ext("list")
    (row,) = [line.split() for line in table.stdout.splitlines() if "flagged" in line.split()]
    assert "tor" in row
    assert "metrics" not in row


def test_an_extension_installed_without_features_shows_its_defaults(venv: Venv) -> None:
    assert venv.anya_ext("install", "flagged").returncode == 0
    assert _listed(venv, "flagged")["enabled_features"] == ["metrics"]


def test_a_feature_added_to_an_installed_extension_is_recorded(venv: Venv) -> None:
    """``install x`` then ``install x[tor]``: nothing to download for x itself, but its
    receipt (and so ``list``) gains the feature and keeps the one it had."""
    assert venv.anya_ext("install", "flagged").returncode == 0
    assert venv.anya_ext("install", "flagged[tor]").returncode == 0
    assert sorted(_listed(venv, "flagged")["enabled_features"]) == ["metrics", "tor"]


# --- resolution errors ----------------------------------------------------------------


@pytest.mark.parametrize("columns", ["", "80"])
def test_a_dependency_missing_from_the_index_is_not_found(venv: Venv, columns: str) -> None:
    """Whatever the terminal's width: uv wraps its explanation at COLUMNS (80 breaks
    "not found in the package registry" across two lines)."""
    before = venv.freeze()
    done = venv.anya_ext("install", "orphaned", COLUMNS=columns)
    assert done.returncode == 8, done.stdout + done.stderr
    assert MISSING_DEPENDENCY in done.stderr
    assert "not found" in done.stderr or "is not on the index" in done.stderr
    assert "relax a version range" not in done.stderr
    assert venv.freeze() == before


def test_conflicting_ranges_are_still_a_conflict(venv: Venv) -> None:
    done = venv.anya_ext("install", "older-side", "newer-side")
    assert done.returncode == 9, done.stdout + done.stderr
    assert "cannot be installed together" in done.stderr


@pytest.fixture(params=["uv", "pip"])
def resolver(request: pytest.FixtureRequest) -> Resolver:
    """The real adapters, each driving its real tool."""
    return UvResolver(uv()) if request.param == "uv" else PipResolver()


Resolve = Callable[..., Resolution]


@pytest.fixture
def resolve(
    resolver: Resolver, venv: Venv, published: Registry, monkeypatch: pytest.MonkeyPatch
) -> Resolve:
    """Resolve requirements for ``venv`` against anya/primary (or ``url``), on an 80-column
    terminal: uv wraps its explanations at that width, anywhere in a sentence."""
    monkeypatch.setenv("COLUMNS", "80")
    primary = f"{published.url}/anya/primary/+simple/"

    def run(*requirements: str, url: str = primary) -> Resolution:
        return resolver.resolve(ResolveRequest(requirements, index_url=url, python=venv.python))

    return run


def test_the_resolver_says_a_dependency_is_not_found(resolve: Resolve) -> None:
    with pytest.raises(RequirementNotFound) as raised:
        resolve("anya-ext-orphaned")
    assert raised.value.projects == (MISSING_DEPENDENCY,)
    assert raised.value.exit_code == 8
    assert raised.value.message.startswith(f"not found on the index: {MISSING_DEPENDENCY}")


def test_the_resolver_says_a_requested_name_is_not_found(resolve: Resolve) -> None:
    with pytest.raises(RequirementNotFound) as raised:
        resolve("anya-ext-no-such-extension")
    assert raised.value.projects == ("anya-ext-no-such-extension",)


def test_the_resolver_says_a_version_conflict_is_a_conflict(resolve: Resolve) -> None:
    with pytest.raises(ResolutionConflict) as raised:
        resolve("anya-ext-older-side", "anya-ext-newer-side")
    assert raised.value.exit_code == 9
    assert "anya-ext-pivot" in raised.value.message


def test_an_index_the_resolver_cannot_reach_is_a_source_error(resolve: Resolve) -> None:
    with pytest.raises(ResolverUnreachable) as raised:
        resolve("anya-ext-flagged", url=DEAD_URL)
    assert raised.value.exit_code == 8
    assert "could not reach the index" in raised.value.message
    assert "Connection refused" in raised.value.message


# --- --config -------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [("--config", "greeting"), ("--config=greeting",)])
@pytest.mark.parametrize("command", ["list", "weighty-greet"])
def test_a_config_override_without_equals_is_a_usage_error_before_anything_loads(
    venv: Venv, argv: tuple[str, ...], command: str
) -> None:
    assert venv.anya_ext("install", "weighty").returncode == 0
    done = venv.anya_ext(*argv, command)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "--config 'greeting' has no '='" in done.stderr
    assert "Traceback" not in done.stderr
    assert "failed" not in done.stderr  # no extension was loaded, so none failed
    assert done.stdout == ""


@pytest.mark.parametrize("value", ["greeting", "=gm"])
def test_an_install_config_value_without_a_key_is_refused_before_installing(
    venv: Venv, value: str
) -> None:
    before = venv.freeze()
    done = venv.anya_ext("install", "weighty", "--save-config", value)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"--save-config {value!r}: expected KEY=VALUE" in done.stderr
    assert venv.freeze() == before


# --- Ctrl-C ---------------------------------------------------------------------------


def _children(pid: int) -> list[str]:
    """The command lines of ``pid``'s child processes."""
    lines = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            try:
                cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            except OSError:
                continue
            lines.append(cmdline.replace(b"\0", b" ").decode(errors="replace"))
    return lines


def _start_install(venv: Venv, *specs: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(venv.path / "bin" / "anya-ext"), "install", *specs],
        env=venv.env(),
        cwd=venv.home,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(condition: Any, process: subprocess.Popen[str], what: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    if not condition():
        process.kill()
        pytest.fail(f"{what} was never seen (exit {process.wait()})")


def test_ctrl_c_while_resolving_says_nothing_changed(venv: Venv) -> None:
    before = venv.freeze()
    process = _start_install(venv, "weighty")
    _wait_for(
        lambda: any("--dry-run" in line for line in _children(process.pid)),
        process,
        "the resolver",
    )
    os.kill(process.pid, signal.SIGINT)
    stdout, stderr = process.communicate(timeout=PATIENCE)
    assert process.returncode == 130, stdout + stderr
    assert "interrupted before anything was installed: nothing changed" in stderr
    assert "KeyboardInterrupt" not in stderr
    assert venv.freeze() == before


def test_ctrl_c_during_the_install_step_rolls_back_and_says_so(venv: Venv) -> None:
    before = venv.freeze()
    journal = venv.path / ".anya-install-journal" / "journal.json"
    process = _start_install(venv, "weighty")
    _wait_for(journal.exists, process, "the install step")
    os.kill(process.pid, signal.SIGINT)
    stdout, stderr = process.communicate(timeout=PATIENCE)
    assert process.returncode == 130, stdout + stderr
    assert "interrupted during the install step: rolled back" in stderr
    assert "nothing changed" in stderr
    assert "Traceback" not in stderr
    assert venv.freeze() == before
    assert not journal.exists()


def test_ctrl_c_once_the_receipt_is_written_takes_it_back_too(venv: Venv) -> None:
    """The receipts are written while the installer runs (1,500 modules: long after the
    receipt is there), inside the same all-or-nothing step."""
    before = venv.freeze()
    receipts = venv.path / ".anya-receipts"
    process = _start_install(venv, "weighty")
    _wait_for(lambda: any(receipts.glob("*weighty.json")), process, "the receipt")
    os.kill(process.pid, signal.SIGINT)
    stdout, stderr = process.communicate(timeout=PATIENCE)
    assert process.returncode == 130, stdout + stderr
    assert "interrupted during the install step: rolled back" in stderr
    assert venv.freeze() == before
    assert not list(receipts.glob("*weighty*"))


def test_ctrl_c_after_the_install_committed_lets_it_finish_and_reports_it(venv: Venv) -> None:
    """The interrupt lands as soon as the journal is gone (the step committed): the command
    finishes what follows — the audit log entry, the report — and exits 0."""
    journal = venv.path / ".anya-install-journal" / "journal.json"
    process = _start_install(venv, "weighty")
    _wait_for(journal.exists, process, "the install step")
    _wait_for(lambda: not journal.exists(), process, "the end of the install step")
    os.kill(process.pid, signal.SIGINT)
    stdout, stderr = process.communicate(timeout=PATIENCE)
    assert process.returncode == 0, stdout + stderr
    assert "anya-ext-weighty" in stdout
    assert "KeyboardInterrupt" not in stderr
    assert venv.freeze()["anya-ext-weighty"] == "1.0.0"
    entries = [json.loads(line) for line in (venv.home / "data" / "audit.jsonl").open()]
    assert any(
        entry.get("action") == "install" and "anya-ext-weighty" in json.dumps(entry)
        for entry in entries
    ), entries
