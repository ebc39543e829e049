"""Browser tests: Playwright for Python driving Debian's chromium against a real ``anjian serve``.

No browser is downloaded (never ``playwright install``): the pip package carries its driver, and the
browser is /usr/bin/chromium from apt (.ci/run installs it when missing). A missing browser FAILS the
tests, it does not skip them.

Fixtures: ``live_server`` (session: a real server with the library and the sample plant, ``.url``),
``browser``, ``page_as(user, size="phone"|"desktop")`` (a page signed in through the login form),
``new_page(size)`` (a page not signed in), ``request_log`` (every URL the test's pages requested) and
``console_errors`` (console errors and uncaught exceptions of those pages: CSP violations land here).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.live_server import PASSWORD, live_server as _live_server

CHROMIUM = os.environ.get("ANJIAN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SIZES = {
    "phone": {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True,
              "device_scale_factor": 1},
    "desktop": {"viewport": {"width": 1366, "height": 900}},
}
SCREENSHOTS = Path(__file__).resolve().parent.parent.parent / "docs" / "screenshots"


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """A real ``anjian serve`` (SQLite, library deployed, sample plant seeded) for the whole session."""
    with _live_server(tmp_path_factory.mktemp("browser"), secret="browser-test-secret") as server:
        yield server


@pytest.fixture(scope="session")
def playwright_instance():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance):
    """Debian's chromium, headless."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install it with `apt-get install -y chromium` "
                    "(the browser tests never download a browser)")
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def request_log():
    """Every URL requested by the pages this test opened (new_page / page_as), in order."""
    return []


@pytest.fixture
def console_errors():
    """Console errors and uncaught page errors of this test's pages (a CSP violation is one)."""
    return []


@pytest.fixture
def new_page(browser, live_server, request_log, console_errors):
    """new_page(size="phone"|"desktop") → a fresh page (own cookies) that is not signed in."""
    contexts = []

    def make(size: str = "phone"):
        context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **SIZES[size])
        context.set_default_timeout(15000)
        contexts.append(context)
        page = context.new_page()
        page.on("request", lambda req: request_log.append(req.url))
        page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: console_errors.append(f"uncaught: {exc}"))
        return page

    yield make
    for context in contexts:
        context.close()


def sign_in(page, url: str, user: str, password: str = PASSWORD) -> None:
    """Sign in through the login form and wait for the app's header."""
    page.goto(f"{url}/#/tasks")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_selector(".app-header")


@pytest.fixture
def page_as(new_page, live_server):
    """page_as(user, size="phone"|"desktop") → a page signed in as the demo user through the login form."""
    def make(user: str, size: str = "phone"):
        page = new_page(size)
        sign_in(page, live_server.url, user)
        return page

    return make


@pytest.fixture
def screenshot(tmp_path_factory):
    """screenshot(page, name) → <name>.png in a temporary folder, or in docs/screenshots/ (the README's
    pictures) when ``ANJIAN_SCREENSHOTS=1``: a plain test run leaves the checkout as it was."""
    folder = SCREENSHOTS if os.environ.get("ANJIAN_SCREENSHOTS") == "1" else tmp_path_factory.mktemp("screenshots")

    def take(page, name: str, full_page: bool = False) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page, animations="disabled")
        return path

    return take
