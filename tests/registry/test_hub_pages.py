"""The hub's web pages in a real headless Chromium (Debian's chromium and chromedriver, driven
by Selenium): home -> search -> extension page, sign in, review through the form, see it
rendered (a ``<script>`` in it stays text); headings, labels, keyboard and phone width.

Screenshots of each page go to ``$ANYA_SCREENSHOT_DIR`` (the README's are made with
``ANYA_SCREENSHOT_DIR=docs/images``), else to the test's temporary directory.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.registry.hub_support import HUB_INDEX, MAINTAINER, USERS, HubIndex, set_up_hub
from tests.registry_fixtures import Registry, Upload

pytestmark = pytest.mark.slow

CHROMEDRIVER = "/usr/bin/chromedriver"
SCRIPT_TITLE = "<script>window.__pwned = 1</script>Solid"
SCRIPT_BODY = 'Fast. <img src=x onerror="window.__pwned = 2"> & "quoted"'


@pytest.fixture(scope="module")
def hub(registry: Registry, upload: Upload, tmp_path_factory: pytest.TempPathFactory) -> HubIndex:
    index = set_up_hub(registry, upload, tmp_path_factory.mktemp("hub-wheels"))
    for user, rating, title in (("bob", 5, "Reliable"), ("carol", 4, "Good docs")):
        index.call("POST", "/reviews/anya-ext-wombat-alpha",
                   {"rating": rating, "title": title, "body": "Used it for a month."},
                   user=user)  # fmt: skip
    index.call("PUT", "/collections/wombat-starter-kit", {
        "title": "Wombat starter kit", "description": "Channels and fees.",
        "entries": [{"name": "anya-ext-wombat-alpha", "specifier": ">=1,<2"},
                    {"name": "anya-ext-wombat-beta"}],
    }, user=MAINTAINER)  # fmt: skip
    return index


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if shutil.which("chromium") is None or not Path(CHROMEDRIVER).exists():
        pytest.skip("needs Debian's chromium and chromium-driver (noxfile installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--window-size=1280,900"):  # fmt: skip
        options.add_argument(argument)
    options.binary_location = "/usr/lib/chromium/chromium"
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wanted = os.environ.get("ANYA_SCREENSHOT_DIR")
    directory = Path(wanted) if wanted else tmp_path_factory.mktemp("hub-screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def navigate(driver: Any, element: Any) -> None:
    """Click ``element`` and wait until the next page has replaced this one.

    The page being left is marked and the wait is for a loaded page without the mark.
    Polling the old page's element for staleness raced chromedriver: mid-navigation it
    answers "unknown error: ... Node with given id does not belong to the document"
    instead of a stale reference (a CI failure); such answers are retried here.
    """
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    driver.execute_script("document.documentElement.dataset.anyaLeft = 'yes'")
    element.click()
    WebDriverWait(driver, 30, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script(
            "return document.readyState === 'complete'"
            " && !document.documentElement.dataset.anyaLeft"
        )
    )


def page_checks(driver: Any) -> None:
    """One h1; every form control has a label naming it; no horizontal scrolling."""
    from selenium.webdriver.common.by import By

    assert len(driver.find_elements(By.TAG_NAME, "h1")) == 1
    for control in driver.find_elements(
        By.CSS_SELECTOR, "input:not([type=hidden]), select, textarea"
    ):
        ident = control.get_attribute("id")
        assert ident and driver.find_elements(By.CSS_SELECTOR, f"label[for='{ident}']"), ident
    assert driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")


def test_home_search_extension_sign_in_and_review(hub: HubIndex, browser: Any, shots: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    base = f"{hub.registry.url}/{HUB_INDEX}/+hub"
    browser.get(base)
    assert "Top rated" in browser.page_source
    assert browser.find_element(By.LINK_TEXT, "Wombat starter kit")
    page_checks(browser)
    browser.save_screenshot(str(shots / "hub-home.png"))

    browser.find_element(By.ID, "home-q").send_keys("wombat")
    navigate(browser, browser.find_element(By.CSS_SELECTOR, "form[role=search] button"))
    Select(browser.find_element(By.ID, "category")).select_by_value("core/bitcoin")
    Select(browser.find_element(By.ID, "sort")).select_by_value("rating")
    navigate(browser, browser.find_element(By.CSS_SELECTOR, "form[role=search] button"))
    results = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "ul.cards h3 a")]
    assert results == ["wombat-alpha", "wombat-beta"]
    page_checks(browser)
    browser.save_screenshot(str(shots / "hub-search.png"))

    navigate(browser, browser.find_element(By.LINK_TEXT, "wombat-alpha"))
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("wombat-alpha")
    assert "anya-ext install wombat-alpha" in browser.page_source
    navigate(browser, browser.find_element(By.LINK_TEXT, "Sign in"))
    page_checks(browser)
    browser.save_screenshot(str(shots / "hub-sign-in.png"))

    browser.find_element(By.ID, "user").send_keys("alice")
    browser.find_element(By.ID, "password").send_keys(USERS["alice"])
    navigate(browser, browser.find_element(By.CSS_SELECTOR, "main form button"))
    assert browser.current_url.endswith("/x/anya-ext-wombat-alpha")
    Select(browser.find_element(By.ID, "rating")).select_by_value("4")
    for field, text in (("title", SCRIPT_TITLE), ("body", SCRIPT_BODY)):
        browser.find_element(By.ID, field).clear()  # an earlier review of alice's is edited
        browser.find_element(By.ID, field).send_keys(text)
    navigate(browser, browser.find_element(By.CSS_SELECTOR, "form.stack button"))

    titles = [h.text for h in browser.find_elements(By.CSS_SELECTOR, "article.review h3")]
    assert SCRIPT_TITLE in titles  # shown as text
    bodies = [p.text for p in browser.find_elements(By.CSS_SELECTOR, "article.review .body")]
    assert SCRIPT_BODY in bodies
    assert browser.execute_script("return window.__pwned === undefined")
    assert "&lt;script&gt;" in browser.page_source
    page_checks(browser)
    browser.save_screenshot(str(shots / "hub-extension.png"))


def test_a_review_form_post_from_elsewhere_is_refused(hub: HubIndex) -> None:
    """Signed in by cookie but without the form's token (another site's form): refused."""
    import urllib.error
    import urllib.parse
    import urllib.request

    base = f"{hub.registry.url}/{HUB_INDEX}/+hub"
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    sign_in = urllib.parse.urlencode({"user": "bob", "password": USERS["bob"]}).encode()
    opener.open(f"{base}/sign-in", data=sign_in)
    forged = urllib.parse.urlencode({"rating": "1", "title": "forged"}).encode()

    with pytest.raises(urllib.error.HTTPError) as refused:
        opener.open(f"{base}/x/anya-ext-wombat-beta/review", data=forged)

    assert refused.value.code == 400
    reviews = hub.call("GET", "/reviews/anya-ext-wombat-beta").body["reviews"]
    assert isinstance(reviews, list)
    assert all(r["title"] != "forged" for r in reviews)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/root/pypi"])
def test_signing_in_never_redirects_off_the_hub(hub: HubIndex, target: str) -> None:
    import urllib.error
    import urllib.parse
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any) -> None:
            return None

    base = f"{hub.registry.url}/{HUB_INDEX}/+hub"
    form = urllib.parse.urlencode({"user": "bob", "password": USERS["bob"], "next": target})

    with pytest.raises(urllib.error.HTTPError) as redirected:
        urllib.request.build_opener(NoRedirect()).open(f"{base}/sign-in", data=form.encode())

    assert redirected.value.code == 303
    assert urllib.parse.urlsplit(redirected.value.headers["Location"]).path == f"/{HUB_INDEX}/+hub"


def test_collection_and_contributor_pages(hub: HubIndex, browser: Any, shots: Path) -> None:
    from selenium.webdriver.common.by import By

    base = f"{hub.registry.url}/{HUB_INDEX}/+hub"
    browser.get(f"{base}/collections/wombat-starter-kit")
    assert "anya-ext collection install wombat-starter-kit" in browser.page_source
    assert [a.text for a in browser.find_elements(By.CSS_SELECTOR, "td a")] == [
        "wombat-alpha", "wombat-beta",
    ]  # fmt: skip
    page_checks(browser)
    browser.save_screenshot(str(shots / "hub-collection.png"))

    browser.get(f"{base}/contributors/{MAINTAINER}")
    assert "anya-ext-wombat-alpha" in browser.page_source
    page_checks(browser)
    browser.save_screenshot(str(shots / "hub-contributor.png"))


def test_a_maintainer_hides_a_review_with_a_reason_from_the_page(
    hub: HubIndex, browser: Any, shots: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    project = "anya-ext-wombat-beta"
    posted = hub.call("POST", f"/reviews/{project}", {"rating": 1, "title": "Buy my coin"},
                      user="bob")  # fmt: skip
    assert posted.status == 200, posted.body
    base = f"{hub.registry.url}/{HUB_INDEX}/+hub"
    browser.get(f"{base}/sign-in?next=" + quote(f"/{HUB_INDEX}/+hub/x/{project}", safe=""))
    browser.find_element(By.ID, "user").send_keys(MAINTAINER)
    browser.find_element(By.ID, "password").send_keys(USERS[MAINTAINER])
    navigate(browser, browser.find_element(By.CSS_SELECTOR, "main form button"))
    WebDriverWait(browser, 20).until(lambda d: d.current_url.endswith(f"/x/{project}"))
    WebDriverWait(browser, 20).until(lambda d: "Buy my coin" in d.page_source)
    (spam,) = [
        article for article in browser.find_elements(By.CSS_SELECTOR, "article.review")
        if "Buy my coin" in article.text
    ]  # fmt: skip
    page_checks(browser)
    browser.save_screenshot(str(shots / "hub-moderation.png"))

    hide = spam.find_element(By.CSS_SELECTOR, "form[action$='/bob/hide']")
    hide.find_element(By.NAME, "reason").send_keys("advertising")
    navigate(browser, hide.find_element(By.TAG_NAME, "button"))

    WebDriverWait(browser, 20).until(lambda d: "Buy my coin" not in d.page_source)
    hidden = hub.call("GET", f"/reviews/{project}").body["reviews"]
    assert isinstance(hidden, list)
    assert all(r["title"] != "Buy my coin" for r in hidden)


def test_keyboard_first_stop_is_the_skip_link(hub: HubIndex, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(f"{hub.registry.url}/{HUB_INDEX}/+hub/search")
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)

    assert browser.switch_to.active_element.text == "Skip to content"


def test_the_extension_page_fits_a_phone(hub: HubIndex, browser: Any, shots: Path) -> None:
    browser.set_window_size(390, 844)
    try:
        browser.get(f"{hub.registry.url}/{HUB_INDEX}/+hub/x/anya-ext-wombat-alpha")
        page_checks(browser)
        browser.save_screenshot(str(shots / "hub-extension-phone.png"))
    finally:
        browser.set_window_size(1280, 900)
