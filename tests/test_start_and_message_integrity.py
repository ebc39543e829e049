"""Issue 12, section 1: a start writes only the variables its process declares; message payloads and
connector results land in the variable the diagram names, never merged over process variables."""
import json

import pytest
from sqlalchemy import func, select

from connectors.base import Connector, Operation, Param
from engine.bpmn_builder import ProcessBuilder
from engine.models import AuditEvent, ProcessInstance

START_FORM = json.dumps({
    "type": "object", "title": "开工登记", "required": ["work_order"],
    "properties": {"work_order": {"type": "string", "title": "工单号", "minLength": 3},
                   "crew": {"type": "integer", "title": "作业人数", "minimum": 1},
                   "area": {"type": "string", "title": "区域"}},
}, ensure_ascii=False)


def _declared(key="declared", *, variables=("area",), form=None) -> str:
    b = ProcessBuilder(key, "声明了启动变量的流程")
    b.lane("production")
    b.start(variables=list(variables), form=form).user("work", "作业", lane="production").end()
    b.chain("start", "work", "end")
    return b.to_xml()


def _rows(platform) -> tuple[int, int]:
    with platform.db.session(write=False) as s:
        return (s.scalar(select(func.count()).select_from(ProcessInstance)),
                s.scalar(select(func.count()).select_from(AuditEvent)))


def _start(api, user, key, variables, business_key=None):
    return api.post("/api/v1/process-instances", user,
                    json={"process_key": key, "variables": variables, "business_key": business_key})


def _fields(r) -> set[str]:
    return {e["field"] for e in r.json.get("errors") or []}


# --------------------------------------------------------------------------- start variables

def test_an_undeclared_start_variable_is_422_naming_it_and_stores_nothing(api, platform):
    assert api.deploy({"declared.bpmn": _declared()}).status_code == 201
    before = _rows(platform)
    r = _start(api, "prod1", "declared", {"area": "unit-1", "grade": "second", "now": "x"}, "BK-1")
    assert r.status_code == 422, r.json
    assert r.headers["Content-Type"] == "application/problem+json"
    assert _fields(r) == {"variables.grade", "variables.now"}
    assert _rows(platform) == before                       # no instance row, no audit event
    # the same business key is free: nothing half-started holds it
    ok = _start(api, "prod1", "declared", {"area": "unit-1"}, "BK-1")
    assert ok.status_code == 201, ok.json
    assert ok.json["area"] == "unit-1"
    assert api.get(f"/api/v1/process-instances/{ok.json['id']}", "prod1").json["variables"] == {"area": "unit-1"}


def test_a_process_that_declares_nothing_accepts_no_variables(api, platform):
    assert api.deploy({"bare.bpmn": _declared("bare", variables=())}).status_code == 201
    before = _rows(platform)
    r = _start(api, "prod1", "bare", {"department": "storage"})
    assert r.status_code == 422 and _fields(r) == {"variables.department"}
    assert "declares: none" in r.json["errors"][0]["message"]
    assert _rows(platform) == before
    assert _start(api, "prod1", "bare", {}).status_code == 201


def test_only_a_plant_wide_role_starts_in_another_department(api, platform):
    assert api.deploy({"scoped.bpmn": _declared("scoped", variables=("department", "area"))}).status_code == 201
    before = _rows(platform)
    r = _start(api, "prod1", "scoped", {"department": "storage", "area": "tank-farm-3"})   # prod1: workshop-1
    assert r.status_code == 403, r.json
    assert _fields(r) == {"variables.department"} and "storage" in r.json["detail"]
    assert _rows(platform) == before
    own = _start(api, "prod1", "scoped", {"department": "workshop-1", "area": "unit-1"})
    assert own.status_code == 201 and own.json["department"] == "workshop-1"
    other = _start(api, "safety1", "scoped", {"department": "storage", "area": "tank-farm-3"})  # supervision
    assert other.status_code == 201 and (other.json["department"], other.json["area"]) == ("storage", "tank-farm-3")
    tasks = other.json["active_tasks"]
    assert [t["department"] for t in tasks] == ["storage"]


def test_department_and_area_must_be_known(api, platform):
    assert api.deploy({"scoped.bpmn": _declared("scoped", variables=("department", "area"))}).status_code == 201
    before = _rows(platform)
    r = _start(api, "safety1", "scoped", {"department": "no-such-dept", "area": "moon-base"})
    assert r.status_code == 422 and _fields(r) == {"variables.department", "variables.area"}
    r = _start(api, "safety1", "scoped", {"area": 7})
    assert r.status_code == 422 and _fields(r) == {"variables.area"}
    assert _rows(platform) == before


