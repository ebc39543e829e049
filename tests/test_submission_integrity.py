"""A submission writes only what its form declares (issue 12, part 1).

The four defects seen on the hot-work permit, reproduced through the library: each extra
key is now a 422 naming it, with the instance, its tasks and its audit chain exactly as
before. Deployment refuses a form field that names a variable the process computes
(decision output, script target, service result, scope and reserved names); a task may
overrule a computed value only where it says so (``overrides``), by an entitled user,
and the audit event keeps the old and new value.
"""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from engine.bpmn_builder import ProcessBuilder
from engine.models import AuditEvent, ProcessDefinition, ProcessInstance, TaskRecord
from tests.test_library_hot_work import APPLICATION, APPROVE, applied, gas
from tests.test_library_support import ROOT, plant  # noqa: F401


def snapshot(platform, instance_id: int) -> dict:
    """Everything a completion could change: the instance row, its task rows, its audit events."""
    with platform.db.session(write=False) as s:
        inst = s.get(ProcessInstance, instance_id)
        tasks = s.execute(select(TaskRecord.id, TaskRecord.bpmn_id, TaskRecord.state, TaskRecord.assignee,
                                 TaskRecord.department, TaskRecord.completed_by)
                          .where(TaskRecord.instance_id == instance_id).order_by(TaskRecord.id)).all()
        return {"row_version": inst.row_version, "status": inst.status, "variables": inst.variables,
                "state": inst.state, "department": inst.department, "tasks": [tuple(t) for t in tasks],
                "audit": s.scalar(select(func.count()).select_from(AuditEvent)
                                  .where(AuditEvent.instance_id == instance_id)),
                "all_audit": s.scalar(select(func.count()).select_from(AuditEvent))}


def refused(plant, platform, user, iid, bpmn_id, data, field):
    """Complete with ``data``: a 422 naming ``field``, and nothing stored."""
    task = plant.task(user, iid, bpmn_id)
    before = snapshot(platform, iid)
    r = plant.try_complete(user, iid, bpmn_id, data, task_id=task["id"])
    assert r.status_code == 422, r.json
    assert r.headers["Content-Type"] == "application/problem+json"
    assert field in [e["field"] for e in r.json["errors"]], r.json
    assert snapshot(platform, iid) == before
    return r.json


def special_permit_in_review(plant):
    iid = applied(plant, "unit-1", equipment_state="running")
    assert plant.variables(iid)["grade"] == "special"
    return iid


# ------------------------------------------------------------------ the four defects seen


def test_an_extra_department_at_the_application_is_refused(plant, platform):
    iid = plant.start("worker1", "hot_work_permit", {"area": "warehouse"})
    body = refused(plant, platform, "worker1", iid, "hw_apply", {**APPLICATION, "department": "storage"},
                   "department")
    assert [e["field"] for e in body["errors"]] == ["department"]
    assert "hot_work_application.json" in body["detail"]
    plant.complete("worker1", iid, "hw_apply", APPLICATION)         # the same without it goes on
    review = plant.task("prod1", iid, "hw_unit_review")
    assert review["department"] == "workshop-1"                       # the starter's, not "storage"


def test_a_pass_threshold_sent_with_the_gas_analysis_is_refused(plant, platform):
    iid = applied(plant, "warehouse")                                 # second grade: the unit issues it
    plant.complete("prod1", iid, "hw_unit_review", APPROVE)
    assert plant.variables(iid)["max_combustible_pct"] == 0.5         # DMN: LEL >= 4 %
    refused(plant, platform, "leader1", iid, "hw_gas_analysis",
            {**gas(plant, pct=0.8), "max_combustible_pct": 1.0}, "max_combustible_pct")
    plant.complete("leader1", iid, "hw_gas_analysis", gas(plant, pct=0.8))
    v = plant.variables(iid)
    assert v["max_combustible_pct"] == 0.5 and v["gas_pass"] is False  # 0.8 % still fails the analysis


def test_a_grade_sent_with_the_unit_review_of_a_special_permit_is_refused(plant, platform):
    iid = special_permit_in_review(plant)
    refused(plant, platform, "prod1", iid, "hw_unit_review", {**APPROVE, "grade": "second"}, "grade")
    plant.complete("prod1", iid, "hw_unit_review", APPROVE)
    assert plant.variables(iid)["permit_status"] == "applying"        # not issued
    assert plant.sees("safety1", iid) == ["安全管理部门审核"]            # the special chain goes on


