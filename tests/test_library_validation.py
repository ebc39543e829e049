"""The library as a whole: deployable, every human task has a form, every DMN table is complete.

``make run`` deploys bpmn/ and forms/ in one go (``anjian deploy bpmn forms``), so
a broken file there breaks the sample plant; these tests fail first.
"""
from __future__ import annotations

import ast
import itertools
import json
import re
from pathlib import Path

import pytest
from lxml import etree
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine
from SpiffWorkflow.dmn.parser.DMNParser import DMNParser

from connectors.registry import discover
from engine.definitions import BPMN, HUMAN_TASKS, analyse, human_tasks
from engine.scripting import RestrictedScriptEngine
from tests.test_library_support import ROOT, library_files

BPMN_FILES = sorted((ROOT / "bpmn").glob("*.bpmn"))
DMN_FILES = sorted((ROOT / "bpmn").glob("*.dmn"))
FORM_FILES = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in (ROOT / "forms").glob("*.json")}
CJK = re.compile(r"[\u4e00-\u9fff]")
EXPECTED = {"hazard_rectification", "three_level_supervision", "stop_restart", "work_plan", "hot_work_permit",
            "confined_space_permit", "alert_response"}


def test_every_library_file_passes_deployment_validation():
    processes = analyse(library_files(), operators=discover().operators())
    assert {p.key for p in processes} >= EXPECTED


def test_the_cli_validates_the_library(tmp_path):
    from click.testing import CliRunner

    from api.cli import main

    result = CliRunner().invoke(main, ["bpmn", "validate", str(ROOT / "bpmn"), str(ROOT / "forms")],
                                env={"ANJIAN_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 0, result.output
    assert all(f"ok  {key}" in result.output for key in EXPECTED)


def _processes():
    for path in BPMN_FILES:
        root = etree.parse(str(path)).getroot()
        for process in root.iter(f"{BPMN}process"):
            yield path.name, process


def test_every_human_task_has_a_chinese_name_a_lane_and_an_existing_form():
    seen: dict[str, str] = {}
    for file, process in _processes():
        for task in human_tasks(process):
            where = f"{file}:{task.bpmn_id}"
            assert CJK.search(task.name), f"{where}: task names are Chinese"
            assert re.fullmatch(r"[a-z][a-z0-9_]*", task.bpmn_id), f"{where}: ids are English snake_case"
            assert task.role, f"{where}: lane {task.lane!r} is no role"
            form = task.properties.get("formJsonSchemaFilename")
            assert form in FORM_FILES, f"{where}: form {form!r} missing"
            # The engine keys task metadata by bpmn id across a deployment (called processes
            # included), so ids of human tasks must be unique across the library.
            assert task.bpmn_id not in seen, f"{where}: id also used in {seen[task.bpmn_id]}"
            seen[task.bpmn_id] = file


def test_every_form_is_a_chinese_titled_schema_with_required_fields():
    referenced = set()
    for _, process in _processes():
        for kind in HUMAN_TASKS:
            for el in process.iter(f"{BPMN}{kind}"):
                for prop in el.iter("{*}property"):
                    if prop.get("name") == "formJsonSchemaFilename":
                        referenced.add(prop.get("value"))
    for name, schema in FORM_FILES.items():
        assert name in referenced, f"{name} is used by no task"
        assert CJK.search(schema.get("title", "")), f"{name}: form title"
        assert schema.get("required"), f"{name}: no required fields"
        for field, spec in schema["properties"].items():
            assert CJK.search(spec.get("title", "")), f"{name}.{field}: Chinese title"
            if spec.get("type") in ("number", "integer"):
                assert "单位" in spec.get("description", ""), f"{name}.{field}: numbers state their unit"


# --------------------------------------------------------------------------- DMN completeness

class _Workflow:
    script_engine = RestrictedScriptEngine()


class _Task:
    """Just enough of a SpiffWorkflow task for DMNEngine to evaluate a rule."""

    workflow = _Workflow()

    def __init__(self, data):
        self.data = data


def _table(path: Path):
    root = etree.parse(str(path)).getroot()
    nsmap = {"dmn": root.nsmap[None]}
    parser = DMNParser(None, root, nsmap, filename=path.name)
    parser.parse()
    return root, parser.decision.decisionTables[0]


def _domain(inp, entries: list[str]) -> list:
    """Values to try for one input: its declared inputValues, booleans, or numbers around every boundary."""
    declared = inp["values"]
    if declared is not None:
        return list(ast.literal_eval(f"[{declared}]"))  # the closed domain the forms' enums enforce
    if inp["type"] == "boolean":
        return [True, False]
    if inp["type"] == "number":
        numbers = sorted({float(n) for e in entries for n in re.findall(r"-?\d+(?:\.\d+)?", e or "")})
        if not numbers:
            return [0]
        points = {numbers[0] - 1, numbers[-1] + 1}
        for n in numbers:
            points |= {n - 0.01, n, n + 0.01}
        return sorted(points)
    raise AssertionError(f"input {inp['label']} of type {inp['type']} needs inputValues to be enumerable")


@pytest.mark.parametrize("path", DMN_FILES, ids=lambda p: p.name)
def test_dmn_table_is_complete(path):
    root, table = _table(path)
    assert root.find(".//{*}decisionTable").get("hitPolicy", "UNIQUE") in ("UNIQUE", "FIRST", "COLLECT")
    inputs = []
    for el, inp in zip(root.iter("{*}input"), table.inputs):
        values = el.find("{*}inputValues/{*}text")
        assert re.fullmatch(r"[a-z_][a-z0-9_]*", inp.expression.strip()), \
            f"{path.name}: input expressions are plain variables (compute derived values in a script first)"
        inputs.append({"label": inp.label, "expr": inp.expression.strip(), "type": inp.typeRef,
                       "values": values.text if values is not None else None})
    domains = []
    for i, inp in enumerate(inputs):
        entries = [rule.inputEntries[i].lhs[0] for rule in table.rules]
        domains.append(_domain(inp, entries))
    engine = DMNEngine(table)
    unique = table.hit_policy == "UNIQUE"
    for combo in itertools.product(*domains):
        task = _Task({inp["expr"]: value for inp, value in zip(inputs, combo)})
        matched = [r.row_number for r in table.rules if all(
            engine.evaluate(r.inputEntries[i].input.expression, r.inputEntries[i].lhs[0], task)
            for i in range(len(inputs)))]
        assert matched, f"{path.name}: no rule for {dict(zip([i['label'] for i in inputs], combo))}"
        if unique:
            assert len(matched) == 1, f"{path.name}: rules {matched} overlap for {combo} (hit policy UNIQUE)"
        outputs = engine.result(task)
        assert set(outputs) == {o.name for o in table.outputs}
