"""The admin views in a real browser: users created with a 422 shown beside its field, incidents retried and
resolved, names holding markup rendered as text, and the screenshots of every admin page."""
from __future__ import annotations

import re

import pytest

from engine.bpmn_builder import ProcessBuilder

ADMIN_PAGES = ("users", "departments", "areas", "connectors", "incidents")


def _failing_instances(live_server, n: int) -> list[int]:
    """Deploy (as designer1) a process whose script divides by a start variable, start it n times with 0:
    each instance stops on a script-error incident."""
    b = ProcessBuilder("admin_ui_incident", "管理界面测试（脚本除零）")
    b.lane("production")
    b.start(variables=["divisor"]).script("divide", "计算比例", "ratio = 10 / divisor").user("see", "查看结果", lane="production").end()
    b.chain("start", "divide", "see", "end")
    r = live_server.call("POST", "/api/v1/deployments", "designer1",
                         files=[("files", ("admin_ui_incident.bpmn", b.to_xml().encode()))])
    assert r.status_code == 201, r.text
    ids = []
    for _ in range(n):
        r = live_server.call("POST", "/api/v1/process-instances", "prod1",
                             json={"process_key": "admin_ui_incident", "variables": {"divisor": 0}})
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


def _incident_of(live_server, instance_id: int) -> dict:
    r = live_server.call("GET", f"/api/v1/incidents?instance_id={instance_id}", "admin")
    assert r.status_code == 200, r.text
    [incident] = r.json()["items"]
    return incident


def _no_horizontal_scroll(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_admin_pages_on_a_phone_and_a_desktop(page_as, screenshot, console_errors):
    """Every admin page renders its data at 360 px (cards, no sideways scroll) and on a desktop."""
    for size, width in (("phone", 360), ("desktop", 1366)):
        page = page_as("admin", size)
        for name in ADMIN_PAGES:
            page.goto(page.url.split("#")[0] + f"#/admin/{name}")
            page.wait_for_selector(f".admin-tabs a.active[href='#/admin/{name}']")
            if name == "users":
                page.wait_for_selector("text=boss1")
            elif name == "departments":
                page.wait_for_selector("text=安全环保部")
            elif name == "areas":
                page.wait_for_selector("text=三号罐区")
            elif name == "connectors":
                page.wait_for_selector("[data-connector=mes]")
            else:
                page.wait_for_selector(".admin-incident, .empty")
            _no_horizontal_scroll(page, width)
            screenshot(page, f"admin-{name}-{size}")
    assert not [e for e in console_errors if "401" not in e], console_errors


def test_admin_creates_a_user_a_bad_field_is_shown_beside_it_then_fixed(page_as, live_server, screenshot):
    page = page_as("admin", "phone")
    page.goto(page.url.split("#")[0] + "#/admin/users")
    page.get_by_role("button", name="新建用户").click()
    form = page.locator("form.admin-form")
    form.locator("input[name=username]").fill("inspector7")
    form.locator("input[name=display_name]").fill("钱工 (新监督员)")
    form.locator("input[name=password]").fill("short")               # under 8 characters: a 422 on "password"
    form.locator("select[name=department]").select_option("safety")
    form.locator("input[name=roles][value=supervision]").check()
    form.get_by_role("button", name="保存").click()

    error = form.locator(".field[data-field=password] .field-error")
    error.wait_for()
    assert "8" in error.inner_text()                                  # the server's message, beside the field
    assert form.locator("input[name=password]").get_attribute("aria-invalid") == "true"
    assert form.locator(".field[data-field=username] .field-error").count() == 0
    screenshot(page, "admin-user-form-error-phone")
    assert live_server.call("GET", "/api/v1/org/users/inspector7", "admin").status_code == 404   # nothing stored

    form.locator("input[name=password]").fill("inspector-pass-7")
    form.get_by_role("button", name="保存").click()
    form.wait_for(state="detached")
    page.fill("input[name=q]", "inspector7")
    page.get_by_role("button", name="搜索").click()
    row = page.locator("tr.admin-row", has_text="inspector7")
    row.wait_for()
    assert "钱工 (新监督员)" in row.inner_text() and "安全环保部" in row.inner_text() and "安全监督" in row.inner_text()
    user = live_server.call("GET", "/api/v1/org/users/inspector7", "admin").json()
    assert user["roles"] == ["supervision"] and user["department"] == "safety" and user["active"] is True
    assert live_server.login("inspector7", "inspector-pass-7")           # the new user can sign in

    # Reset the password after a confirmation: a short one is refused beside its field, the old one stops working.
    row.get_by_role("button", name=re.compile("编辑")).click()
    page.get_by_role("button", name="重置密码").click()
    dialog = page.get_by_role("dialog")
    dialog.locator("input[name=new_password]").fill("short")
    dialog.get_by_role("button", name="确认").click()
    dialog.locator(".field[data-field=new_password] .field-error").wait_for()
    dialog.locator("input[name=new_password]").fill("inspector-pass-8")
    dialog.get_by_role("button", name="确认").click()
    dialog.wait_for(state="detached")
    assert live_server.call("POST", "/api/v1/auth/login",
                            json={"username": "inspector7", "password": "inspector-pass-7"}).status_code == 401
    assert live_server.login("inspector7", "inspector-pass-8")

    # Deactivate after a confirmation: the list says so and the user can no longer sign in.
    row.get_by_role("button", name=re.compile("编辑")).click()
    page.get_by_role("button", name="停用").click()
    dialog = page.get_by_role("dialog")
    assert "inspector7" in dialog.inner_text()
    dialog.get_by_role("button", name="确认").click()
    dialog.wait_for(state="detached")
    page.locator("tr.admin-row.inactive", has_text="inspector7").wait_for()
    r = live_server.call("POST", "/api/v1/auth/login", json={"username": "inspector7", "password": "inspector-pass-8"})
    assert r.status_code == 401


def test_an_incident_is_retried_and_another_resolved_from_the_ui(page_as, live_server, screenshot):
    retry_id, resolve_id = _failing_instances(live_server, 2)
    to_retry, to_resolve = _incident_of(live_server, retry_id), _incident_of(live_server, resolve_id)
    assert to_retry["status"] == to_resolve["status"] == "open"

    phone = page_as("admin", "phone")
    phone.goto(phone.url.split("#")[0] + "#/admin/incidents")
    phone.locator(f"[data-incident='{to_retry['id']}']").wait_for()
    _no_horizontal_scroll(phone, 360)
    screenshot(phone, "admin-incidents-phone")                         # with open incidents, not the empty list

    page = page_as("admin", "desktop")
    page.goto(page.url.split("#")[0] + "#/admin/incidents")
    card = page.locator(f"[data-incident='{to_retry['id']}']")
    card.wait_for()
    assert "division by zero" in card.inner_text() or "ZeroDivision" in card.inner_text()
    screenshot(page, "admin-incidents-open-desktop")

    # Retry with the corrected variable: the instance gets past the script to its user task.
    card.get_by_role("button", name="重试").click()
    dialog = page.get_by_role("dialog")
    dialog.locator("textarea[name=variables]").fill("{not json")
    dialog.get_by_role("button", name="确认").click()
    dialog.locator(".field[data-field=variables] .field-error").wait_for()      # checked before sending
    dialog.locator("textarea[name=variables]").fill('{"divisor": 2}')
    dialog.get_by_role("button", name="确认").click()
    dialog.wait_for(state="detached")
    card.wait_for(state="detached")                                          # no longer open
    assert _incident_of(live_server, retry_id)["status"] == "retried"
    instance = live_server.call("GET", f"/api/v1/process-instances/{retry_id}", "admin").json()
    assert instance["status"] == "running", instance
    assert [t["name"] for t in instance["active_tasks"]] == ["查看结果"]

    # Resolve asks for a comment: an empty one is refused beside the field, then it closes the incident.
    card = page.locator(f"[data-incident='{to_resolve['id']}']")
    card.get_by_role("button", name="关闭事件").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="确认").click()
    dialog.locator(".field[data-field=comment] .field-error").wait_for()
    assert _incident_of(live_server, resolve_id)["status"] == "open"
    dialog.locator("textarea[name=comment]").fill("已人工核实并在现场处理")
    dialog.get_by_role("button", name="确认").click()
    dialog.wait_for(state="detached")
    card.wait_for(state="detached")
    resolved = _incident_of(live_server, resolve_id)
    assert resolved["status"] == "resolved" and resolved["resolved_by"] == "admin"
    page.select_option("select[name=status]", "resolved")
    page.locator(f"[data-incident='{to_resolve['id']}']", has_text="已关闭").wait_for()