def test_an_extra_now_is_refused_instead_of_breaking_the_instance(plant, platform):
    iid = plant.start("worker1", "hot_work_permit", {"area": "warehouse"})
    refused(plant, platform, "worker1", iid, "hw_apply", {**APPLICATION, "now": "2020-01-01"}, "now")
    plant.complete("worker1", iid, "hw_apply", APPLICATION)
    assert plant.instance(iid)["status"] == "running"


def test_every_undeclared_key_is_named_with_its_path(plant, platform):
    iid = special_permit_in_review(plant)
    data = {**APPROVE, "grade": "second", "now": 1,
            "nearby_operations": [{"kind": "painting", "distance_m": 5, "foo": 1}]}
    body = refused(plant, platform, "prod1", iid, "hw_unit_review", data, "nearby_operations/0/foo")
    assert sorted(e["field"] for e in body["errors"]) == ["grade", "nearby_operations/0/foo", "now"]


def test_library_forms_state_the_rule_in_their_schema():
    for path in sorted((ROOT / "forms").glob("*.json")):
        assert json.loads(path.read_text(encoding="utf-8")).get("additionalProperties") is False, path.name


# ------------------------------------------------------------------ small processes

FORM = {"type": "object", "properties": {"note": {"type": "string"}}}


def _deploy(api, b, forms: dict | None = None, extra: dict | None = None):
    files = {f"{b.process_id}.bpmn": b.to_xml(), **{k: json.dumps(v) for k, v in (forms or {}).items()},
             **(extra or {})}
    return api.deploy(files)


def _start(api, key, user="prod1", variables=None):
    r = api.post("/api/v1/process-instances", user, json={"process_key": key, "variables": variables or {}})
    assert r.status_code == 201, r.json
    return r.json


def _complete(api, task_id, user, data):
    return api.post(f"/api/v1/tasks/{task_id}/complete", user, json={"data": data})


def test_a_task_without_a_form_accepts_no_data(api, platform):
    b = ProcessBuilder("formless", "无表单")
    b.lane("production")
    b.start().user("ack", "确认", lane="production").end()
    b.chain("start", "ack", "end")
    assert _deploy(api, b).status_code == 201
    inst = _start(api, "formless")
    task = inst["active_tasks"][0]["id"]
    before = snapshot(platform, inst["id"])
    r = _complete(api, task, "prod1", {"total": 10, "department": "storage"})
    assert r.status_code == 422 and sorted(e["field"] for e in r.json["errors"]) == ["department", "total"]
    assert "no form" in r.json["detail"]
    assert snapshot(platform, inst["id"]) == before
    assert _complete(api, task, "prod1", {}).status_code == 200


def test_nested_objects_follow_their_schema(api, platform):
    form = {"type": "object", "additionalProperties": True, "properties": {
        "site": {"type": "object", "properties": {"x": {"type": "number"}}},            # closed
        "extra": {"type": "object"},                                                    # free-form
        "tags": {"type": "object", "properties": {"a": {}}, "additionalProperties": {"type": "string"}},
        "points": {"type": "array", "items": {"type": "object", "properties": {"p": {}}}}},
        "allOf": [{"if": {"properties": {"note": {"const": "x"}}}, "then": {"properties": {"why": {}}}}]}
    b = ProcessBuilder("nested", "嵌套")
    b.lane("production")
    b.start().user("fill", "填写", lane="production", form="nested.json").end()
    b.chain("start", "fill", "end")
    assert _deploy(api, b, {"nested.json": form}).status_code == 201
    inst = _start(api, "nested")
    task = inst["active_tasks"][0]["id"]
    r = _complete(api, task, "prod1", {"site": {"x": 1, "y": 2}, "points": [{"p": 1}, {"q": 1}], "z": 0})
    assert r.status_code == 422
    assert sorted(e["field"] for e in r.json["errors"]) == ["points/1/q", "site/y", "z"]  # despite root's true
    ok = {"site": {"x": 1}, "extra": {"anything": {"goes": 1}}, "tags": {"a": 1, "b": "free"},
          "points": [{"p": 1}], "why": "declared in a then-branch"}
    assert _complete(api, task, "prod1", ok).status_code == 200, r.json


# ------------------------------------------------------------------ deployment refusals

GAS_DMN = (ROOT / "bpmn" / "gas_pass_threshold.dmn").read_text(encoding="utf-8")


