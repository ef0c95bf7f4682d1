"""The hub's pages show the registry's analytics charts (``/+analytics/charts/...svg`` as
images, which the pages' Content-Security-Policy allows): an extension's downloads and
installs per day, and installs per day by category on the home page; in the hub tests'
headless Chromium (Selenium, Debian's chromium-driver).

Screenshots of the charts go to ``$ANYA_SCREENSHOT_DIR`` as ``analytics-hub-*.png``.
"""

from __future__ import annotations

import datetime
import json
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from anya_plugins.analytics.events import UsageEvent, batch_document, utc_day
from anya_plugins.registry.analytics_store import MIN_GROUP
from tests.registry.hub_support import HUB_INDEX, HubIndex
from tests.registry.test_hub_pages import browser, hub, page_checks, shots  # noqa: F401

pytestmark = pytest.mark.slow

PROJECT = "anya-ext-wombat-alpha"
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def report_installs(registry_url: str, days: int) -> None:
    """Installs of the wombat over ``days`` days, each group of days above the minimum."""
    today = datetime.date.fromisoformat(utc_day())
    for back in range(days):
        day = (today - datetime.timedelta(days=back)).isoformat()
        for _ in range(1 + back % 3):
            install = UsageEvent(day, "install", PROJECT, "1.0.0", "primary", "linux-x86_64", True)
            body = json.dumps(batch_document(uuid.uuid4().hex, [install])).encode()
            sent = urllib.request.Request(
                f"{registry_url}/+analytics/events", data=body, method="POST",
                headers={"Content-Type": "application/json"},
            )  # fmt: skip
            with _NO_PROXY.open(sent, timeout=30) as response:
                assert response.status == 200


def chart_drawn(driver: Any, selector: str) -> tuple[int, str]:
    """The chart image's natural width (0: not loaded) and its alternative text."""
    from selenium.webdriver.common.by import By

    image = driver.find_element(By.CSS_SELECTOR, selector)
    driver.execute_script("arguments[0].scrollIntoView()", image)
    loaded = "return arguments[0].complete && arguments[0].naturalWidth"
    width = driver.execute_script(loaded, image)
    return int(width or 0), str(image.get_attribute("alt"))


def download(registry_url: str) -> None:
    """The wombat's release file, fetched once (the registry counts it)."""
    asked = urllib.request.Request(
        f"{registry_url}/{HUB_INDEX}/{PROJECT}", headers={"Accept": "application/json"}
    )
    with _NO_PROXY.open(asked, timeout=30) as response:
        links = json.loads(response.read())["result"]["1.0.0"]["+links"]
    (url,) = [link["href"] for link in links if link["rel"] == "releasefile"]
    with _NO_PROXY.open(url, timeout=30) as response:
        assert response.status == 200


@pytest.fixture(scope="module")
def reported(hub: HubIndex) -> HubIndex:  # noqa: F811 (the imported fixture)
    assert MIN_GROUP <= 30
    report_installs(hub.registry.url, 30)
    download(hub.registry.url)
    return hub


def test_the_extension_page_charts_its_downloads_and_installs(
    reported: HubIndex,
    browser: Any,  # noqa: F811
    shots: Path,  # noqa: F811
) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{reported.registry.url}/{HUB_INDEX}/+hub/x/{PROJECT}")
    width, alt = chart_drawn(browser, "#usage + figure img")

    assert width == 640
    assert "Downloads and installs of wombat-alpha" in alt
    with _NO_PROXY.open(
        f"{reported.registry.url}/+analytics/charts/extension/{PROJECT}.svg"
    ) as svg:
        legend = svg.read().decode()
    assert ">downloads</text>" in legend and ">installations</text>" in legend
    page_checks(browser)
    browser.find_element(By.CSS_SELECTOR, "#usage + figure").screenshot(
        str(shots / "analytics-hub-extension.png")
    )


def test_the_home_page_charts_installs_by_category(
    reported: HubIndex,
    browser: Any,  # noqa: F811
    shots: Path,  # noqa: F811
) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{reported.registry.url}/{HUB_INDEX}/+hub")
    width, alt = chart_drawn(browser, "figure.chart img")

    assert width == 640 and "by category" in alt
    browser.find_element(By.CSS_SELECTOR, "figure.chart").screenshot(
        str(shots / "analytics-hub-home.png")
    )
