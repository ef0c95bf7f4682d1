"""The registry's ``/+analytics`` page in Debian's headless Chromium: its server-side SVG
charts draw (their line colours are on the screenshot) with thirty days of installs.

With ``ANYA_TEST_ARTIFACTS`` set the screenshot is kept there (docs/images/analytics-page.png
is one).
"""

from __future__ import annotations

import datetime
import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from anya_plugins.analytics.events import utc_day
from anya_plugins.registry.analytics_charts import COLOURS
from anya_plugins.registry.analytics_store import MIN_GROUP
from tests.analytics.conftest import event, new_id, request, send
from tests.registry_fixtures import Registry

CHROMIUM = shutil.which("/usr/lib/chromium/chromium") or shutil.which("chromium")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium (apt-get install chromium)"),
]
WIDTH, HEIGHT = 1360, 1000


def rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def screenshot(url: str, output: Path) -> Image.Image:
    assert CHROMIUM is not None
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--no-proxy-server", "--hide-scrollbars", f"--user-data-dir={output.parent / 'profile'}",
         f"--window-size={WIDTH},{HEIGHT}", f"--screenshot={output}", url],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0 and output.exists(), done.stderr
    return Image.open(output).convert("RGB")


def test_the_charts_draw_downloads_and_installs_over_thirty_days(
    analytics_registry: Registry, tmp_path: Path
) -> None:
    chance = random.Random(4)
    today = datetime.date.fromisoformat(utc_day())
    for back in range(30):
        day = (today - datetime.timedelta(days=back)).isoformat()
        installs = [event("install", short, day=day)
                    for short in ("wallet", "lightning", "did", "model")
                    if chance.random() < 0.9 - back / 60]  # fmt: skip
        if installs:
            assert send(analytics_registry, new_id(), *installs).status == 200
    for _ in range(MIN_GROUP):  # every group above the minimum size
        batch = [event("install", s) for s in ("wallet", "lightning", "did", "model")]
        assert send(analytics_registry, new_id(), *batch).status == 200
    page = request(f"{analytics_registry.url}/anya/primary/anya-ext-an-did").document
    (link,) = [link["href"] for link in page["result"]["0.1.0"]["+links"]
               if link["rel"] == "releasefile"]  # fmt: skip
    assert request(link).status == 200

    picture = screenshot(f"{analytics_registry.url}/+analytics?last=30d", tmp_path / "page.png")

    assert picture.size == (WIDTH, HEIGHT)
    seen = {picture.getpixel((x, y)) for x in range(0, WIDTH, 2) for y in range(0, HEIGHT, 2)}
    assert {rgb(COLOURS[0]), rgb(COLOURS[1]), rgb(COLOURS[2])} <= seen
    artifacts = os.environ.get("ANYA_TEST_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / "page.png", Path(artifacts) / "analytics-page.png")
