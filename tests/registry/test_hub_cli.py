"""``anya-ext review`` and ``anya-ext reviews`` against the running registry's hub."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.registry.hub_support import HUB_INDEX, USERS, HubIndex, set_up_hub
from tests.registry_fixtures import Registry, Upload

pytestmark = pytest.mark.slow

PROJECT = "anya-ext-wombat-beta"


@pytest.fixture(scope="module")
def hub(registry: Registry, upload: Upload, tmp_path_factory: pytest.TempPathFactory) -> HubIndex:
    return set_up_hub(registry, upload, tmp_path_factory.mktemp("hub-wheels"))


def anya(
    hub: HubIndex, tmp_path: Path, *args: str, password: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin",
           "ANYA_CONFIG": str(tmp_path / "extensions.toml")}  # fmt: skip
    if password is not None:
        env["ANYA_PUBLISH_PASSWORD"] = password
    return subprocess.run(
        [sys.executable, "-m", "anya_plugins.cli", *args, "--url", hub.registry.url,
         "--index", HUB_INDEX],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip


def test_review_then_reviews_as_json(hub: HubIndex, tmp_path: Path) -> None:
    wrote = anya(
        hub, tmp_path, "--json", "review", "wombat-beta", "--rating", "2", "--title",
        "Too slow", "--body", "Bumps fees late.", "--user", "carol", password=USERS["carol"],
    )  # fmt: skip
    assert wrote.returncode == 0, wrote.stderr
    written = json.loads(wrote.stdout)
    assert (written["project"], written["review"]["rating"]) == (PROJECT, 2)
    assert written["receipt_from"] is None  # not installed here: no install proof

    listed = anya(hub, tmp_path, "--json", "reviews", "wombat-beta")

    assert listed.returncode == 0, listed.stderr
    document = json.loads(listed.stdout)
    (carols,) = [r for r in document["reviews"] if r["user"] == "carol"]
    assert (carols["title"], carols["verified"]) == ("Too slow", False)
    assert document["overall"]["count"] >= 1


def test_reviews_as_a_table(hub: HubIndex, tmp_path: Path) -> None:
    """As alice: the hub pages' test hides bob's review of this project (an edited review
    keeps its moderation), and every file of a worker shares the session's hub."""
    wrote = anya(hub, tmp_path, "review", "wombat-beta", "--rating", "4", "--title", "Fine",
                 "--user", "alice", password=USERS["alice"])  # fmt: skip
    assert wrote.returncode == 0, wrote.stderr

    shown = anya(hub, tmp_path, "reviews", "wombat-beta")

    assert shown.returncode == 0, shown.stderr
    assert f"{PROJECT}:" in shown.stdout
    assert "Fine" in shown.stdout


def test_a_wrong_password_is_refused_with_its_reason(hub: HubIndex, tmp_path: Path) -> None:
    done = anya(hub, tmp_path, "review", "wombat-beta", "--rating", "5", "--title", "x",
                "--user", "alice", password="wrong")  # fmt: skip

    assert done.returncode != 0
    assert "HTTP 401" in done.stderr
    assert "wrong" not in done.stderr.replace("wrong password", "")


def test_review_without_a_user_is_a_usage_error(hub: HubIndex, tmp_path: Path) -> None:
    done = anya(hub, tmp_path, "review", "wombat-beta", "--rating", "5", "--title", "x")

    assert done.returncode == 2
    assert "sign-in" in done.stderr