def test_a_start_form_validates_the_start_variables(api, platform):
    files = {"formed.bpmn": _declared("formed", variables=(), form="start_form.json"), "start_form.json": START_FORM}
    assert api.deploy(files).status_code == 201
    before = _rows(platform)
    r = _start(api, "prod1", "formed", {})
    assert r.status_code == 422 and _fields(r) == {"variables.work_order"}          # required
    r = _start(api, "prod1", "formed", {"work_order": "W1", "crew": 0, "extra": 1})
    assert r.status_code == 422
    assert _fields(r) == {"variables.work_order", "variables.crew", "variables.extra"}
    assert _rows(platform) == before
    ok = _start(api, "prod1", "formed", {"work_order": "WO-17", "crew": 3, "area": "unit-1"})
    assert ok.status_code == 201, ok.json
    assert api.get(f"/api/v1/process-instances/{ok.json['id']}", "prod1").json["variables"] == {
        "work_order": "WO-17", "crew": 3, "area": "unit-1"}


def test_a_start_form_resolves_its_ref_to_another_form_of_the_deployment(api):
    # As a task form does (engine/form_schema.py): deployment accepted the $ref, so the start must too.
    common = json.dumps({"$defs": {"order": {"type": "string", "pattern": "^WO-[0-9]+$"}}})
    form = json.dumps({"type": "object", "properties": {"work_order": {"$ref": "common.json#/$defs/order"}},
                       "required": ["work_order"]})
    files = {"reffed.bpmn": _declared("reffed", variables=(), form="start_ref.json"), "start_ref.json": form,
             "common.json": common}
    assert api.deploy(files).status_code == 201
    bad = _start(api, "prod1", "reffed", {"work_order": "17"})
    assert bad.status_code == 422 and _fields(bad) == {"variables.work_order"}, bad.json
    assert _start(api, "prod1", "reffed", {"work_order": "WO-17"}).status_code == 201


def test_deployment_refuses_reserved_start_variables_message_and_result_variables(api):
    b = ProcessBuilder("bad_names", "保留名")
    b.lane("production")
    b.start(variables=["now", "business_key", "area"]).message_catch("wait", "等待", "go", variable="department")
    b.message_catch("wait2", "等待", "sorted")     # no variable named: the payload would land in `sorted`
    b.service("call", "调用", "notify/webhook", {"url": "'http://x'"}, result_variable="area")
    b.user("work", "作业", lane="production").end()
    b.chain("start", "wait", "wait2", "call", "work", "end")
    r = api.deploy({"bad.bpmn": b.to_xml()})
    assert r.status_code == 422, r.json
    found = {(e["element_id"], e["message"].split(" ")[0] + " " + e["message"].split("'")[1]) for e in r.json["errors"]}
    assert found == {("start", "start now"), ("start", "start business_key"), ("wait", "message department"),
                     ("wait2", "message sorted"), ("call", "result area")}, r.json["errors"]
    assert all(e["line"] for e in r.json["errors"])


# --------------------------------------------------------------------------- messages

def _catching(key="catcher") -> str:
    b = ProcessBuilder(key, "收消息的作业票")
    b.lane("production")
    b.start(variables=["area", "department"])
    b.script("init", "登记", "grade = 'special'\npermit_status = 'active'", lane="production")
    b.message_catch("wait", "等待更新", "permit_update", variable="update")
    b.message_catch("wait_go", "等待开工", "go")          # no variable named: lands in `go`
    b.user("work", "作业", lane="production").end()
    b.chain("start", "init", "wait", "wait_go", "work", "end")
    return b.to_xml()


def test_a_message_payload_lands_in_its_variable_and_overwrites_nothing(api):
    assert api.deploy({"catcher.bpmn": _catching()}).status_code == 201
    started = _start(api, "prod1", "catcher", {"area": "unit-1", "department": "workshop-1"}, "P-9")
    assert started.status_code == 201, started.json
    iid = started.json["id"]
    forged = {"department": "storage", "grade": "second", "permit_status": "closed", "area": "tank-farm-3"}
    r = api.post("/api/v1/messages", "safety1",
                 json={"name": "permit_update", "business_key": "P-9", "payload": forged})
    assert r.status_code == 200, r.json
    r = api.post("/api/v1/messages", "safety1",
                 json={"name": "go", "correlation": {"area": "unit-1"}, "payload": {"grade": "first"}})
    assert r.status_code == 200, r.json
    inst = api.get(f"/api/v1/process-instances/{iid}", "safety1").json
    v = inst["variables"]
    assert (v["department"], v["area"], v["grade"], v["permit_status"]) == ("workshop-1", "unit-1", "special", "active")
    assert v["update"] == forged and v["go"] == {"grade": "first"}
    [task] = inst["active_tasks"]
    assert (task["department"], task["area"]) == ("workshop-1", "unit-1")      # the scope did not move
    timeline = [e for e in inst["timeline"] if e["kind"] == "message"]
    assert [e["data"]["payload"] for e in timeline] == [forged, {"grade": "first"}]