def _one_task(form_fields: list[str], before=None, pre_script=None, props=None):
    """start → (before) → review (form with ``form_fields``) → end."""
    b = ProcessBuilder("calc", "计算")
    b.lane("production")
    b.start()
    chain = ["start"]
    if before:
        before(b)
        chain.append("before")
    b.user("review", "审核", lane="production", form="calc_form.json", pre_script=pre_script, props=props)
    b.end()
    b.chain(*chain, "review", "end")
    form = {"type": "object", "properties": {f: {"type": "string"} for f in form_fields}}
    return b, {"calc_form.json": form}


@pytest.mark.parametrize("field, before, pre_script, extra, kind", [
    ("max_combustible_pct", lambda b: b.business_rule("before", "判定", "gas_pass_threshold", lane="production"),
     None, {"gas_pass_threshold.dmn": GAS_DMN}, "output of decision 'gas_pass_threshold'"),
    ("ratio", lambda b: b.script("before", "计算", "total = 1\nfor i in range(2):\n    ratio = i\n",
                                 lane="production"), None, {}, "assigned by script task 'before'"),
    ("flag", lambda b: b.script("before", "计算", "if True:\n    (flag := 1)\nd = {}\n", lane="production"),
     None, {}, "assigned by script task 'before'"),
    ("limit", None, "limit = 5", {}, "preScript of 'review'"),
    ("notify_result", lambda b: b.service("before", "通知", "notify/people",
                                          {"recipients": "['safety']", "message": "'x'"},
                                          lane="production", result_variable="notify_result"),
     None, {}, "result variable of service task 'before'"),
    ("department", None, None, {}, "scope variable"),
    ("area", None, None, {}, "scope variable"),
    ("business_key", None, None, {}, "scope variable"),
    ("now", None, None, {}, "reserved"),
    ("parse_datetime", None, None, {}, "reserved"),
    ("active_instances", None, None, {}, "reserved"),
])
def test_deployment_refuses_a_form_field_the_process_computes(api, platform, field, before, pre_script, extra, kind):
    b, forms = _one_task(["note", field], before=before, pre_script=pre_script)
    r = _deploy(api, b, forms, extra)
    assert r.status_code == 422, r.json
    errors = [e for e in r.json["errors"] if field in e["message"]]
    assert len(errors) == 1, r.json["errors"]
    err = errors[0]
    assert err["file"] == "calc.bpmn" and err["element_id"] == "review"
    assert 'id="review"' in b.to_xml().splitlines()[err["line"] - 1]
    assert "calc_form.json" in err["message"] and f"'{field}'" in err["message"] and kind in err["message"]
    with platform.db.session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(ProcessDefinition)) == 0


def test_deployment_refuses_a_field_a_called_process_computes(api):
    child = ProcessBuilder("child", "子流程")
    child.lane("production")
    child.start().script("calc", "计算", "ratio = 2", lane="production").end()
    child.chain("start", "calc", "end")
    b, forms = _one_task(["note", "ratio"], before=lambda b: b.call("before", "调用", "child", lane="production"))
    r = _deploy(api, b, forms, {"child.bpmn": child.to_xml()})
    assert r.status_code == 422, r.json
    [err] = r.json["errors"]
    assert err["element_id"] == "review" and "process 'child', called by 'before'" in err["message"], err


def test_deployment_accepts_an_override_or_read_only_display_of_a_computed_variable(api):
    def before(b):
        b.script("before", "计算", "grade = 'special'\nscore = 3", lane="production")

    b, forms = _one_task(["note", "grade", "score"], before=before, props={"overrides": "grade"})
    forms["calc_form.json"]["properties"]["score"]["readOnly"] = True
    r = _deploy(api, b, forms)
    assert r.status_code == 201, r.json


@pytest.mark.parametrize("props, message", [
    ({"overrides": "grade,missing"}, "overrides names 'missing', which form 'calc_form.json' does not declare"),
    ({"overrides": "grade", "override_roles": "supervision,night_watch"}, "override_roles names 'night_watch'"),
    ({"override_roles": "supervision"}, "overrides nothing"),
])
def test_deployment_refuses_a_malformed_override(api, props, message):
    b, forms = _one_task(["note", "grade"], before=lambda b: b.script("before", "计算", "grade = 'special'",
                                                                      lane="production"), props=props)
    r = _deploy(api, b, forms)
    assert r.status_code == 422, r.json
    assert any(message in e["message"] and e["element_id"] == "review" for e in r.json["errors"]), r.json


def test_the_library_passes_the_check(api):
    from tests.test_library_support import library_files

    assert api.deploy(library_files()).status_code == 201


