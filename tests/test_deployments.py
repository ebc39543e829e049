"""Deployments: versioning by content hash, validation errors with file/line/element, nothing stored on failure."""
import json

from sqlalchemy import func, select

from engine.bpmn_builder import ProcessBuilder
from engine.models import ProcessDefinition
from tests.processes import APPLY_FORM, REVIEW_FORM, permit_files, permit_process


def _count_definitions(platform):
    with platform.db.session(write=False) as s:
        return s.scalar(select(func.count()).select_from(ProcessDefinition))


def test_versions_follow_content_and_instances_stay_on_theirs(api):
    r = api.deploy(permit_files())
    assert r.status_code == 201 and r.json["processes"][0]["version"] == 1
    again = api.deploy(permit_files())
    assert again.status_code == 200
    assert again.json["processes"][0]["version"] == 1 and again.json["processes"][0]["created"] is False
    old = api.post("/api/v1/process-instances", "prod1", json={"process_key": "permit"}).json
    assert old["version"] == 1
    # Changing only a form changes the version: forms are pinned to it.
    files = permit_files()
    form = json.loads(APPLY_FORM)
    form["properties"]["content"]["minLength"] = 10
    files["apply.json"] = json.dumps(form)
    r = api.deploy(files)
    assert r.status_code == 201 and r.json["processes"][0]["version"] == 2
    new = api.post("/api/v1/process-instances", "prod1", json={"process_key": "permit"}).json
    assert new["version"] == 2
    # The old instance still validates against its own (v1) form: 2 characters are enough there.
    old_task = old["active_tasks"][0]["id"]
    assert api.post(f"/api/v1/tasks/{old_task}/complete", "prod1",
                    json={"data": {"content": "焊接", "workers": 1}}).status_code == 200
    new_task = new["active_tasks"][0]["id"]
    r = api.post(f"/api/v1/tasks/{new_task}/complete", "prod1", json={"data": {"content": "焊接", "workers": 1}})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "content"

    listed = api.get("/api/v1/process-definitions", "prod1").json
    assert [(d["key"], d["version"], d["deployed_by"]) for d in listed["items"]] == [("permit", 2, "designer1")]
    versions = api.get("/api/v1/process-definitions/permit", "prod1").json
    assert [v["version"] for v in versions["versions"]] == [2, 1]
    xml = api.get("/api/v1/process-definitions/permit/1/xml", "prod1")
    assert xml.status_code == 200 and xml.mimetype == "application/xml" and b'id="permit"' in xml.data
    assert api.get("/api/v1/process-definitions/permit/9/xml", "prod1").status_code == 404
    assert api.get("/api/v1/process-definitions/nope", "prod1").status_code == 404


def test_only_designers_and_admins_deploy(api, platform):
    r = api.deploy(permit_files(), as_user="prod1")
    assert r.status_code == 403 and "designer" in r.json["detail"]
    assert _count_definitions(platform) == 0
    assert api.deploy(permit_files(), as_user="admin").status_code == 201


def _errors(r):
    assert r.status_code == 422, r.json
    assert r.headers["Content-Type"] == "application/problem+json"
    return r.json["errors"]


def test_every_error_reported_at_once_with_file_line_and_element(api, platform):
    b = ProcessBuilder("bad", "坏流程")
    b.lane("production").lane("夜班巡逻队")
    b.start()
    b.user("no_lane", "无泳道", lane="production")
    b.user("odd_lane", "未知角色", lane="夜班巡逻队")
    b.user("missing_form", "缺表单", lane="production", form="missing.json")
    b.script("evil", "越权脚本", "x = ().__class__.__base__.__subclasses__()")
    b.script("importer", "导入", "import os\nos.system('id')")
    b.service("svc", "未知连接器", "nosuch/op", {"a": "1"})
    b.service("svc2", "缺参数", "mes/work_orders", {"date": "'2026-11-28'"})
    b.timer_catch("wait", "等待", "duration", "'PT1X'")
    b.end()
    b.chain("start", "no_lane", "odd_lane", "missing_form", "evil", "importer", "svc", "svc2", "wait", "end")
    xml = b.to_xml().replace("<bpmn:flowNodeRef>no_lane</bpmn:flowNodeRef>", "")  # outside every lane
    errors = _errors(api.deploy({"bad.bpmn": xml, "broken.json": '{"type": "object",\n "properties": 5}'}))
    by_element = {e["element_id"]: e for e in errors if e["element_id"]}
    assert "outside any lane" in by_element["no_lane"]["message"]
    assert "not a known role" in by_element["odd_lane"]["message"]
    assert "missing.json" in by_element["missing_form"]["message"]
    assert "__class__" in by_element["evil"]["message"]
    assert "import" in by_element["importer"]["message"]
    assert "nosuch/op" in by_element["svc"]["message"]
    assert "needs parameter 'area'" in by_element["svc2"]["message"]
    assert "PT1X" in by_element["wait"]["message"]
    assert all(e["file"] == "bad.bpmn" and isinstance(e["line"], int) for e in by_element.values())
    lines = xml.splitlines()
    assert 'id="evil"' in lines[by_element["evil"]["line"] - 1] or "__class__" in lines[by_element["evil"]["line"] - 1]
    assert any(e["file"] == "broken.json" and "properties" in e["message"] for e in errors)
    assert _count_definitions(platform) == 0


def test_malformed_inputs_are_422_never_500(api, platform):
    cases = {
        "syntax.bpmn": b"<bpmn:definitions xmlns:bpmn='http://www.omg.org/spec/BPMN/20100524/MODEL'>\n<unclosed>",
        "binary.bpmn": bytes(range(256)) * 4,
        "xxe.bpmn": b'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<d>&x;</d>',
        "empty.bpmn": b"",
        "notes.txt": b"hello",
        "form.json": b"{not json",
        "list.json": b"[1, 2]",
    }
    for name, content in cases.items():
        r = api.deploy({name: content})
        errors = _errors(r)
        assert errors[0]["file"] == name, (name, errors)
    line = _errors(api.deploy({"syntax.bpmn": cases["syntax.bpmn"]}))[0]["line"]
    assert line == 2
    # XSD: a userTask with an attribute the schema does not allow.
    bad_xsd = permit_process().replace('<bpmn:userTask id="apply"', '<bpmn:userTask bogus="1" id="apply"')
    errors = _errors(api.deploy({"x.bpmn": bad_xsd, "apply.json": APPLY_FORM, "review.json": REVIEW_FORM}))
    assert "bogus" in errors[0]["message"] and errors[0]["element_id"] == "apply"
    # No files, a file without a name, and multipart without the 'files' field.
    r = api.post("/api/v1/deployments", "designer1", data={}, content_type="multipart/form-data")
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "files"
    assert _count_definitions(platform) == 0


def test_validate_endpoint_and_library_forms(api, platform):
    # A user task may reference a form of the library (forms/) without shipping it.
    b = ProcessBuilder("lib_form", "库表单")
    b.lane("production")
    lib_forms = sorted(platform.deployments.library_forms())
    if lib_forms:
        b.start().user("t", "填写", lane="production", form=lib_forms[0]).end().chain("start", "t", "end")
        r = api.post("/api/v1/deployments/validate", "designer1",
                     data={"files": [(__import__("io").BytesIO(b.to_xml().encode()), "lib.bpmn")]},
                     content_type="multipart/form-data")
        assert r.status_code == 200 and r.json["processes"][0]["key"] == "lib_form"
    assert _count_definitions(platform) == 0