@pytest.mark.parametrize("user", ["safety1", "designer1"])
def test_supervision_and_designers_reach_incidents_but_not_user_management(page_as, user):
    page = page_as(user, "desktop")
    nav = page.locator("#app-nav")
    assert nav.get_by_role("link", name="故障事件").count() == 1
    assert nav.get_by_role("link", name="系统管理").count() == 0
    page.goto(page.url.split("#")[0] + "#/admin/incidents")
    page.wait_for_selector(".admin-incident, .empty")
    page.goto(page.url.split("#")[0] + "#/admin/users")
    page.wait_for_selector("text=无权操作")


def test_markup_in_department_area_and_user_names_renders_as_text(page_as, live_server):
    payload = "<img src=x onerror=alert(1)>"
    for path, body in (("/api/v1/org/departments", {"code": "xss-dept", "name": payload, "kind": "other"}),
                       ("/api/v1/org/areas", {"code": "xss-area", "name": payload, "department": "xss-dept",
                                              "classification": "general"}),
                       ("/api/v1/org/users", {"username": "xss-user", "password": "xss-password-1",
                                              "display_name": "<script>alert(2)</script>", "roles": ["worker"],
                                              "department": "xss-dept"})):
        r = live_server.call("POST", path, "admin", json=body)
        assert r.status_code == 201, r.text
    page = page_as("admin", "phone")
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    base = page.url.split("#")[0]
    for view in ("departments", "areas", "users"):
        page.goto(f"{base}#/admin/{view}")
        text = payload if view != "users" else "<script>alert(2)</script>"
        page.get_by_text(text, exact=True).first.wait_for()              # the markup, shown as its characters
        page.wait_for_timeout(300)
        assert page.locator("main img[src='x']").count() == 0
        assert page.locator("main script").count() == 0
    assert dialogs == []