# ------------------------------------------------------------------ overrides at completion


def _override_process(api, lane, props):
    b = ProcessBuilder("regrade", "复核级别")
    b.lane(lane)
    b.start().script("grade_it", "定级", "grade = 'first'\nscore = 3", lane=lane)
    b.user("review", "复核", lane=lane, form="regrade.json", props=props).end()
    b.chain("start", "grade_it", "review", "end")
    form = {"type": "object", "additionalProperties": False, "properties": {
        "grade": {"enum": ["special", "first", "second"]}, "score": {"type": "integer", "readOnly": True},
        "note": {"type": "string"}}}
    assert _deploy(api, b, {"regrade.json": form}).status_code == 201
    inst = _start(api, "regrade", user="safety1" if lane == "supervision" else "prod1")
    return inst["id"], inst["active_tasks"][0]["id"]


def _complete_event(api, iid):
    r = api.get(f"/api/v1/audit?instance_id={iid}&kind=complete", "admin")
    assert r.status_code == 200, r.json
    return r.json["items"][-1]["data"]


def test_an_entitled_user_overrules_a_computed_value_and_the_audit_keeps_old_and_new(api, platform):
    iid, task = _override_process(api, "supervision", {"overrides": "grade"})
    r = _complete(api, task, "safety1", {"grade": "special", "note": "加热炉旁，升级", "score": 3})
    assert r.status_code == 200, r.json
    event = _complete_event(api, iid)
    assert event["overrides"] == [{"field": "grade", "old": "first", "new": "special"}]
    assert "score" not in event["data"]                               # read-only: shown, not written
    v = api.get(f"/api/v1/process-instances/{iid}", "admin").json["variables"]
    assert v["grade"] == "special" and v["score"] == 3


def test_overruling_needs_an_entitled_role(api, platform):
    iid, task = _override_process(api, "production", {"overrides": "grade"})
    before = snapshot(platform, iid)
    r = _complete(api, task, "prod1", {"grade": "second"})
    assert r.status_code == 403 and r.json["errors"][0]["field"] == "grade", r.json
    assert "supervision" in r.json["detail"] and "plant_leader" in r.json["detail"]
    assert snapshot(platform, iid) == before
    r = _complete(api, task, "prod1", {"score": 4})                   # a changed read-only value
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "score", r.json
    assert snapshot(platform, iid) == before
    # The value unchanged is no overrule: anyone of the lane may send it back.
    assert _complete(api, task, "prod1", {"grade": "first", "note": "同意"}).status_code == 200
    assert "overrides" not in _complete_event(api, iid)


def test_override_roles_name_who_may_overrule(api, platform):
    iid, task = _override_process(api, "production", {"overrides": "grade", "override_roles": "production"})
    r = _complete(api, task, "prod1", {"grade": "special"})
    assert r.status_code == 200, r.json
    assert _complete_event(api, iid)["overrides"] == [{"field": "grade", "old": "first", "new": "special"}]


# ------------------------------------------------------------------ the walk itself (no database)


def test_the_key_walk_follows_local_refs_prefix_items_and_deep_data_without_recursion():
    from engine.form_keys import declared_fields, undeclared_keys

    schema = {"$defs": {"node": {"type": "object", "properties": {"child": {"$ref": "#/$defs/node"}, "v": {}}}},
              "$ref": "#/$defs/root",
              "properties": {"tree": {"$ref": "#/$defs/node"},
                             "pair": {"type": "array", "prefixItems": [{"properties": {"a": {}}}],
                                      "items": {"properties": {"b": {}}}}}}
    schema["$defs"]["root"] = {"properties": {"from_ref": {}}}
    assert declared_fields(schema) == {"tree", "pair", "from_ref"}
    deep = leaf = {}
    for _ in range(5000):                                  # far deeper than Python's recursion limit
        leaf["child"] = {}
        leaf = leaf["child"]
    leaf["x"] = 1
    errors = undeclared_keys(schema, {"tree": deep, "pair": [{"a": 1, "b": 1}, {"b": 1, "a": 1}], "a/b": 0})
    fields = [e["field"] for e in errors]
    assert "a~1b" in fields                                # a '/' in a key cannot pose as a path
    assert "pair/0/b" in fields and "pair/1/a" in fields
    assert [f for f in fields if f.startswith("tree/")] == ["tree" + "/child" * 5000 + "/x"]
    assert undeclared_keys(None, {}) == []
