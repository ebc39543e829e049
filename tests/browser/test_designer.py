"""The designer views in a real browser: a broken upload lists every error as `file:line [element] message`;
a good one deploys; two versions' diff shows the changed element, in the list and on the diagram."""
from __future__ import annotations

import re

from engine.bpmn_builder import ProcessBuilder


def _process(key: str, *, review_lane: str = "supervision", condition: str = "approved == True",
             broken: bool = False) -> str:
    b = ProcessBuilder(key, "设计器测试")
    b.lane("production").lane("supervision").lane("plant_leader")
    b.start().user("apply", "申请", lane="production").user("review", "审核", lane=review_lane)
    if broken:
        b.script("importer", "导入", "import os\nos.system('id')", lane="supervision")
    b.xor("ok_gw", "同意?", default="Flow_no").user("approve", "批准", lane="plant_leader").end("end", "关闭")
    b.end("no", "驳回")
    b.chain("start", "apply", "review", *(["importer"] if broken else []), "ok_gw")
    b.flow("ok_gw", "approve", condition=condition, flow_id="Flow_yes").flow("ok_gw", "no", flow_id="Flow_no")
    b.chain("approve", "end")
    return b.to_xml()


def _file(name: str, text: str) -> dict:
    return {"name": name, "mimeType": "application/xml", "buffer": text.encode()}


def test_a_broken_upload_lists_file_line_element_message(page_as, live_server, console_errors, screenshot):
    page = page_as("designer1", "phone")
    page.goto(f"{live_server.url}/#/designer")
    page.set_input_files("input[type=file]", files=[_file("dsg_broken.bpmn", _process("dsg_broken", broken=True))])
    page.get_by_role("button", name="校验").click()
    page.wait_for_selector(".deploy-error")
    lines = page.locator(".deploy-error").all_inner_texts()
    assert lines and all(re.match(r"^dsg_broken\.bpmn(:\d+)?( \[[\w-]+\])? \S", line) for line in lines), lines
    assert any(re.match(r"^dsg_broken\.bpmn:\d+ \[importer\] .+", line) for line in lines), lines
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "designer-phone")
    # nothing was stored
    assert live_server.call("GET", "/api/v1/process-definitions/dsg_broken", "designer1").status_code == 404

    # the corrected file deploys as version 1
    page.set_input_files("input[type=file]", files=[_file("dsg_broken.bpmn", _process("dsg_broken"))])
    page.get_by_role("button", name="部署").click()
    page.wait_for_selector(".result-ok")
    assert "v1" in page.locator(".result-ok").inner_text()
    assert not [e for e in console_errors if "401" not in e and "422" not in e], console_errors


def test_two_versions_diff_shows_the_changed_element(page_as, live_server, screenshot):
    for v2 in (False, True):
        xml = _process("dsg_diff", review_lane="plant_leader" if v2 else "supervision",
                       condition="approved == True and score > 60" if v2 else "approved == True")
        r = live_server.call("POST", "/api/v1/deployments", "designer1", files=[("files", ("dsg_diff.bpmn", xml.encode()))])
        assert r.status_code == 201, r.text
    for size in ("desktop", "phone"):
        page = page_as("designer1", size)
        page.goto(f"{live_server.url}/#/designer")
        page.click('a[href="#/designer/dsg_diff"]')
        # latest two versions compared by default: v1 → v2
        review = page.wait_for_selector('.diff-item[data-element-id="review"][data-change="changed"]')
        assert "plant_leader" in review.inner_text() and "supervision" in review.inner_text()
        flow = page.locator('.diff-item[data-element-id="Flow_yes"]').inner_text()
        assert "score > 60" in flow
        assert page.locator('.diff-item[data-change="added"]').count() == 0
        # and on the v2 diagram
        page.wait_for_selector('g.djs-element[data-element-id="review"].mark-changed', timeout=30000)
        assert page.evaluate("document.documentElement.scrollWidth") <= (360 if size == "phone" else 1366)
        screenshot(page, f"designer-diff-{size}", full_page=True)
    # any version's diagram
    page.goto(f"{live_server.url}/#/designer/dsg_diff/1")
    page.wait_for_selector('g.djs-element[data-element-id="review"]', timeout=30000)
    page = page_as("designer1", "desktop")
    page.goto(f"{live_server.url}/#/designer")
    page.wait_for_selector(".table")
    screenshot(page, "designer-desktop")


def test_the_designer_is_for_designers(page_as, live_server):
    page = page_as("worker1", "phone")
    page.goto(f"{live_server.url}/#/designer")
    page.wait_for_selector("h1")
    assert page.locator("input[type=file]").count() == 0
