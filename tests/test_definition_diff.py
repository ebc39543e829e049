"""What changed between two deployed versions (GET /process-definitions/{key}/diff?from=&to=).

Two real deployments of a changed permit: a task added and one removed, a task moved to another lane
(another role approves), a gateway condition and an extension property changed, a script edited, a form
field tightened, a decision rule changed; shapes only dragged on the canvas are listed apart.
"""
import json

from engine.bpmn_builder import ProcessBuilder
from tests.processes import APPLY_FORM, REVIEW_FORM
from tests.test_deployments_dmn import GOOD_RULES, table


def _permit(*, v2: bool) -> str:
    b = ProcessBuilder("permit", "作业许可")
    b.lane("production").lane("team_leader").lane("supervision").lane("plant_leader")
    b.start(variables=["area"])
    b.user("apply", "申请", lane="production", form="apply.json", props={"priority": "70" if v2 else "60"})
    if v2:
        b.user("gas_test", "气体检测", lane="team_leader")  # added
    else:
        b.user("site_check", "现场确认", lane="team_leader", props={"due": "PT2H"})  # removed in v2
    b.user("review", "审核", lane="supervision", form="review.json")
    b.business_rule("grade", "分级", "risk", lane="supervision")
    b.script("note", "记录", "summary = 'v2: ' + str(approved)" if v2 else "summary = str(approved)",
             lane="supervision")
    b.xor("approved_gw", "同意?", default="Flow_rejected")
    # v2: the plant leader no longer approves; the supervision does
    b.user("approve", "批准", lane="supervision" if v2 else "plant_leader")
    b.end("end", "关闭")
    b.end("rejected", "驳回")
    b.chain("start", "apply", "gas_test" if v2 else "site_check", "review", "grade", "note", "approved_gw")
    b.flow("approved_gw", "approve", flow_id="Flow_approved",
           condition="approved == True and level != 'high'" if v2 else "approved == True")
    b.flow("approved_gw", "rejected", flow_id="Flow_rejected")
    b.chain("approve", "end")
    return b.to_xml()


def _files(v2: bool) -> dict:
    apply = json.loads(APPLY_FORM)
    rules = [list(r) for r in GOOD_RULES]
    if v2:
        apply["properties"]["workers"]["maximum"] = 20
        apply["required"] = ["content", "workers", "start"]
        rules[0] = (["&gt; 40", "-"], ['"high"', '"bare comparison"'])
    return {"permit.bpmn": _permit(v2=v2), "apply.json": json.dumps(apply, ensure_ascii=False),
            "review.json": REVIEW_FORM, "risk.dmn": table(rules)}


def test_two_versions_show_what_changed(api):
    r1 = api.deploy(_files(v2=False))
    assert r1.status_code == 201, r1.json
    r2 = api.deploy(_files(v2=True))
    assert r2.status_code == 201 and r2.json["processes"][0]["version"] == 2, r2.json

    r = api.get("/api/v1/process-definitions/permit/diff?from=1&to=2", "designer1")
    assert r.status_code == 200, r.json
    d = r.json
    assert (d["key"], d["from"]["version"], d["to"]["version"], d["identical"]) == ("permit", 1, 2, False)
    els = d["elements"]
    added = {e["id"]: e for e in els["added"]}
    removed = {e["id"]: e for e in els["removed"]}
    assert added["gas_test"] == {"id": "gas_test", "type": "userTask", "name": "气体检测", "process": "permit"}
    assert removed["site_check"]["type"] == "userTask" and removed["site_check"]["name"] == "现场确认"
    # the flows around them changed with them
    assert {"Flow_apply_gas_test", "Flow_gas_test_review"} <= set(added)
    assert {"Flow_apply_site_check", "Flow_site_check_review"} <= set(removed)

    changed = {e["id"]: {(c["kind"], c["name"]): (c["old"], c["new"]) for c in e["changes"]}
               for e in els["changed"]}
    assert changed["approve"] == {("lane", "lane"): ("plant_leader", "supervision")}
    assert changed["Flow_approved"] == {("condition", "condition"): ("approved == True",
                                                                    "approved == True and level != 'high'")}
    assert changed["apply"] == {("property", "priority"): ("60", "70")}
    assert changed["note"] == {("script", "script"): ("summary = str(approved)", "summary = 'v2: ' + str(approved)")}
    assert "review" not in changed and "start" not in changed  # untouched elements are not listed

    forms = d["forms"]
    assert forms["added"] == [] and forms["removed"] == [] and [f["file"] for f in forms["changed"]] == ["apply.json"]
    form_changes = {c["path"]: (c["old"], c["new"]) for c in forms["changed"][0]["changes"]}
    assert form_changes == {"/properties/workers/maximum": (None, 20),
                            "/required": (["content", "workers"], ["content", "workers", "start"])}

    [decision] = d["decisions"]["changed"]
    assert decision["id"] == "risk" and decision["file"] == "risk.dmn"
    assert [(c["kind"], c["name"]) for c in decision["changes"]] == [("rule", "r1")]
    assert decision["changes"][0]["old"].startswith("> 50") and decision["changes"][0]["new"].startswith("> 40")
    assert set(d["files"]["changed"]) == {"bpmn/permit.bpmn", "forms/apply.json", "dmn/risk.dmn"}

    # the other way round answers what going back would change
    back = api.get("/api/v1/process-definitions/permit/diff?from=2&to=1", "prod1").json
    assert [e["id"] for e in back["elements"]["added"] if e["type"] == "userTask"] == ["site_check"]
    same = api.get("/api/v1/process-definitions/permit/diff?from=2&to=2", "prod1").json
    assert same["identical"] is True and same["elements"] == {"added": [], "removed": [], "changed": []}


