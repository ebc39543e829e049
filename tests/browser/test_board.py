"""监管看板 and 我的作业票 in a real browser: a hot-work permit driven through the API shows on
safety1's board with its status, a gas alarm turns it to 'suspended' within the polling interval
without a reload, the stop-work button (with its confirmation) starts stop_restart, and worker1
finds the permit under 我的作业票. Screenshots at phone and desktop sizes go to docs/screenshots/."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from uuid import uuid4

import pytest

AREA = "warehouse"            # second-grade hot work: the unit approves (sample plant)
POLL_SECONDS = 5              # Board.jsx POLL_MS
APPLICATION = {
    "work_content": "备件仓库货架切割", "location_detail": "东侧货架", "hot_work_method": "cutting",
    "equipment_state": "shutdown_purged", "inside_dike": False, "planned_start": "2026-12-06T09:30:00+00:00",
    "workers": ["张工"], "monitor": "李监护", "monitor_badge": "JH-007", "at_night": False, "on_holiday": False,
    "outdoors": False, "wind_force": 2, "gas_name": "乙炔", "gas_lel_pct": 2.5,
    "hazards": ["火花飞溅"], "control_measures": ["清理周边可燃物"], "isolation_done": True, "briefing_done": True}
APPROVE = {"decision": "approve", "on_site": True}
SITE_OK = {"permit_checked": True, "monitor_present": True, "measures_in_place": True,
           "gas_monitor_online": False, "fire_equipment": "灭火器 2 具"}


def _complete(server, user, iid, bpmn_id, data):
    r = server.call("GET", f"/api/v1/tasks?mine=true&instance_id={iid}", user)
    assert r.status_code == 200, r.text
    found = [t for t in r.json()["items"] if t["bpmn_id"] == bpmn_id]
    assert found, f"{user} has no {bpmn_id}: {r.json()['items']}"
    r = server.call("POST", f"/api/v1/tasks/{found[0]['id']}/complete", user, json={"data": data})
    assert r.status_code == 200, r.text


def working_permit(server) -> tuple[int, str]:
    """A second-grade hot-work permit in AREA, approved, analysed, checked on site: working."""
    key = f"HW-BOARD-{uuid4().hex[:6]}"
    r = server.call("POST", "/api/v1/process-instances", "worker1",
                    json={"process_key": "hot_work_permit", "business_key": key, "variables": {"area": AREA}})
    assert r.status_code == 201, r.text
    iid = r.json()["id"]
    _complete(server, "worker1", iid, "hw_apply", APPLICATION)
    # Other permits of the area (earlier tests) are cross-work: the unit names a coordinator (4.7).
    _complete(server, "prod1", iid, "hw_unit_review", {**APPROVE, "coordinator": "赵协调"})
    sampled = (datetime.now(timezone.utc) - timedelta(minutes=3)).isoformat()
    _complete(server, "leader1", iid, "hw_gas_analysis", {"sampled_at": sampled, "sample_points": ["hot_point"],
                                                         "combustible_pct": 0.1, "analyst": "化验员甲"})
    _complete(server, "leader1", iid, "hw_site_check", SITE_OK)
    return iid, key


def register_status(server, iid) -> str:
    r = server.call("GET", f"/api/v1/permits?area={AREA}&page_size=500", "safety1")
    assert r.status_code == 200, r.text
    return next(p["status"] for p in r.json()["items"] if p["id"] == iid)


def some_alerts(server):
    """A yellow and an orange alert in other areas, so the board's alert column has content."""
    for device, area, value in (("GT-BOARD-1", "unit-1", 30), ("GT-BOARD-2", "tank-farm-3", 60)):
        r = server.call("POST", "/api/v1/devices", "admin",
                        json={"id": device, "type": "combustible_lel", "area": area, "gas": "methane"})
        assert r.status_code in (200, 201, 409), r.text
        r = server.call("POST", "/api/v1/telemetry", "admin", json=[{"device": device, "value": value}])
        assert r.status_code in (200, 201, 202), r.text


