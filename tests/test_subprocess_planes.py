"""Collapsed embedded sub-processes: how the library splits a diagram too wide for a laptop.

The builder writes a sub-process with its own lanes and a plane of its own (bpmn-js drills down into
it); the layout check reads every plane on its own; the engine finds the sub-process's tasks with
their lane's role and properties, marks them on the instance view and draws them in diagram.svg.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

from engine.bpmn_builder import ProcessBuilder
from engine.bpmn_xml import BPMN, NS
from engine.layout_check import check_layout
from tests.processes import REVIEW_FORM


def _split_process(key="split") -> str:
    """apply → [review sub-process: a lane of supervision, one user task] → decision → end."""
    inner = ProcessBuilder("review_sub", "审核")
    inner.lane("supervision")
    inner.start("review_start", "审核")
    inner.user("review", "审核", lane="supervision", form="review.json",
               props={"not_completed_by": "apply", "priority": "80"})
    inner.end("review_end", "已审核", lane="supervision")
    inner.chain("review_start", "review", "review_end")
    b = ProcessBuilder(key, "拆分测试")
    b.lane("production")
    b.start()
    b.user("apply", "申请", lane="production")
    b.sub("review_sub", "审核（子流程）", inner, lane="production")
    b.xor("ok_gw", "同意?", default="Flow_no")
    b.end("end", "关闭", lane="production")
    b.end("rejected", "驳回", lane="production")
    b.chain("start", "apply", "review_sub", "ok_gw")
    b.flow("ok_gw", "end", condition="approved == True", flow_id="Flow_yes")
    b.flow("ok_gw", "rejected", flow_id="Flow_no")
    return b.to_xml()


def test_the_builder_writes_a_collapsed_sub_process_with_its_own_lanes_and_plane():
    root = ET.fromstring(_split_process())
    sub = root.find(".//bpmn:subProcess", NS)
    assert sub.get("id") == "review_sub"
    assert [lane.get("name") for lane in sub.findall("bpmn:laneSet/bpmn:lane", NS)] == ["supervision"]
    assert [r.text for r in sub.find("bpmn:laneSet/bpmn:lane", NS)] == ["review_start", "review", "review_end"]
    lane_ids = [lane.get("id") for lane in root.iter(f"{BPMN}lane")]
    assert len(lane_ids) == len(set(lane_ids)) == 2            # the sub-process's lane ids carry its id
    planes = [p.get("bpmnElement") for p in root.iter("{%s}BPMNPlane" % NS["bpmndi"])]
    assert planes == ["Collaboration_split", "review_sub"]
    shape = next(s for s in root.iter("{%s}BPMNShape" % NS["bpmndi"]) if s.get("bpmnElement") == "review_sub")
    assert shape.get("isExpanded") == "false"


def _two_planes(inner_flow_points) -> str:
    """A process plane and a sub-process plane whose shapes share coordinates (as planes do)."""
    pts = "".join(f'<di:waypoint x="{x}" y="{y}" />' for x, y in inner_flow_points)
    return ('<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
            'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI">'
            '<bpmn:process id="p"><bpmn:task id="a" /><bpmn:subProcess id="s"><bpmn:task id="x" /><bpmn:task id="y" />'
            '<bpmn:sequenceFlow id="fi" sourceRef="x" targetRef="y" /></bpmn:subProcess>'
            '<bpmn:sequenceFlow id="fo" sourceRef="a" targetRef="s" /></bpmn:process>'
            '<bpmndi:BPMNDiagram><bpmndi:BPMNPlane bpmnElement="p">'
            '<bpmndi:BPMNShape bpmnElement="a"><dc:Bounds x="0" y="100" width="100" height="80" /></bpmndi:BPMNShape>'
            '<bpmndi:BPMNShape bpmnElement="s" isExpanded="false"><dc:Bounds x="300" y="100" width="100" '
            'height="80" /></bpmndi:BPMNShape>'
            '<bpmndi:BPMNEdge bpmnElement="fo"><di:waypoint x="100" y="140" /><di:waypoint x="300" y="140" />'
            '</bpmndi:BPMNEdge></bpmndi:BPMNPlane></bpmndi:BPMNDiagram>'
            '<bpmndi:BPMNDiagram><bpmndi:BPMNPlane bpmnElement="s">'
            '<bpmndi:BPMNShape bpmnElement="x"><dc:Bounds x="0" y="100" width="100" height="80" /></bpmndi:BPMNShape>'
            '<bpmndi:BPMNShape bpmnElement="y"><dc:Bounds x="300" y="100" width="100" height="80" /></bpmndi:BPMNShape>'
            f'<bpmndi:BPMNEdge bpmnElement="fi">{pts}</bpmndi:BPMNEdge>'
            '</bpmndi:BPMNPlane></bpmndi:BPMNDiagram></bpmn:definitions>')


def test_the_layout_check_reads_each_plane_on_its_own():
    # x and y sit where a and s sit on the other plane: that is no overlap and no crossing.
    assert check_layout(_two_planes([(100, 140), (300, 140)]), name="two.bpmn") == []
    # A fault on the sub-process's plane is found and named.
    problems = check_layout(_two_planes([(50, 140), (300, 140)]), name="two.bpmn")
    assert problems == ["two.bpmn: flow fi starts 40 px off the border of its source x (task) at (50.0, 140.0)"]


def test_a_sub_process_task_runs_with_its_lane_and_shows_on_the_instance_view(api):
    assert api.deploy({"split.bpmn": _split_process(), "review.json": REVIEW_FORM}).status_code == 201
    inst = api.post("/api/v1/process-instances", "prod1", json={"process_key": "split"}).json
    apply_task = inst["active_tasks"][0]["id"]
    r = api.post(f"/api/v1/tasks/{apply_task}/complete", "prod1", json={"data": {}})
    assert r.status_code == 200, r.json
    review = r.json["next_tasks"][0]
    # The inner lane gives the role; the task's properties are read (priority 80, segregation of duties).
    assert review["bpmn_id"] == "review" and review["candidate_roles"] == ["supervision"]
    assert review["priority"] == 80
    got = api.get(f"/api/v1/process-instances/{inst['id']}", "prod1").json
    assert got["element_states"]["review"] == "active" and got["element_states"]["apply"] == "completed"
    assert {"Flow_start_apply", "Flow_apply_review_sub", "Flow_review_start_review"} <= set(got["taken_flows"])

    svg = ET.fromstring(api.get(f"/api/v1/process-instances/{inst['id']}/diagram.svg", "prod1").data)
    states = {g.get("data-element-id"): g.get("data-state") for g in svg.iter("{http://www.w3.org/2000/svg}g")
              if g.get("data-state")}
    assert states["review"] == "active" and states["apply"] == "completed" and states["review_sub"] == "active"
    taken = {p.get("data-element-id") for p in svg.iter("{http://www.w3.org/2000/svg}polyline")
             if p.get("data-state") == "completed"}
    assert {"Flow_apply_review_sub", "Flow_review_start_review"} <= taken

    r = api.post(f"/api/v1/tasks/{review['id']}/complete", "safety1", json={"data": {"approved": True}})
    assert r.status_code == 200, r.json
    done = api.get(f"/api/v1/process-instances/{inst['id']}", "prod1").json
    assert done["status"] == "completed" and "Flow_yes" in done["taken_flows"]
    assert done["element_states"]["end"] == "completed"