def test_moving_shapes_is_not_a_change_of_behaviour(api):
    xml = _permit(v2=False)
    files = _files(v2=False)
    assert api.deploy(files).status_code == 201
    # drag the review task 40 px to the right (its DI bounds only)
    start = xml.index('bpmnElement="review"')
    x_at = xml.index('x="', start) + 3
    x_end = xml.index('"', x_at)
    moved = xml[:x_at] + str(int(float(xml[x_at:x_end])) + 40) + xml[x_end:]
    assert api.deploy({**files, "permit.bpmn": moved}).status_code == 201
    d = api.get("/api/v1/process-definitions/permit/diff?from=1&to=2", "designer1").json
    assert d["identical"] is False and d["layout_changed"] == ["review"]
    assert d["elements"] == {"added": [], "removed": [], "changed": []}


def test_bad_diff_requests_name_the_field(api):
    assert api.deploy(_files(v2=False)).status_code == 201
    r = api.get("/api/v1/process-definitions/permit/diff?from=1", "designer1")
    assert r.status_code == 422 and [e["field"] for e in r.json["errors"]] == ["to"]
    r = api.get("/api/v1/process-definitions/permit/diff?from=x&to=1", "designer1")
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "from"
    r = api.get("/api/v1/process-definitions/permit/diff?from=1&to=7", "designer1")
    assert r.status_code == 404 and r.json["errors"] == [{"field": "to", "message": "no version 7 of 'permit'"}]
    assert api.get("/api/v1/process-definitions/nope/diff?from=1&to=2", "designer1").status_code == 404
    assert api.get("/api/v1/process-definitions/permit/diff?from=1&to=1").status_code == 401


def test_every_library_process_diffs_cleanly_against_itself_and_names_an_edit():
    """The whole library (lanes, boundary events, call activities, messages, DMN) through the differ."""
    from connectors.registry import discover
    from engine.definition_diff import diff_bundles
    from engine.definitions import analyse
    from tests.test_library_support import library_files

    for p in analyse(library_files(), operators=discover().operators()):
        same = diff_bundles(p.bundle, p.bundle)
        assert same["identical"] and same["layout_changed"] == [], p.key
        assert all(not v for part in ("elements", "forms", "decisions", "files") for v in same[part].values()), p.key
        # rename the process itself: exactly that is reported
        edited = {kind: dict(files) for kind, files in p.bundle.items()}
        name = next(n for n, text in edited["bpmn"].items() if f'id="{p.key}"' in text)
        text = edited["bpmn"][name]
        at = text.index(f'id="{p.key}"')
        tag_end = text.index(">", at)
        assert 'name="' in text[at:tag_end], p.key
        edited["bpmn"][name] = text[:at] + text[at:tag_end].replace('name="', 'name="新 ', 1) + text[tag_end:]
        d = diff_bundles(p.bundle, edited)
        [changed] = d["elements"]["changed"]
        assert changed["id"] == p.key and changed["type"] == "process", p.key
        assert [(c["kind"], c["name"]) for c in changed["changes"]] == [("attribute", "name")], p.key
        assert changed["changes"][0]["new"] == "新 " + changed["changes"][0]["old"]