def no_horizontal_scroll(page, width):
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("size, width", [("desktop", 1366)])
def test_board_follows_a_permit_live_and_stops_work(page_as, live_server, screenshot, console_errors, size, width):
    some_alerts(live_server)
    iid, key = working_permit(live_server)
    assert register_status(live_server, iid) == "working"

    page = page_as("safety1", size)
    page.goto(f"{live_server.url}/#/board")
    permit = page.locator(f"[data-permit-id='{iid}']")
    permit.wait_for()
    assert permit.locator(".permit-status").get_attribute("data-status") == "working"
    assert key in permit.inner_text() and "二级" in permit.inner_text()
    assert page.locator(".alert-item").count() >= 2                       # the yellow and orange alerts
    page.evaluate("window.__boardMarker = 'no reload'")
    screenshot(page, f"board-{size}", full_page=True)

    # A gas alarm (bpmn/README.md walkthrough): suspended on the board within the polling interval.
    r = live_server.call("POST", "/api/v1/messages", "emerg1",
                         json={"name": "gas_alarm", "correlation": {"area": AREA}, "payload": {"reason": "可燃气体报警"}})
    assert r.status_code == 200, r.text
    assert register_status(live_server, iid) == "suspended"
    page.wait_for_selector(f"[data-permit-id='{iid}'] .permit-status[data-status='suspended']",
                           timeout=(POLL_SECONDS + 3) * 1000)
    assert page.evaluate("window.__boardMarker") == "no reload"           # updated in place
    assert "气体报警" in permit.inner_text()

    # Stop-work for the area: the confirmation asks for the reason first.
    before = _stop_instances(live_server)
    page.locator(f"[data-area='{AREA}'] .stop-button").click()
    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    dialog.get_by_role("button", name="确认停工").click()
    dialog.locator(".form-error").wait_for()                            # no reason: nothing started
    assert _stop_instances(live_server) == before
    dialog.locator("textarea[name=stop_reason]").fill("备件仓库可燃气体泄漏，全区停工")
    screenshot(page, f"board-stop-dialog-{size}")
    dialog.get_by_role("button", name="确认停工").click()
    page.locator(".toast").wait_for()
    assert page.get_by_role("dialog").count() == 0
    started = [i for i in _stop_instances(live_server) if i["id"] not in {b["id"] for b in before}]
    assert len(started) == 1
    inst = live_server.call("GET", f"/api/v1/process-instances/{started[0]['id']}", "safety1").json()
    assert (inst["area"], inst["started_by"], inst["variables"]["stop_reason"], inst["variables"]["stop_scope"]) == (
        AREA, "safety1", "备件仓库可燃气体泄漏，全区停工", "area")
    no_horizontal_scroll(page, width)
    assert not [e for e in console_errors if "401" not in e], console_errors


def test_board_and_my_permits_at_phone_and_desktop(page_as, live_server, screenshot, console_errors):
    iid, key = working_permit(live_server)
    for size, width in (("phone", 360), ("desktop", 1366)):
        page = page_as("worker1", size)
        page.goto(f"{live_server.url}/#/permits")
        row = page.locator(f".permit-row:has([data-permit-id='{iid}'])")
        row.wait_for()
        assert row.locator(".permit-status").get_attribute("data-status") == "working"
        assert "剩余" in row.inner_text()                                 # the validity countdown
        assert page.locator("h1").inner_text() == "我的作业票"
        no_horizontal_scroll(page, width)
        screenshot(page, f"permits-{size}", full_page=True)
        # The board is not in a worker's menu.
        assert page.locator("nav a[href='#/board']").count() == 0

        board = page_as("safety1", size)
        board.goto(f"{live_server.url}/#/board")
        board.locator(f"[data-permit-id='{iid}']").wait_for()
        board.locator(f"[data-area='{AREA}'] .stop-button").wait_for()
        no_horizontal_scroll(board, width)
        screenshot(board, f"board-overview-{size}", full_page=True)
    assert not [e for e in console_errors if "401" not in e], console_errors


def _stop_instances(server) -> list[dict]:
    r = server.call("GET", "/api/v1/process-instances?process_key=stop_restart&page_size=500", "safety1")
    assert r.status_code == 200, r.text
    return r.json()["items"]
