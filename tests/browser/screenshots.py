"""The workspace's pictures for the README (docs/screenshots/*.png), at phone (360x740) and desktop
(1366x900) size, taken from a real server with the sample plant:

    .venv/bin/python -m tests.browser.screenshots
    .venv/bin/python -m tests.browser.screenshots report    # the fusion report on the demo year (make run's)
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, SIZES, sign_in
from tests.browser.workspace_ui import answer, go, now_local, submit
from tests.live_server import live_server


def main() -> None:
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, live_server(Path(tmp), secret="screenshots-secret") as server, \
            sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for i, area in enumerate(("warehouse", "unit-1", "tank-farm-3")):
            r = server.call("POST", "/api/v1/process-instances", "worker1", json={
                "process_key": "hot_work_permit", "business_key": f"DH-2026-{i + 1:04d}", "variables": {"area": area}})
            assert r.status_code == 201, r.text
        for size in ("phone", "desktop"):
            context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **SIZES[size])
            page = context.new_page()
            page.goto(f"{server.url}/")
            page.wait_for_selector("input[name=username]")
            page.fill("input[name=username]", "worker1")
            page.screenshot(path=str(SCREENSHOTS / f"login-{size}.png"))
            page.fill("input[name=username]", "")
            sign_in(page, server.url, "worker1")
            page.wait_for_selector(".task-list tbody tr")
            page.screenshot(path=str(SCREENSHOTS / f"tasks-{size}.png"))
            go(page, "/start")
            page.wait_for_selector(".start-list button")
            page.screenshot(path=str(SCREENSHOTS / f"start-{size}.png"))
            go(page, "/tasks")
            page.locator(".task-list tbody tr").first.click()
            page.wait_for_selector("#task-form")
            answer(page, "task-form", {"work_content": "货架焊接", "location_detail": "3 号货架",
                                       "hot_work_method": ("select", "电焊/气焊"), "planned_start": now_local()})
            page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
            page.screenshot(path=str(SCREENSHOTS / f"task-{size}.png"))
            answer(page, "task-form", {"wind_force": 30})
            submit(page, "task-form")
            page.wait_for_selector("#task-form .error-detail li")
            page.locator("#task-form #root_wind_force").scroll_into_view_if_needed()
            page.evaluate("window.scrollBy(0, 120)")
            page.screenshot(path=str(SCREENSHOTS / f"task-errors-{size}.png"))
            if size == "phone":
                page.click(".menu-toggle")
                page.wait_for_selector("#app-nav.open")
                page.evaluate("window.scrollTo(0, 0)")
                page.screenshot(path=str(SCREENSHOTS / "menu-phone.png"))
            context.close()
        browser.close()
    for f in sorted(SCREENSHOTS.glob("*.png")):
        print(f.relative_to(SCREENSHOTS.parent.parent))


def report_demo() -> None:
    """docs/screenshots/report-demo-desktop.png: the fusion report of the last full month on the demo year that
    `make run` loads (`anjian hub demo`), the whole page, as boss1 reads it."""
    import sys
    import time

    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, live_server(Path(tmp), secret="screenshots-secret") as server, \
            sync_playwright() as p:
        done = server.run("hub", "demo")
        assert done.returncode == 0, done.stderr[-2000:]
        print(done.stdout.strip(), file=sys.stderr)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **SIZES["desktop"])
        page = context.new_page()
        sign_in(page, server.url, "boss1")
        go(page, "/report")
        page.wait_for_selector(".lead-analysis[data-analysis=area_hotspots] .lead-chart img")
        images = page.locator(".lead-chart img")
        for i in range(images.count()):
            images.nth(i).scroll_into_view_if_needed()
            deadline = time.monotonic() + 20
            while not images.nth(i).evaluate("i => i.complete && i.naturalWidth > 0"):
                assert time.monotonic() < deadline
                time.sleep(0.1)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SCREENSHOTS / "report-demo-desktop.png"), full_page=True)
        context.close()
        browser.close()
    print("docs/screenshots/report-demo-desktop.png")


if __name__ == "__main__":
    import sys

    report_demo() if sys.argv[1:] == ["report"] else main()
