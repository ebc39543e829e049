"""Deployment checks of DMN tables: every cell compiled as the engine evaluates it, alert_policy complete.

A bad cell used to deploy and fail only when a business rule task reached it; now the
deployment is refused (422, file, line, element id) and nothing is stored.
"""
from __future__ import annotations

import pytest

from engine.bpmn_builder import ProcessBuilder
from engine.definitions import DeploymentInvalid, analyse
from tests.processes import permit_files
from tests.test_library_support import ROOT, library_files

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="defs_risk" name="risk" '
        'namespace="http://anjian.org/dmn">\n')


def table(rules: list[tuple[list[str], list[str]]], inputs=("gas", "colour"), hit_policy="FIRST",
          outputs=("level", "note")) -> str:
    """A DMN document of decision ``risk``; each rule and each cell on its own line."""
    lines = [HEAD, '<decision id="risk" name="风险">\n', f'<decisionTable id="risk_table" hitPolicy="{hit_policy}">\n']
    for i, expr in enumerate(inputs, 1):
        lines.append(f'<input id="in{i}" label="{expr}"><inputExpression id="in{i}_expr" typeRef="string">'
                     f'<text>{expr}</text></inputExpression></input>\n')
    for i, name in enumerate(outputs, 1):
        lines.append(f'<output id="out{i}" name="{name}" typeRef="string" />\n')
    for r, (ins, outs) in enumerate(rules, 1):
        lines.append(f'<rule id="r{r}">\n')
        for i, cell in enumerate(ins, 1):
            lines.append(f'<inputEntry id="r{r}_i{i}"><text>{cell}</text></inputEntry>\n')
        for o, cell in enumerate(outs, 1):
            lines.append(f'<outputEntry id="r{r}_o{o}"><text>{cell}</text></outputEntry>\n')
        lines.append("</rule>\n")
    lines.append("</decisionTable>\n</decision>\n</definitions>\n")
    return "".join(lines)


def process() -> str:
    b = ProcessBuilder("risk_check", "风险判定")
    b.lane("production")
    b.start(variables=["gas", "colour"]).business_rule("decide", "判定", "risk", lane="production")
    b.user("look", "查看", lane="production").end(lane="production")
    return b.chain("start", "decide", "look", "end").to_xml()


GOOD_RULES = [
    (["&gt; 50", "-"], ['"high"', '"bare comparison"']),
    (["? &gt;= 20", '"red"'], ['"medium"', '"question mark"']),
    (["", '? in ("red", "orange")'], ['"watch"', '"empty input entry"']),
    (["&lt;= 5", "-"], ['"never"', '"bare comparison, other way"']),
    (["-", "-"], ['"low"', ""]),
]


def _errors(r):
    assert r.status_code == 422, r.json
    assert r.headers["Content-Type"] == "application/problem+json"
    return r.json["errors"]


def _definitions(api):
    return [(d["key"], d["version"]) for d in api.get("/api/v1/process-definitions", "prod1").json["items"]]


def test_an_import_in_an_output_entry_is_refused_and_nothing_is_stored(api):
    assert api.deploy(permit_files()).status_code == 201
    before = _definitions(api)
    rules = GOOD_RULES[:1] + [(["-", "-"], ['"low"', "__import__('os').system('id')"])]
    dmn = table(rules)
    errors = _errors(api.deploy({"risk.bpmn": process(), "risk.dmn": dmn}))
    assert len(errors) == 1
    (err,) = errors
    assert err["file"] == "risk.dmn" and err["element_id"] == "r2_o2"
    assert "__import__" in err["message"] and "'note'" in err["message"]
    assert "__import__('os')" in dmn.splitlines()[err["line"] - 1]
    assert _definitions(api) == before


def test_a_syntax_error_in_an_input_entry_is_refused_with_every_other_bad_cell(api, platform):
    rules = [
        (["&gt; 5 and", "-"], ['"a"', '"b"']),              # not Python, not a unary test
        (["-", "? .__class__"], ['"a"', '"b"']),            # dunder attribute
        (["-", 'in ("red",)'], ['"a"', '"b"']),             # the engine would glue it to 'colourin ("red",)'
        (["-", "-"], ["open('/etc/passwd').read()", "1 +"]),
    ]
    dmn = table(rules, inputs=("gas", "colour"))
    errors = _errors(api.deploy({"risk.bpmn": process(), "risk.dmn": dmn}))
    by_element = {e["element_id"]: e for e in errors}
    assert set(by_element) == {"r1_i1", "r2_i2", "r3_i2", "r4_o1", "r4_o2"}
    assert "syntax error" in by_element["r1_i1"]["message"] and "'gas'" in by_element["r1_i1"]["message"]
    assert "__class__" in by_element["r2_i2"]["message"]
    assert "? in (\"red\",)" in by_element["r3_i2"]["message"]
    assert "open" in by_element["r4_o1"]["message"] and "syntax error" in by_element["r4_o2"]["message"]
    lines = dmn.splitlines()
    for element_id, e in by_element.items():
        assert e["file"] == "risk.dmn" and f'id="{element_id}"' in lines[e["line"] - 1]
    assert _definitions(api) == []


def test_a_bad_input_expression_is_reported_once_for_its_column(api):
    dmn = table([(["1", "-"], ['"a"', '"b"']), (["2", "-"], ['"a"', '"b"'])], inputs=("gas.__dict__", "colour"))
    errors = _errors(api.deploy({"risk.bpmn": process(), "risk.dmn": dmn}))
    assert [(e["element_id"], e["line"]) for e in errors] == [("in1_expr", 5)]
    assert "__dict__" in errors[0]["message"]


