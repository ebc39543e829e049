"""Diagram interchange (DI) of the library: what a bpmn.io modeler needs to draw every diagram.

bpmn-js imports a diagram element by element from its DI: an element without a BPMNShape or
BPMNEdge is silently left out of the picture (and a modeler then saves a diagram without it), an
edge needs at least two waypoints, and a flow node drawn outside its lane looks as if it belonged
to another role. No node or browser needed: this reads the XML.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from engine.bpmn_xml import BPMN, NS
from engine.layout_check import FLOW_NODES

ROOT = Path(__file__).resolve().parent.parent
DIAGRAMS = sorted((ROOT / "bpmn").glob("*.bpmn"))
# Everything bpmn-js draws as a shape inside a process (flow nodes of BPMN 2.0).
SHAPED = FLOW_NODES


def _bounds(shape) -> tuple[float, float, float, float]:
    b = shape.find("dc:Bounds", NS)
    assert b is not None, f"shape {shape.get('id')} has no dc:Bounds"
    x, y, w, h = (float(b.get(k)) for k in ("x", "y", "width", "height"))
    assert w > 0 and h > 0, f"shape {shape.get('id')} has an empty size"
    return x, y, w, h


def _inside(inner, outer) -> bool:
    x, y, w, h = inner
    ox, oy, ow, oh = outer
    return ox <= x and oy <= y and x + w <= ox + ow and y + h <= oy + oh


def test_the_library_has_all_seven_diagrams():
    assert {p.stem for p in DIAGRAMS} >= {"work_plan", "hot_work_permit", "confined_space_permit", "stop_restart",
                                          "hazard_rectification", "three_level_supervision", "alert_response"}


@pytest.mark.parametrize("path", DIAGRAMS, ids=[p.stem for p in DIAGRAMS])
def test_every_element_has_complete_diagram_interchange(path):
    root = ET.parse(path).getroot()
    planes = root.findall(".//bpmndi:BPMNPlane", NS)
    # One plane for the process, one more per collapsed sub-process (bpmn-js drills down into it).
    subprocesses = [el.get("id") for el in root.iter(f"{BPMN}subProcess")]
    assert len(planes) == 1 + len(subprocesses), "one diagram per plane: the process and each sub-process"
    assert sorted(p.get("bpmnElement") for p in planes[1:]) == sorted(subprocesses)
    plane = planes[0]
    # Each element is drawn on exactly one plane; the geometry below is compared within a plane.
    plane_of = {}
    for pl in planes:
        for di in pl.findall("bpmndi:BPMNShape", NS) + pl.findall("bpmndi:BPMNEdge", NS):
            assert di.get("bpmnElement") not in plane_of, f"{di.get('bpmnElement')} is drawn on two planes"
            plane_of[di.get("bpmnElement")] = pl.get("bpmnElement")
    shapes = {s.get("bpmnElement"): s for pl in planes for s in pl.findall("bpmndi:BPMNShape", NS)}
    edges = {e.get("bpmnElement"): e for pl in planes for e in pl.findall("bpmndi:BPMNEdge", NS)}
    ids = {el.get("id") for el in root.iter() if el.get("id")}
    assert plane.get("bpmnElement") in ids, "the plane points at the collaboration or process"
    for ref in list(shapes) + list(edges):
        assert ref in ids, f"DI for an element that does not exist: {ref}"
    for sub in root.iter(f"{BPMN}subProcess"):
        assert shapes[sub.get("id")].get("isExpanded") == "false", f"{sub.get('id')} is drawn collapsed"
        for el in sub:
            if el.get("id") in plane_of:
                assert plane_of[el.get("id")] == sub.get("id"), f"{el.get('id')} is not on its sub-process's plane"

    problems = []
    participants = root.findall(".//bpmn:collaboration/bpmn:participant", NS)
    lanes = root.findall(".//bpmn:lane", NS)
    if lanes:
        assert participants, "lanes are drawn inside a participant (pool)"
        assert plane.get("bpmnElement") == root.find(".//bpmn:collaboration", NS).get("id")
    for el in participants + lanes:
        if el.get("id") not in shapes:
            problems.append(f"{el.tag.split('}')[1]} {el.get('id')} has no BPMNShape")
        else:
            _bounds(shapes[el.get("id")])
    flow_nodes = [el for el in root.iter() if el.tag.startswith(BPMN) and el.tag[len(BPMN):] in SHAPED]
    for el in flow_nodes:
        if el.get("id") not in shapes:
            problems.append(f"{el.tag[len(BPMN):]} {el.get('id')} has no BPMNShape")
        else:
            _bounds(shapes[el.get("id")])
    for el in root.findall(".//bpmn:sequenceFlow", NS) + root.findall(".//bpmn:messageFlow", NS):
        edge = edges.get(el.get("id"))
        if edge is None:
            problems.append(f"flow {el.get('id')} has no BPMNEdge")
        elif len(edge.findall("di:waypoint", NS)) < 2:
            problems.append(f"flow {el.get('id')} has fewer than 2 waypoints")
    # Geometry: lanes inside their pool, every node inside the lane that claims it.
    if participants:
        pool = _bounds(shapes[participants[0].get("id")])
        for lane in lanes:  # a sub-process's lanes are on its own plane, without a pool
            if plane_of.get(lane.get("id")) != plane_of[participants[0].get("id")]:
                continue
            if lane.get("id") in shapes and not _inside(_bounds(shapes[lane.get("id")]), pool):
                problems.append(f"lane {lane.get('id')} is drawn outside its pool")
    for lane in lanes:
        if lane.get("id") not in shapes:
            continue
        lane_box = _bounds(shapes[lane.get("id")])
        for ref in lane.findall("bpmn:flowNodeRef", NS):
            shape = shapes.get(ref.text)
            if plane_of.get(ref.text) != plane_of[lane.get("id")]:
                problems.append(f"{ref.text} is not drawn on the plane of its lane '{lane.get('name')}'")
            elif shape is not None and not _inside(_bounds(shape), lane_box):
                problems.append(f"{ref.text} is drawn outside its lane '{lane.get('name')}'")
    # Every flow node sits in exactly one lane when the process has lanes.
    if lanes:
        refs = [ref.text for lane in lanes for ref in lane.findall("bpmn:flowNodeRef", NS)]
        missing = sorted({el.get("id") for el in flow_nodes} - set(refs))
        twice = sorted({r for r in refs if refs.count(r) > 1})
        problems += [f"{m} is in no lane" for m in missing] + [f"{t} is in several lanes" for t in twice]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", DIAGRAMS, ids=[p.stem for p in DIAGRAMS])
def test_shapes_do_not_overlap(path):
    """Overlapping shapes open fine but cannot be read or clicked; boundary events sit on their host."""
    root = ET.parse(path).getroot()
    attached = {el.get("id") for el in root.iter(f"{BPMN}boundaryEvent")}
    clashes = []
    for plane in root.findall(".//bpmndi:BPMNPlane", NS):  # each plane is its own drawing
        clashes += _clashes(root, plane, attached)
    assert not clashes, "\n".join(clashes)


def _clashes(root, plane, attached) -> list[str]:
    boxes = {s.get("bpmnElement"): _bounds(s) for s in plane.findall("bpmndi:BPMNShape", NS)}
    nodes = [i for i in boxes if i not in attached and root.find(f".//*[@id='{i}']").tag[len(BPMN):] in SHAPED]
    clashes = []
    for i, a in enumerate(nodes):
        for b in nodes[i + 1:]:
            (ax, ay, aw, ah), (bx, by, bw, bh) = boxes[a], boxes[b]
            if ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah:
                clashes.append(f"{a} overlaps {b}")
    return clashes
