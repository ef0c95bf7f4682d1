"""Hub data lives with the index: a replica serves it, and devpi-export / devpi-import carry it.

The reviews are in the index's ``custom_data``: devpi replicates it and exports it (a keyfs
key of a plugin would replicate but not export).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from anya_plugins.registry import server
from tests.registry.hub_support import HubIndex, set_up_hub
from tests.registry_fixtures import Registry, Upload

pytestmark = pytest.mark.slow

PROJECT = "anya-ext-wombat-gamma"
TITLE = "Kept with the index"


@pytest.fixture(scope="module")
def hub(registry: Registry, upload: Upload, tmp_path_factory: pytest.TempPathFactory) -> HubIndex:
    index = set_up_hub(registry, upload, tmp_path_factory.mktemp("hub-wheels"))
    answer = index.call("POST", f"/reviews/{PROJECT}", {"rating": 4, "title": TITLE},
                        user="carol")  # fmt: skip
    assert answer.status == 200, answer.body
    return index


@pytest.fixture(scope="module")
def replica_url(registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    state = tmp_path_factory.mktemp("hub-replica")
    running = server.start(state, replica_of=registry.state_dir)
    try:
        yield running.url
    finally:
        server.stop(state)


def titles(hub: HubIndex, *, url: str | None = None) -> set[str]:
    base = f"{url}/{hub.api.split('/', 3)[3]}" if url else None
    answer = hub.call("GET", f"/reviews/{PROJECT}", url=base)
    if answer.status == 404:  # a replica that has not caught up yet
        return set()
    assert answer.status == 200, answer.body
    reviews = answer.body["reviews"]
    assert isinstance(reviews, list)
    return {str(r["title"]) for r in reviews}


def eventually(check: object, seconds: float = 240.0) -> bool:
    """A replica's first changelog fetch from the session's primary has taken over a minute
    on a loaded machine."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        time.sleep(0.2)
    return False


def test_a_replica_serves_the_reviews_written_on_the_primary(
    hub: HubIndex, replica_url: str
) -> None:
    assert eventually(lambda: TITLE in titles(hub, url=replica_url))


def test_a_review_sent_to_the_replica_reaches_the_primary(hub: HubIndex, replica_url: str) -> None:
    base = f"{replica_url}/{hub.api.split('/', 3)[3]}"

    answer = hub.call("POST", f"/reviews/{PROJECT}", {"rating": 3, "title": "Via replica"},
                      user="alice", url=base)  # fmt: skip

    assert answer.status == 200, answer.body
    assert "Via replica" in titles(hub)


def test_devpi_export_and_import_carry_the_reviews(
    hub: HubIndex, registry: Registry, tmp_path: Path
) -> None:
    bin_dir = Path(sys.executable).parent
    exported = tmp_path / "export"
    subprocess.run(
        [bin_dir / "devpi-export", "--serverdir", registry.state_dir / server.SERVER_DIR,
         exported], check=True, capture_output=True,
    )  # fmt: skip
    imported = tmp_path / "imported"
    shutil.copytree(registry.state_dir / server.SECRETS_DIR, imported / server.SECRETS_DIR)
    subprocess.run(
        [bin_dir / "devpi-import", "--serverdir", imported / server.SERVER_DIR,
         "--no-root-pypi", exported], check=True, capture_output=True,
    )  # fmt: skip
    running = server.start(imported)
    try:
        assert TITLE in titles(hub, url=running.url)
    finally:
        server.stop(imported)
