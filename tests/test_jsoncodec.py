"""The orjson codec keeps what the standard library kept: typed values in stored workflow
states, huge integers, NaN in old rows, and the API's JSON answers."""
from datetime import datetime, timedelta, timezone

from engine import jsoncodec, spiff
from engine.definitions import analyse, build_model
from tests.processes import permit_files


def test_a_stored_state_brings_back_datetimes_timedeltas_sets_and_huge_integers():
    from SpiffWorkflow.bpmn import BpmnWorkflow

    files = {k: v.encode() for k, v in permit_files("codec").items()}
    parsed = analyse(files)[0]
    model = build_model(parsed.key, parsed.bundle)
    wf = BpmnWorkflow(model.spec, model.subprocess_specs)
    when = datetime(2026, 11, 29, 8, 30, tzinfo=timezone.utc)
    wf.data.update({"when": when, "grace": timedelta(hours=2),
                    "crews": {"A"}, "counter": 2 ** 70 + 1, "name": "动火作业"})

    text = spiff.dumps(wf)
    back = spiff.loads(text, model)

    assert back.data["when"] == when and isinstance(back.data["when"], datetime)
    assert back.data["grace"] == timedelta(hours=2)
    assert back.data["crews"] == ["A"]  # SpiffWorkflow stores a set as a list, as before
    assert back.data["counter"] == 2 ** 70 + 1
    assert back.data["name"] == "动火作业"
    assert "动火作业" in text  # UTF-8, not \\u escapes


def test_huge_integers_keep_every_digit_in_json_columns_and_values():
    from engine.values import json_data

    assert json_data({"n": 2 ** 70 + 1}) == {"n": 2 ** 70 + 1}
    assert jsoncodec.loads(jsoncodec.dumps({"n": -(2 ** 64) - 3})) == {"n": -(2 ** 64) - 3}


def test_text_the_standard_library_wrote_still_parses():
    assert jsoncodec.loads('{"level": NaN, "n": 1}')["n"] == 1
    assert jsoncodec.loads(b'{"a": [1, 2]}') == {"a": [1, 2]}


def test_an_unencodable_value_raises_type_error_as_before():
    try:
        jsoncodec.dumps({"f": object()})
    except TypeError:
        pass
    else:  # pragma: no cover - the assertion is the point
        raise AssertionError("an object() must not encode")


def test_api_answers_are_utf8_json_and_bad_bodies_are_problems(api):
    assert api.deploy(permit_files("codec", start_variables=("content",))).status_code in (200, 201)
    r = api.post("/api/v1/process-instances", "prod1",
                 json={"process_key": "codec", "variables": {"content": "动火作业 东区"}})
    assert r.status_code == 201, r.json
    shown = api.get(f"/api/v1/process-instances/{r.json['id']}", "prod1")
    assert "动火作业 东区".encode() in shown.data  # UTF-8 on the wire, not \\u escapes
    assert shown.json["variables"]["content"] == "动火作业 东区"
    assert datetime.fromisoformat(shown.json["started_at"]).tzinfo is not None
    bad = api.post("/api/v1/process-instances", "prod1", data=b'{"process_key": ', content_type="application/json")
    assert 400 <= bad.status_code < 500 and bad.content_type.startswith("application/problem+json")
