"""The install's own signed-in download carries the registry's download receipt into the
install receipt, and ``anya-ext review`` proves the install with it, without fetching the file
again; a receipt issued to someone else is replaced by one fetched for the reviewer."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path

import pytest

from anya_plugins.install.environment import TargetEnvironment
from anya_plugins.install.receipts import Receipt, read_receipts, write_receipt
from anya_plugins.sources.download_receipt import receipt_payload, receipt_user
from tests.registry.hub_support import HUB_INDEX, USERS, HubIndex
from tests.registry.test_hub_collections import hub  # noqa: F401  (the fixture)
from tests.registry_fixtures import Registry
from tests.support import Venv, VenvFactory

pytestmark = pytest.mark.slow

PROJECT = "anya-ext-koala-leaf"


def signed_in_venv(make_venv: VenvFactory, registry: Registry, cache: Path, user: str) -> Venv:
    """A venv whose primary source is the hub index with ``user``'s credentials in its URL,
    every file signed by the registry's publisher, and an empty download cache."""
    venv = make_venv()
    host = registry.url.split("://", 1)[1]
    venv.extra_env.update(
        ANYA_SOURCES__PRIMARY__URL=f"http://{user}:{USERS[user]}@{host}/{HUB_INDEX}/+simple/",
        ANYA_CACHE_DIR=str(cache),
        ANYA_TRUST__REQUIRE_SIGNATURES="true",
        **registry.trust_env(),
    )
    return venv


def install(venv: Venv) -> Receipt:
    done = venv.anya_ext("install", "koala-leaf")
    assert done.returncode == 0, done.stdout + done.stderr
    return read_receipts(TargetEnvironment.of(venv.python))[PROJECT]


def review(venv: Venv, index: HubIndex, user: str) -> dict[str, object]:
    done = venv.anya_ext(
        "--json", "review", "koala-leaf", "--rating", "4", "--title", f"{user} installed it",
        "--user", user, "--url", index.registry.url, "--index", HUB_INDEX,
        ANYA_PUBLISH_PASSWORD=USERS[user],
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_the_install_receipt_carries_the_download_receipt_into_the_review(
    hub: HubIndex,  # noqa: F811
    registry: Registry, make_venv: VenvFactory, tmp_path: Path,
) -> None:  # fmt: skip
    venv = signed_in_venv(make_venv, registry, tmp_path / "cache", "alice")

    installed = install(venv)

    token = installed.download_receipt
    assert token is not None
    payload = receipt_payload(token)
    assert payload is not None
    assert (payload["user"], payload["index"], payload["project"]) == ("alice", HUB_INDEX, PROJECT)
    assert (payload["filename"], payload["sha256"]) == (installed.filename, installed.sha256)
    assert USERS["alice"] not in json.dumps(asdict(installed))  # no password kept
    # The file's URL now leads nowhere: a review that fetched it again would fail.
    env = TargetEnvironment.of(venv.python)
    write_receipt(env, replace(installed, url=f"http://127.0.0.1:9/gone/{installed.filename}"))

    written = review(venv, hub, "alice")

    assert written["review"]["verified"] is True  # type: ignore[index]
    assert written["receipt_from"] == installed.filename
    assert read_receipts(env)[PROJECT].download_receipt == token


def test_a_receipt_issued_to_another_user_is_fetched_again_for_the_reviewer(
    hub: HubIndex,  # noqa: F811
    registry: Registry, make_venv: VenvFactory, tmp_path: Path,
) -> None:  # fmt: skip
    venv = signed_in_venv(make_venv, registry, tmp_path / "cache", "alice")
    installed = install(venv)
    assert installed.download_receipt is not None
    assert receipt_user(installed.download_receipt) == "alice"

    written = review(venv, hub, "bob")

    assert written["review"]["verified"] is True  # type: ignore[index]
    kept = read_receipts(TargetEnvironment.of(venv.python))[PROJECT].download_receipt
    assert kept is not None and receipt_user(kept) == "bob"


def test_an_install_without_credentials_keeps_no_receipt(
    hub: HubIndex,  # noqa: F811
    registry: Registry, make_venv: VenvFactory, tmp_path: Path,
) -> None:  # fmt: skip
    venv = make_venv()
    venv.extra_env.update(
        ANYA_SOURCES__PRIMARY__URL=f"{registry.url}/{HUB_INDEX}/+simple/",
        ANYA_CACHE_DIR=str(tmp_path / "cache"),
        ANYA_TRUST__REQUIRE_SIGNATURES="true",
        **registry.trust_env(),
    )

    assert install(venv).download_receipt is None
