"""The plant leadership views in a real browser: boss1 reads the fusion report (runs the month's analyses from
the page, sees the charts as images and the planted finding) and the integrated assessment (scores and the
records behind an indicator), at phone and desktop sizes, with the same figures the API gives."""
from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import pytest
from playwright.sync_api import expect

from engine.hub.generate import generate

PERIOD = "2026-11"


def _wait_loaded(img, timeout: float = 20.0) -> None:
    """Wait until an <img> has loaded a picture (polled: wait_for_function would need eval, which the CSP
    forbids)."""
    deadline = time.monotonic() + timeout
    while not img.evaluate("i => i.complete && i.naturalWidth > 0"):
        assert time.monotonic() < deadline, f"image not loaded: {img.get_attribute('src')}"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def plant_data(live_server):
    """Two months of generated plant records imported through the hub's import endpoint (as an admin would),
    with equipment EQ-0003 planted to fail more under high load. They end mid-November: hazards closed
    days after the last record must not lie in the future, which the import refuses."""
    data = generate(seed=5, start=datetime(2026, 9, 15, tzinfo=timezone.utc), days=61, equipment=12, people=60,
                    work_records=800, hazards=200, teams=6, areas=6, planted_load=("EQ-0003",), load_multiplier=5.0)
    token = live_server.login("admin")
    for kind, rows in data.items():
        if not rows:
            continue
        body = json.dumps(rows, default=str, ensure_ascii=False).encode()
        r = live_server.call("POST", f"/api/v1/hub/{kind}/import", headers={"Authorization": f"Bearer {token}"},
                             files={"file": (f"{kind}.json", body)})
        assert r.status_code == 200 and r.json()["rejected_count"] == 0, (kind, r.text[:500])
    return data


def _report(live_server) -> dict:
    r = live_server.call("GET", f"/api/v1/reports/fusion?period={PERIOD}&format=json", "boss1")
    assert r.status_code == 200, r.text
    return r.json()


def test_boss_reads_the_fusion_report_and_runs_the_analyses(page_as, live_server, plant_data, screenshot,
                                                           console_errors):
    page = page_as("boss1", "phone")
    base = page.url.split("#")[0]
    page.goto(f"{base}#/report?period={PERIOD}")
    kpi = page.locator("[data-kpi=hazards_found] .lead-kpi-value")
    kpi.wait_for()
    before = _report(live_server)
    assert before["indicators"]["hazards_found"] > 0
    assert kpi.inner_text().replace(",", "") == str(before["indicators"]["hazards_found"])   # the real figure
    assert page.locator("[data-kpi=violations] .lead-kpi-value").inner_text().replace(",", "") == \
        str(before["indicators"]["violations"])
    if before["analyses"]["equipment_load"] is None:                    # not run yet: the page says so
        assert page.locator("[data-missing=equipment_load]").is_visible()
    # boss1 (plant leader) runs the month's analyses from the page
    page.get_by_role("button", name="运行本月分析").click()
    page.locator(".lead-analysis[data-analysis=equipment_load] tr", has_text="EQ-0003").wait_for(timeout=60000)
    after = _report(live_server)
    assert after["analyses"]["equipment_load"]["result"]["flagged"][0]["equipment"] == "EQ-0003"
    # every chart the report has is shown as an image that loaded (the session cookie, no token in its URL)
    page.locator(".lead-chart img").first.scroll_into_view_if_needed()
    charts = page.locator(".lead-chart img")
    assert charts.count() == len(after["charts"]) >= 4
    for i in range(charts.count()):
        img = charts.nth(i)
        img.scroll_into_view_if_needed()
        _wait_loaded(img)
        assert "token" not in (img.get_attribute("src") or "")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "report-phone")

    # the PDF link is a plain GET the browser's session authenticates
    href = page.get_by_role("link", name="下载 PDF").get_attribute("href")
    assert href == f"/api/v1/reports/fusion?period={PERIOD}&format=pdf"
    pdf = page.request.get(base.rstrip("/") + href)
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.body()[:5] == b"%PDF-"

    desktop = page_as("boss1", "desktop")
    desktop.goto(f"{base}#/report?period={PERIOD}")
    desktop.locator(".lead-analysis[data-analysis=equipment_load] tr", has_text="EQ-0003").wait_for()
    desktop.locator(".lead-chart img").first.wait_for()
    for i in range(2):
        _wait_loaded(desktop.locator(".lead-chart img").nth(i))
    assert desktop.evaluate("document.documentElement.scrollWidth") <= 1366
    screenshot(desktop, "report-desktop")
    assert not [e for e in console_errors if "401" not in e], console_errors


def test_boss_reads_the_assessment_with_the_records_behind_a_score(page_as, live_server, plant_data, screenshot):
    api = live_server.call("GET", f"/api/v1/assessments?period={PERIOD}&level=department", "boss1").json()
    top = api["items"][0]
    assert top["rank"] == 1 and top["score"] is not None
    page = page_as("boss1", "phone")
    base = page.url.split("#")[0]
    page.goto(f"{base}#/assessment?period={PERIOD}")
    card = page.locator(f".lead-subject[data-subject='{top['subject']}']")
    card.wait_for()
    # a department of the organisation by its name (一车间 …), not its code (workshop-1); the generated
    # history's own departments (workshop-3) have no name and show their code
    names = {d["code"]: d["name"] for d in live_server.call("GET", "/api/v1/me/directory", "boss1").json()["departments"]}
    named = [i["subject"] for i in api["items"] if i["subject"] in names]
    assert named, [i["subject"] for i in api["items"]]
    expect(page.locator(f".lead-subject[data-subject='{named[0]}'] h3")).to_have_text(names[named[0]])
    expect(card.locator("h3")).to_have_text(names.get(top["subject"], top["subject"]))
    shown = float(card.locator(".lead-score").get_attribute("data-score"))
    assert shown == top["score"]
    assert page.locator(".lead-subject").first.get_attribute("data-subject") == top["subject"]   # ranked first
    on_time = top["indicators"]["on_time_rectification"]
    row = card.locator("[data-indicator=on_time_rectification]")
    assert f"({on_time['numerator']} / {on_time['denominator']})" in row.inner_text().replace(",", "")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "assessment-phone")
    # the records behind the rate: as many as the denominator counts
    row.get_by_role("button", name="记录").click()
    records = row.locator(".lead-records li")
    records.first.wait_for()
    assert records.count() == on_time["denominator"]

    # person level and quarters: chosen on the page
    page.select_option("select[name=level]", "person")
    page.locator(".lead-assessment[data-level=person]").wait_for()
    page.select_option("select[name=period_kind]", "quarter")
    page.locator(".lead-assessment[data-period='2026-Q4']").wait_for()

    desktop = page_as("boss1", "desktop")
    desktop.goto(f"{base}#/assessment?period={PERIOD}")
    desktop.locator(f".lead-subject[data-subject='{top['subject']}']").wait_for()
    screenshot(desktop, "assessment-desktop")


def test_report_is_in_the_menu_of_leaders_not_of_workers(page_as):
    assert page_as("boss1", "desktop").locator("#app-nav").get_by_role("link", name="报表考核").count() == 1
    worker = page_as("worker1", "desktop")
    assert worker.locator("#app-nav").get_by_role("link", name="报表考核").count() == 0