def _message_started(key="on_report") -> str:
    b = ProcessBuilder(key, "上报即启动")
    b.lane("supervision")
    b.start("start", "收到上报", message="incident_report", variables=["area", "department"])
    b.user("handle", "处置", lane="supervision").end()
    b.chain("start", "handle", "end")
    return b.to_xml()


def test_a_message_start_takes_its_scope_from_the_correlation_and_the_payload_in_its_variable(api, platform):
    assert api.deploy({"on_report.bpmn": _message_started()}).status_code == 201
    payload = {"department": "workshop-1", "area": "unit-1", "grade": "second", "now": "forged"}
    before = _rows(platform)
    r = api.post("/api/v1/messages", "prod1", json={            # prod1 (workshop-1) names another department
        "name": "incident_report", "correlation": {"area": "tank-farm-3", "department": "storage"},
        "payload": payload})
    assert r.status_code == 403 and _fields(r) == {"variables.department"}
    assert _rows(platform) == before
    r = api.post("/api/v1/messages", "safety1", json={
        "name": "incident_report", "correlation": {"area": "tank-farm-3", "department": "storage", "shift": "B"},
        "payload": payload})
    assert r.status_code == 200, r.json
    [started] = r.json["instances"]
    inst = api.get(f"/api/v1/process-instances/{started['id']}", "safety1").json
    assert (inst["department"], inst["area"]) == ("storage", "tank-farm-3")
    # the declared correlation values are the start variables; the payload sits in `incident_report`
    assert inst["variables"] == {"area": "tank-farm-3", "department": "storage", "incident_report": payload}
    assert [t["department"] for t in inst["active_tasks"]] == ["storage"]


# --------------------------------------------------------------------------- connector results

class ForgingConnector(Connector):
    """Answers with keys that are also process variables."""

    name = "forger"
    version = "1"

    def operations(self):
        return [Operation("lookup", (Param("value"),), handler=self._lookup)]

    def _lookup(self, value):
        return {"department": "storage", "grade": "second", "permit_status": "closed", "value": value}


@pytest.fixture
def forger(platform):
    platform.connectors.register(ForgingConnector())
    yield
    platform.connectors.unregister("forger")


def test_a_connector_result_lands_in_its_result_variable_only(api, platform, forger):
    b = ProcessBuilder("svc_integrity", "连接器结果")
    b.lane("production")
    b.start(variables=["area", "department"])
    b.script("init", "登记", "grade = 'special'\npermit_status = 'active'", lane="production")
    b.service("named", "有结果变量", "forger/lookup", {"value": "area"}, result_variable="lookup")
    b.service("unnamed", "无结果变量", "forger/lookup", {"value": "grade"})
    b.user("work", "作业", lane="production").end()
    b.chain("start", "init", "named", "unnamed", "work", "end")
    assert api.deploy({"svc.bpmn": b.to_xml()}).status_code == 201
    iid = _start(api, "prod1", "svc_integrity", {"area": "unit-1", "department": "workshop-1"}).json["id"]
    while platform.dispatcher.run_once():
        pass
    inst = api.get(f"/api/v1/process-instances/{iid}", "prod1").json
    v = inst["variables"]
    assert (v["department"], v["grade"], v["permit_status"]) == ("workshop-1", "special", "active")
    assert v["lookup"]["value"] == "unit-1"
    # no result variable named: SpiffWorkflow's own default, a variable of the task's id
    assert v["spiff__unnamed_result"]["value"] == "special"
    assert [t["department"] for t in inst["active_tasks"]] == ["workshop-1"]
    # and a diagram cannot point a result at the scope (or a platform name): refused at deployment
    for name in ("department", "now"):
        bad = ProcessBuilder("svc_scope", "结果写入范围变量")
        bad.lane("production")
        bad.start().service("named", "查询", "forger/lookup", {"value": "'x'"}, result_variable=name).end()
        bad.chain("start", "named", "end")
        r = api.deploy({"svc_scope.bpmn": bad.to_xml()})
        assert r.status_code == 422, r.json
        assert [(e["element_id"], f"'{name}'" in e["message"]) for e in r.json["errors"]] == [("named", True)]
