"""我的任务 with more tasks than a page, and claiming / releasing from the task page."""
from __future__ import annotations

from tests.browser.workspace_ui import go
from tests.live_server import PASSWORD


def test_paged_list_claim_and_release(page_as, live_server):
    # A worker of the storage department of their own, so other tests' tasks do not mix in.
    r = live_server.call("POST", "/api/v1/org/users", "admin", json={
        "username": "worker_pg", "password": PASSWORD, "display_name": "分页测试", "roles": ["worker"],
        "department": "storage"})
    assert r.status_code == 201, r.text
    for i in range(55):
        r = live_server.call("POST", "/api/v1/process-instances", "worker_pg", json={
            "process_key": "hazard_rectification", "business_key": f"PG-{i:03d}", "variables": {"area": "warehouse"}})
        assert r.status_code == 201, r.text

    page = page_as("worker_pg", "phone")
    rows = page.locator(".task-list tbody tr")
    rows.nth(49).wait_for()
    assert rows.count() == 50
    assert "55" in page.locator("[data-testid=task-summary]").inner_text()
    page.click(".task-list .more button")
    rows.nth(54).wait_for()
    assert rows.count() == 55 and page.locator(".task-list .more").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    rows.first.click()
    page.wait_for_selector(".task-page")
    task_id = page.url.rsplit("/", 1)[1]
    page.get_by_role("button", name="认领").click()
    page.get_by_text("我已认领").wait_for()
    assert live_server.call("GET", f"/api/v1/tasks/{task_id}", "worker_pg").json()["assignee"] == "worker_pg"
    page.get_by_role("button", name="退回").click()
    page.get_by_text("待认领").wait_for()
    assert live_server.call("GET", f"/api/v1/tasks/{task_id}", "worker_pg").json()["assignee"] is None
    go(page, "/tasks")
