"""diagram.svg of a library instance read as a person reads it: flows along the diagram's DI with
their arrowheads on the target's border, names where the modeler placed them, the path the permit
took in green, the current task marked (the SVG is parsed; RENDER_DIAGRAM_TO=dir also writes it)."""
from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

from engine.layout_check import Box, _kind
from tests.test_library_hot_work import APPLICATION, APPROVE, applied
from tests.test_library_support import plant  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
SVG = "{http://www.w3.org/2000/svg}"
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
      "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
      "dc": "http://www.omg.org/spec/DD/20100524/DC", "di": "http://www.omg.org/spec/DD/20100524/DI"}


def _di(name):
    root = ET.parse(ROOT / "bpmn" / name).getroot()
    flows = {f.get("id"): f for f in root.iter("{%s}sequenceFlow" % NS["bpmn"])}
    # Flow nodes of the process and of its collapsed sub-processes (each drawn on its own plane).
    nodes = {el.get("id"): el.tag.split("}")[1] for el in root.find("bpmn:process", NS).iter()
             if el.get("id") and el.tag.split("}")[1] not in ("sequenceFlow", "lane", "laneSet")}
    boxes, points, labels = {}, {}, {}
    for sh in root.iter("{%s}BPMNShape" % NS["bpmndi"]):
        b = sh.find("dc:Bounds", NS)
        ref = sh.get("bpmnElement")
        if ref in nodes:
            boxes[ref] = Box(*(float(b.get(k)) for k in ("x", "y", "width", "height")), _kind(nodes[ref]))
    for ed in root.iter("{%s}BPMNEdge" % NS["bpmndi"]):
        points[ed.get("bpmnElement")] = [(float(w.get("x")), float(w.get("y"))) for w in ed.findall("di:waypoint", NS)]
        lb = ed.find("bpmndi:BPMNLabel/dc:Bounds", NS)
        if lb is not None:
            labels[ed.get("bpmnElement")] = tuple(float(lb.get(k)) for k in ("x", "y", "width", "height"))
    return flows, boxes, points, labels


def test_hot_work_diagram_shows_the_path_taken_and_the_send_back(plant):
    iid = applied(plant)
    plant.complete("prod1", iid, "hw_unit_review", {"decision": "send_back", "comment": "补充隔离措施"})
    plant.complete("worker1", iid, "hw_apply", APPLICATION)
    plant.complete("prod1", iid, "hw_unit_review", APPROVE)
    r = plant.api.get(f"/api/v1/process-instances/{iid}/diagram.svg", "worker1")
    assert r.status_code == 200 and r.mimetype == "image/svg+xml"
    if os.environ.get("RENDER_DIAGRAM_TO"):
        Path(os.environ["RENDER_DIAGRAM_TO"], "hot_work_instance.svg").write_bytes(r.data)
    svg = ET.fromstring(r.data)
    flows, boxes, points, labels = _di("hot_work_permit.bpmn")

    drawn = {p.get("data-element-id"): p for p in svg.iter(f"{SVG}polyline")}
    assert set(drawn) == set(flows)
    for fid, line in drawn.items():
        pts = [tuple(float(v) for v in xy.split(",")) for xy in line.get("points").split()]
        assert pts == points[fid], fid                                   # drawn along the DI waypoints
        target = boxes[flows[fid].get("targetRef")]
        assert target.border_distance(*pts[-1]) <= 2, fid                # arrow tip on the target's border
        assert line.get("marker-end", "").startswith("url(#arrow")

    taken = {fid for fid, line in drawn.items() if line.get("data-state") == "completed"}
    # The way the permit went: applied, checked, sent back by the unit, re-applied, approved.
    # (Since the split the application is a sub-process: the unit's 退回 ends the review's sub-process
    # and its result gateway leads back to the application.)
    assert {"Flow_start_hw_application", "Flow_hw_application_start_init", "Flow_init_hw_apply",
            "Flow_hw_apply_hw_plan_check", "Flow_hw_plan_check_start_plan_ref_check", "Flow_unit_send_back",
            "Flow_unit_result_send_back", "Flow_simops_lookup_hw_unit_review", "Flow_unit_ok",
            "Flow_application_approved", "Flow_issue_hw_prework"} <= taken
    assert not {"Flow_unit_reject", "Flow_unit_simops", "Flow_safety_send_back"} & taken
    assert all(drawn[f].get("stroke") != drawn["Flow_unit_reject"].get("stroke") for f in taken)

    nodes = {g.get("data-element-id"): g for g in svg.iter(f"{SVG}g") if g.get("data-state")}
    # The collapsed sub-processes holding the current task are active too (drawn on the process's
    # plane, a reader sees there where the permit stands); the task itself is the only active task.
    current = [i for i, g in nodes.items() if g.get("data-state") == "active"
               and g.get("data-element-type") != "subProcess"]
    assert current == ["hw_gas_analysis"]                              # its armed boundary events are not
    assert {i for i, g in nodes.items() if g.get("data-state") == "active"
            and g.get("data-element-type") == "subProcess"} == {"hw_prework", "hw_analysis"}
    assert nodes[current[0]].find(f"{SVG}rect[@class='current']") is not None          # marked beyond colour
    assert nodes["gas_alarm_analysis"].get("data-state") == "none"
    assert nodes["hw_unit_review"].get("data-state") == "completed"

    # Flow names at their DI label bounds.
    texts = {t.get("data-label-of"): t for t in svg.iter(f"{SVG}text") if t.get("data-label-of")}
    for fid, (x, y, w, h) in labels.items():
        t = texts[fid]
        assert "".join(t.itertext()) == flows[fid].get("name")
        assert x <= float(t.get("x")) <= x + w and y <= float(t.get("y")) <= y + h + 2, fid
