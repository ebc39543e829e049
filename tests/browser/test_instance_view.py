"""The instance view in a real browser: the deployed diagram drawn by bpmn-js with the path taken, the
current task marked and clickable, a failed element in red with its message, the timeline and the audit
chain's verify result; and the list of instances I may see."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from engine.bpmn_builder import ProcessBuilder

HOT_WORK_REPORT = {"location": "合成装置区 P-101 泵旁", "description": "P-101 出口法兰渗漏，地面有油迹",
                   "found_at": "2026-11-03T08:00:00+00:00", "reported_level": "general"}


def _deploy(live_server, files: dict[str, str]) -> None:
    r = live_server.call("POST", "/api/v1/deployments", "designer1",
                         files=[("files", (name, body.encode())) for name, body in files.items()])
    assert r.status_code in (200, 201), r.text


def _view_process() -> str:
    b = ProcessBuilder("view_check", "巡检确认 (浏览器测试)")
    b.lane("production").lane("team_leader")
    b.start().user("report", "上报", lane="production").user("confirm", "班长确认", lane="team_leader")
    b.script("tally", "统计", "total = 1 / 0", lane="team_leader").end(lane="team_leader")
    b.chain("start", "report", "confirm", "tally", "end")
    return b.to_xml()


def _start(live_server, user: str, key: str, variables=None) -> dict:
    r = live_server.call("POST", "/api/v1/process-instances", user,
                         json={"process_key": key, "variables": variables or {}})
    assert r.status_code == 201, r.text
    return r.json()


def _complete(live_server, user: str, task_id: str, data=None) -> dict:
    r = live_server.call("POST", f"/api/v1/tasks/{task_id}/complete", user, json={"data": data or {}})
    assert r.status_code == 200, r.text
    return r.json()


def _marker(page, element_id: str) -> str:
    return page.get_attribute(f'g.djs-element[data-element-id="{element_id}"]', "class") or ""


def test_diagram_marks_the_path_and_the_current_task(page_as, live_server, console_errors, screenshot):
    _deploy(live_server, {"view_check.bpmn": _view_process()})
    inst = _start(live_server, "prod1", "view_check")
    nxt = _complete(live_server, "prod1", inst["active_tasks"][0]["id"])
    confirm_task = nxt["next_tasks"][0]["id"]

    page = page_as("leader1", "phone")
    page.goto(f"{live_server.url}/#/instances/{inst['id']}")
    # the current task: marked on the SVG element of its BPMN id, and clickable
    page.wait_for_selector('g.djs-element[data-element-id="confirm"].mark-active', timeout=30000)
    assert "mark-clickable" in _marker(page, "confirm")
    assert "mark-completed" in _marker(page, "report") and "mark-completed" in _marker(page, "start")
    assert "mark-flow" in _marker(page, "Flow_start_report") and "mark-flow" in _marker(page, "Flow_report_confirm")
    assert "mark-flow" not in _marker(page, "Flow_confirm_tally") and "mark-" not in _marker(page, "tally")
    # readable on a phone: the diagram fits the width and the page does not scroll sideways
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert page.locator(".verify-ok").inner_text().startswith("✔")
    assert page.locator(".timeline-item").count() == 2
    # tapping the current task opens it
    # (near its bottom-left corner: the builder's straight DI flows cross the shape's middle)
    shape = page.locator('g.djs-element[data-element-id="confirm"]')
    box = shape.bounding_box()
    shape.click(position={"x": box["width"] * 0.1, "y": box["height"] * 0.85})
    page.wait_for_url(re.compile(rf"#/tasks/{confirm_task}$"))
    assert not [e for e in console_errors if "401" not in e], console_errors

    # the team leader confirms; the script fails: the element turns red with its incident
    _complete(live_server, "leader1", confirm_task)
    page.goto(f"{live_server.url}/#/instances/{inst['id']}")
    page.wait_for_selector('g.djs-element[data-element-id="tally"].mark-error', timeout=30000)
    assert "mark-completed" in _marker(page, "confirm") and "mark-flow" in _marker(page, "Flow_confirm_tally")
    assert "division" in page.locator(".instance-incidents").inner_text()
    assert page.locator(".diagram-flag").count() == 1


def test_instance_list_filters_and_opens_an_instance(page_as, live_server):
    _deploy(live_server, {"view_check.bpmn": _view_process()})
    inst = _start(live_server, "prod1", "view_check")
    r = live_server.call("POST", "/api/v1/process-instances", "prod1",
                         json={"process_key": "view_check", "business_key": "VC-LIST-1"})
    keyed = r.json()
    page = page_as("prod1", "desktop")
    page.goto(f"{live_server.url}/#/instances?process=view_check")
    page.wait_for_selector(f'a[href="#/instances/{inst["id"]}"]')
    page.fill("input[name=business_key]", "VC-LIST-1")
    page.click(".instance-filters button[type=submit]")
    expect(page.locator(".table tbody tr")).to_have_count(1)  # (no wait_for_function: the CSP forbids eval)
    assert "VC-LIST-1" in page.locator(".table tbody tr").inner_text()
    page.click(f'a[href="#/instances/{keyed["id"]}"]')
    page.wait_for_selector('g.djs-element[data-element-id="report"].mark-active', timeout=30000)


def test_screenshots_of_the_instance_view(page_as, live_server, screenshot):
    """A library process part-way: the hazard report is in, the classification is current."""
    inst = _start(live_server, "prod1", "hazard_rectification")
    _complete(live_server, "worker1", inst["active_tasks"][0]["id"], HOT_WORK_REPORT)
    for size in ("phone", "desktop"):
        page = page_as("safety1", size)
        page.goto(f"{live_server.url}/#/instances/{inst['id']}")
        page.wait_for_selector("g.djs-element.mark-active", timeout=30000)
        page.wait_for_selector(".verify-ok")
        screenshot(page, f"instance-{size}")
        screenshot(page, f"instance-{size}-full", full_page=True)
    page = page_as("safety1", "phone")
    page.goto(f"{live_server.url}/#/instances")
    page.wait_for_selector(".table tbody tr")
    screenshot(page, "instances-phone")


def test_a_permit_waiting_inside_a_phase_opens_on_that_phase(page_as, live_server, console_errors, screenshot):
    """The library's permits are drawn as phases (collapsed sub-processes, issue 17). A hot-work permit
    waits for its application inside 动火申请与审批: its instance view opens that phase's plane with the
    task marked and readable on a laptop (zoom at least 0.65: a task 100 px wide at 1:1 is drawn at least
    65 px wide), the breadcrumb names the permit and the phase, and it leads back up to the main plane,
    where the phase is drawn collapsed."""
    inst = _start(live_server, "worker1", "hot_work_permit", {"area": "warehouse"})
    (task,) = inst["active_tasks"]
    page = page_as("worker1", "desktop")
    page.goto(f"{live_server.url}/#/instances/{inst['id']}")
    current = page.locator(f'g.djs-element[data-element-id="{task["bpmn_id"]}"]')
    expect(current).to_be_visible(timeout=30000)
    # the markers come after the diagram is drawn (the instance's history is a second request)
    page.wait_for_selector(f'g.djs-element.mark-active[data-element-id="{task["bpmn_id"]}"]', timeout=30000)
    crumbs = page.locator(".bjs-breadcrumbs")
    expect(crumbs).to_be_visible()
    assert "动火申请与审批" in crumbs.inner_text() and "动火安全作业票" in crumbs.inner_text()
    box = current.bounding_box()
    assert box["width"] >= 65, f"the current task is drawn {box['width']:.0f} px wide: below zoom 0.65"
    diagram = page.locator(".djs-container").bounding_box()
    assert diagram["x"] <= box["x"] and box["x"] + box["width"] <= diagram["x"] + diagram["width"]
    # the page takes a laptop's width, so the phase is in view from its lane names to its last shape
    # (drawn 1,853 px wide at 1:1, it is cut off in a 1,200 px column at that zoom)
    spans = page.evaluate("""() => [...document.querySelectorAll('.djs-container g.djs-shape')]
        .map((g) => g.getBoundingClientRect()).filter((r) => r.width > 0).map((r) => [r.left, r.right])""")
    assert len(spans) > 10
    assert diagram["x"] - 1 <= min(left for left, _ in spans), spans
    assert max(right for _, right in spans) <= diagram["x"] + diagram["width"] + 1, (diagram, spans)
    screenshot(page, "instance-phase-desktop")
    # up to the main plane: the phase is a collapsed sub-process there, the inner task is not drawn
    crumbs.locator("li", has_text="动火安全作业票").click()
    expect(page.locator('g.djs-element[data-element-id="hw_application"]')).to_be_visible()
    expect(current).to_be_hidden()
    assert not [e for e in console_errors if "uncaught" in e.lower()], console_errors
