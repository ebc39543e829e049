"""What a new user notices on a hot-work permit (issue 13's "without reading any docs"): names where rows
hold codes (备件仓库, 张工, not warehouse, worker1), the application shown to whoever reviews it, a cross-work
conflict said before the review loops, "下一步：…" after submitting, a permit card that opens its record,
and a phone menu that closes when its current page is tapped."""
from __future__ import annotations

import re
from uuid import uuid4

import pytest
import requests

from tests.browser.test_board import APPLICATION, _complete, working_permit
from tests.browser.workspace_ui import answer, go, open_task_of, submit


def _applied(server, area: str = "warehouse") -> int:
    """worker1's hot-work permit in `area`, applied for (waiting for the unit's review)."""
    r = server.call("POST", "/api/v1/process-instances", "worker1", json={
        "process_key": "hot_work_permit", "business_key": f"HW-NEW-{uuid4().hex[:6]}", "variables": {"area": area}})
    assert r.status_code == 201, r.text
    iid = r.json()["id"]
    _complete(server, "worker1", iid, "hw_apply", APPLICATION)
    return iid


def test_the_directory_names_codes_for_anyone_signed_in(live_server):
    r = live_server.call("GET", "/api/v1/me/directory", "worker1")
    assert r.status_code == 200, r.text
    d = r.json()
    assert {"username": "worker1", "display_name": "张工 (作业人员)"} in d["users"]
    assert {"code": "warehouse", "name": "备件仓库"} in d["areas"]
    assert any(x["code"] == "workshop-1" for x in d["departments"])
    assert set(d["users"][0]) == {"username", "display_name"}  # names only: no roles, no password state
    anonymous = requests.get(f"{live_server.url}/api/v1/me/directory", timeout=10)
    assert anonymous.status_code == 401


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_the_reviewer_sees_names_the_application_and_what_comes_next(page_as, live_server, screenshot, size):
    iid = _applied(live_server)
    prod = page_as("prod1", size)
    open_task_of(prod, iid)
    prod.evaluate("window.scrollTo(0, 0)")
    screenshot(prod, f"task-review-{size}", full_page=True)
    facts = prod.locator(".task-facts").inner_text()
    assert "备件仓库" in facts and "warehouse" not in facts
    summary = prod.locator(".case-summary")
    assert "备件仓库货架切割" in summary.inner_text() and "东侧货架" in summary.inner_text()
    assert "undefined" not in summary.inner_text()
    # the list row too
    go(prod, "/tasks")
    row = prod.locator(".task-list tbody tr").filter(has_text=re.compile(rf"#{iid}(?!\d)")).first
    assert "备件仓库" in row.inner_text() and "warehouse" not in row.inner_text()
    row.click()
    prod.wait_for_selector("#task-form")
    answer(prod, "task-form", {"decision": ("select", "同意"), "on_site": True, "coordinator": "赵协调"})
    submit(prod, "task-form")
    prod.wait_for_function("() => location.hash === '#/tasks'")
    toast = prod.locator(".toast")
    toast.wait_for()
    assert re.search(r"“作业单位审核”已完成，下一步：动火分析", toast.inner_text()), toast.inner_text()
    assert prod.evaluate("document.documentElement.scrollWidth") <= prod.viewport_size["width"]


def test_a_cross_work_conflict_is_said_before_the_review(page_as, live_server, screenshot):
    first, _ = working_permit(live_server)          # hot work going on in the warehouse
    second = _applied(live_server)
    prod = page_as("prod1", "phone")
    open_task_of(prod, second)
    warning = prod.locator(".simops-warning")
    assert "交叉作业协调人" in warning.inner_text()   # the review form asks for one
    assert warning.locator(f'a[href="#/instances/{first}"]').count() == 1
    screenshot(prod, "task-simops-phone")
    # Switched to English, the same page speaks English around the plant's own (Chinese) data.
    prod.locator("button.lang").click()
    assert "SIMOPS coordinator" in prod.locator(".simops-warning").inner_text()
    assert prod.locator(".case-summary summary").inner_text() == "The application"


def test_a_permit_card_opens_its_record_with_names(page_as, live_server):
    iid = _applied(live_server)
    worker = page_as("worker1", "phone")
    go(worker, "/permits")
    worker.locator(f'.permit-title[data-permit-id="{iid}"]').click()
    worker.wait_for_function("id => location.hash === '#/instances/' + id", arg=str(iid))
    facts = worker.locator(".instance-facts")
    facts.wait_for()
    worker.wait_for_function("() => document.querySelector('.instance-facts').innerText.includes('张工')")
    text = facts.inner_text()
    assert "备件仓库" in text and "warehouse" not in text and "worker1" not in text


def test_the_phone_menu_closes_when_its_current_page_is_tapped(page_as):
    worker = page_as("worker1", "phone")
    go(worker, "/permits")
    worker.locator(".menu-toggle").click()
    worker.locator('#app-nav a[href="#/permits"]').click()   # already there: the menu must still close
    assert worker.locator(".menu-toggle").get_attribute("aria-expanded") == "false"
    assert not worker.locator('#app-nav a[href="#/tasks"]').is_visible()