def test_a_valid_table_with_unary_tests_deploys_and_the_engine_runs_it(api):
    r = api.deploy({"risk.bpmn": process(), "risk.dmn": table(GOOD_RULES)})
    assert r.status_code == 201, r.json
    expected = {(60, "blue"): ("high", "bare comparison"), (30, "red"): ("medium", "question mark"),
                (10, "orange"): ("watch", "empty input entry"), (3, "blue"): ("never", "bare comparison, other way"),
                (10, "blue"): ("low", "")}
    for (gas, colour), (level, note) in expected.items():
        started = api.post("/api/v1/process-instances", "prod1",
                           json={"process_key": "risk_check", "variables": {"gas": gas, "colour": colour}})
        assert started.status_code == 201, started.json
        variables = api.get(f"/api/v1/process-instances/{started.json['id']}", "prod1").json["variables"]
        assert (variables["level"], variables["note"]) == (level, note), (gas, colour)


# --------------------------------------------------------------------------- alert_policy

ALERT_POLICY = (ROOT / "bpmn" / "alert_policy.dmn").read_text("utf-8")


def _without_rule(text: str, rule_id: str) -> str:
    start = text.index(f'<rule id="{rule_id}">')
    return text[:start] + text[text.index("</rule>", start) + len("</rule>"):]


def test_an_alert_policy_without_the_red_grade_is_refused(api):
    files = {**library_files(), "alert_policy.dmn": _without_rule(ALERT_POLICY, "alert_policy_r1")}
    errors = _errors(api.deploy(files))
    assert [(e["file"], e["element_id"]) for e in errors] == [("alert_policy.dmn", "alert_policy")]
    assert "alert_policy[red]" in errors[0]["message"] and "no rule" in errors[0]["message"]
    assert 'id="alert_policy"' in files["alert_policy.dmn"].splitlines()[errors[0]["line"] - 1]
    assert _definitions(api) == []


def test_an_alert_policy_with_a_bad_deadline_or_no_owner_is_refused():
    broken = (ALERT_POLICY.replace("<text>60</text>", '<text>"one hour"</text>')
              .replace('<output id="alert_policy_out6" label="责任部门（编码；@area = 区域所属部门）" '
                       'name="owner_department" typeRef="string" />', ""))
    broken = broken.replace('<outputEntry id="alert_policy_r1_o6"><text>"safety"</text></outputEntry>', "")
    for r in ("r2", "r3", "r4"):
        start = broken.index(f'<outputEntry id="alert_policy_{r}_o6">')
        broken = broken[:start] + broken[broken.index("</outputEntry>", start) + len("</outputEntry>"):]
    with pytest.raises(DeploymentInvalid) as err:
        analyse({"policy.dmn": broken.encode()})
    messages = sorted(e.message for e in err.value.errors)
    assert all(e.file == "policy.dmn" and e.element_id == "alert_policy" for e in err.value.errors)
    assert "alert_policy[orange].deadline_minutes: must be a positive number" in messages
    assert sum("owner_department" in m for m in messages) == 4


def test_the_library_deploys_unchanged(api):
    r = api.deploy(library_files())
    assert r.status_code == 201, r.json
    assert {p["key"] for p in r.json["processes"]} >= {"alert_response", "hot_work_permit", "work_plan"}


# --------------------------------------------------------------------------- cells, without a database

@pytest.mark.parametrize("cell", ["&gt; 5", "&lt;= 5.5", "? &gt;= 4", "4 &lt; ? &lt; 6", '"a?"', "-", "", "True",
                                  '? in ("a", "b",)', "min(1, 2)", "(1, 2)"])
def test_entries_the_engine_evaluates_are_accepted(cell):
    analyse({"risk.dmn": table([([cell, "-"], ['"a"', '"b"'])]).encode()})


@pytest.mark.parametrize("cell", ["&gt;&gt;&gt; 5", "[1..5]", "&gt; 5, &lt; 2", "not in", "? ? 1", "__import__('os')",
                                  "? .__class__", "eval('1')", "exec", "lambda: ().__class__", "in (1, 2)",
                                  "x" * 1001])
def test_entries_the_engine_cannot_evaluate_are_refused(cell):
    with pytest.raises(DeploymentInvalid) as err:
        analyse({"risk.dmn": table([([cell, "-"], ['"a"', '"b"'])]).encode()})
    assert [(e.file, e.element_id) for e in err.value.errors] == [("risk.dmn", "r1_i1")]


def test_a_rule_with_a_missing_entry_is_refused_once():
    dmn = table([(["1"], ['"a"', '"b"'])])
    with pytest.raises(DeploymentInvalid) as err:
        analyse({"risk.dmn": dmn.encode()})
    assert [(e.element_id, e.message) for e in err.value.errors] == \
        [("r1", "rule has 1 input and 2 output entries; the table has 2 inputs and 2 outputs")]


@pytest.mark.parametrize("change, element_id, words", [
    (lambda d: d.replace('<rule id="r1">', "<rule>"), "risk_table", "<rule> has no id"),
    (lambda d: d.replace("</decision>\n", '</decision>\n<decision id="second"><decisionTable id="t2" />'
                                          "</decision>\n"), "second", "one decision per DMN file"),
])
def test_shapes_the_engine_would_crash_on_are_named(change, element_id, words):
    with pytest.raises(DeploymentInvalid) as err:
        analyse({"risk.dmn": change(table([(["1", "-"], ['"a"', '"b"'])])).encode(), "risk.bpmn": process().encode()})
    assert [(e.file, e.element_id) for e in err.value.errors] == [("risk.dmn", element_id)]
    assert words in err.value.errors[0].message and err.value.errors[0].line
