"""The library's diagrams are laid out as a designer draws BPMN (engine/layout_check.py).

Every ``.bpmn`` in ``bpmn/`` (and any diagram added later) goes through the same check: flows dock
on the outline of their shapes, run orthogonally, never through another shape, boundary-event
flows leave away from their host, labels overlap nothing and no flow runs through a label, lanes
hold their nodes, every plane fits a laptop screen at zoom 0.7. Pure Python.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from engine.layout_check import LAPTOP, MIN_ZOOM, check_layout, laptop_problem, layout_figures

ROOT = Path(__file__).resolve().parent.parent
DIAGRAMS = sorted((ROOT / "bpmn").glob("*.bpmn"))

@pytest.mark.parametrize("path", DIAGRAMS, ids=[p.stem for p in DIAGRAMS])
def test_diagram_is_laid_out_as_a_designer_would(path):
    """Every plane of every diagram: docking, no flow through a shape or a label, orthogonal, lanes,
    and it fits a 1366 x 768 laptop at zoom 0.7 (issue 17)."""
    problems = layout_figures(path).problems
    assert not problems, "\n".join(problems)


def _diagram(flow_points, *, gateway=False):
    """A two-node diagram whose single flow has the given waypoints."""
    target = ('<bpmn:exclusiveGateway id="b" />' if gateway else '<bpmn:task id="b" />')
    tb = '<dc:Bounds x="300" y="115" width="50" height="50" />' if gateway else \
        '<dc:Bounds x="300" y="100" width="100" height="80" />'
    pts = "".join(f'<di:waypoint x="{x}" y="{y}" />' for x, y in flow_points)
    return ('<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
            'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI">'
            '<bpmn:process id="p"><bpmn:task id="a" />' + target +
            '<bpmn:task id="c" /><bpmn:sequenceFlow id="f" sourceRef="a" targetRef="b" /></bpmn:process>'
            '<bpmndi:BPMNDiagram><bpmndi:BPMNPlane bpmnElement="p">'
            '<bpmndi:BPMNShape bpmnElement="a"><dc:Bounds x="0" y="100" width="100" height="80" /></bpmndi:BPMNShape>'
            f'<bpmndi:BPMNShape bpmnElement="b">{tb}</bpmndi:BPMNShape>'
            '<bpmndi:BPMNShape bpmnElement="c"><dc:Bounds x="150" y="0" width="100" height="80" /></bpmndi:BPMNShape>'
            f'<bpmndi:BPMNEdge bpmnElement="f">{pts}</bpmndi:BPMNEdge>'
            '</bpmndi:BPMNPlane></bpmndi:BPMNDiagram></bpmn:definitions>')


def test_the_check_accepts_a_docked_orthogonal_flow():
    assert check_layout(_diagram([(100, 140), (300, 140)]), name="ok.bpmn") == []
    assert check_layout(_diagram([(100, 140), (300, 140)], gateway=True), name="ok.bpmn") == []


def test_the_check_names_file_flow_and_fault():
    # Centre to centre, as the library was drawn before: off both borders and diagonal.
    problems = check_layout(_diagram([(50, 140), (200, 40), (350, 140)]), name="x.bpmn")
    text = "\n".join(problems)
    assert "x.bpmn: flow f starts 40 px off the border of its source a" in text
    assert "flow f ends 40 px off the border of its target b" in text
    assert "x.bpmn: flow f (a -> b) passes through c" in text
    assert "2 of 2 flow segments are diagonal" in text
    # A flow that stops short of a gateway's diamond (on its bounding box corner) is off its outline.
    problems = check_layout(_diagram([(100, 140), (300, 140), (300, 118)], gateway=True), name="g.bpmn")
    assert any("ends" in p and "off the border of its target b (gateway)" in p for p in problems)


def test_figures_count_segments():
    fig = layout_figures(_diagram([(100, 140), (200, 140), (200, 141), (300, 141)]), name="y.bpmn")
    assert (fig.flows, fig.segments, fig.diagonal, fig.flows_through_shapes) == (1, 3, 0, 0)


def test_layout_changed_only_the_diagram_interchange():
    """The committed diagrams are the generator's processes with ELK's DI: ids, flows and
    properties are exactly what bpmn/tools/build_library.py writes (no node needed to check)."""
    import re
    import sys

    sys.path.insert(0, str(ROOT / "bpmn" / "tools"))
    import build_library

    di = re.compile(r"<bpmndi:BPMNDiagram\b.*?</bpmndi:BPMNDiagram>", re.S)
    for name, xml in build_library.BPMN.items():
        committed = (ROOT / "bpmn" / name).read_text(encoding="utf-8")
        assert di.sub("", committed) == di.sub("", xml), f"{name}: more than the DI differs from the generator"


def _labelled(gateway_label, flow_points=((100, 140), (300, 140)), flow_label=None, size=(300, 200)):
    """Task a -> gateway b (named, its label at ``gateway_label``) with flow f; c far away."""
    fl = f'<bpmndi:BPMNLabel><dc:Bounds x="{flow_label[0]}" y="{flow_label[1]}" width="30" height="14" />' \
         '</bpmndi:BPMNLabel>' if flow_label else ""
    pts = "".join(f'<di:waypoint x="{x}" y="{y}" />' for x, y in flow_points)
    gx, gy = gateway_label
    return ('<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
            'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI">'
            '<bpmn:process id="p" name="过程"><bpmn:task id="a" /><bpmn:exclusiveGateway id="b" name="同意?" />'
            '<bpmn:sequenceFlow id="f" name="是" sourceRef="a" targetRef="b" /></bpmn:process>'
            '<bpmndi:BPMNDiagram><bpmndi:BPMNPlane bpmnElement="p">'
            '<bpmndi:BPMNShape bpmnElement="a"><dc:Bounds x="0" y="100" width="100" height="80" /></bpmndi:BPMNShape>'
            '<bpmndi:BPMNShape bpmnElement="b"><dc:Bounds x="300" y="115" width="50" height="50" />'
            f'<bpmndi:BPMNLabel><dc:Bounds x="{gx}" y="{gy}" width="40" height="14" /></bpmndi:BPMNLabel>'
            '</bpmndi:BPMNShape>'
            f'<bpmndi:BPMNEdge bpmnElement="f">{pts}{fl}</bpmndi:BPMNEdge>'
            f'<bpmndi:BPMNShape bpmnElement="frame"><dc:Bounds x="0" y="0" width="{size[0]}" height="{size[1]}" />'
            '</bpmndi:BPMNShape></bpmndi:BPMNPlane></bpmndi:BPMNDiagram></bpmn:definitions>')


def test_no_flow_runs_through_a_label_but_its_own():
    # The gateway's name below it, the flow beside: fine; the flow's own name on its line: fine.
    assert check_layout(_labelled((305, 170), flow_label=(150, 133)), name="ok.bpmn") == []
    # The flow entering the gateway from below runs through the gateway's own name: not fine.
    fig = layout_figures(_labelled((305, 170), flow_points=((50, 180), (50, 200), (325, 200), (325, 165))),
                         name="l.bpmn")
    assert "l.bpmn: flow f (a -> b) crosses the label of b '同意?'" in fig.problems
    assert fig.labels_crossed == 1 and fig.planes[0].labels_crossed == 1


def test_a_plane_must_fit_a_laptop_at_zoom_0_7():
    assert (LAPTOP, MIN_ZOOM) == ((1366, 768), 0.7)
    fig = layout_figures(_labelled((305, 170), size=(1951, 1097)), name="fits.bpmn")
    assert fig.planes[0].fits_laptop and fig.problems == []
    fig = layout_figures(_labelled((305, 170), size=(2732, 768)), name="wide.bpmn")
    plane = fig.planes[0]
    assert (plane.element, plane.name, plane.width, plane.height) == ("p", "过程", 2732, 768)
    assert fig.problems == [laptop_problem("wide.bpmn", plane)]
    assert "wide.bpmn: process plane p '过程' is 2732 x 768 px at 1:1" in fig.problems[0]
    assert "zoom 0.50" in fig.problems[0]


def test_the_readme_table_of_planes_is_the_tool_output():
    """bpmn/README.md's table of planes is what bpmn/tools/plane_sizes.py measures now."""
    import sys

    sys.path.insert(0, str(ROOT / "bpmn" / "tools"))
    from plane_sizes import HEADER, plane_table

    readme = (ROOT / "bpmn" / "README.md").read_text(encoding="utf-8").splitlines()
    start = readme.index(HEADER.splitlines()[0])
    table = []
    for line in readme[start:]:
        if not line.startswith("|"):
            break
        table.append(line)
    assert "\n".join(table) == plane_table(DIAGRAMS), (
        "bpmn/README.md's table of planes is stale: replace it with the output of "
        "`.venv/bin/python bpmn/tools/plane_sizes.py bpmn/*.bpmn`")


def _phase_plane(elements: str = "", di: str = "", *, name: str = "阶段", width: int = 100) -> str:
    """A process holding a collapsed sub-process ``s`` of that name at (0,0), ``width`` x 80 px, plus
    ``elements`` (BPMN) and their ``di`` (shapes and edges of the same plane)."""
    return ('<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
            'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI">'
            f'<bpmn:process id="p"><bpmn:subProcess id="s" name="{name}" />{elements}</bpmn:process>'
            '<bpmndi:BPMNDiagram><bpmndi:BPMNPlane bpmnElement="p">'
            f'<bpmndi:BPMNShape bpmnElement="s" isExpanded="false"><dc:Bounds x="0" y="0" width="{width}" height="80" />'
            f'</bpmndi:BPMNShape>{di}</bpmndi:BPMNPlane></bpmndi:BPMNDiagram></bpmn:definitions>')


def _collapsed(name: str, width: int = 100) -> str:
    """A process holding one collapsed sub-process of that name, drawn ``width`` px wide."""
    return _phase_plane(name=name, width=width)


def test_a_phase_name_that_runs_into_its_marker_is_named():
    # 24 characters wrap into four lines of a 100 px box; the ⊞ marker sits where the third begins
    (problem,) = layout_figures(_collapsed("动火分析与作业前确认（含暂停后的复测、恢复审批）")).problems
    assert "collapsed sub-process s" in problem and "4 lines" in problem
    assert layout_figures(_collapsed("动火分析与作业前确认")).problems == []
    assert layout_figures(_collapsed("作业单位审核（交叉作业）")).problems == []   # 12: two full lines
    assert layout_figures(_collapsed("Hot work pre-checks")).problems == []  # Latin: half a character
    # a host widened for its boundary events has longer lines
    assert layout_figures(_collapsed("受限空间申请、审批与签发（含退回）", width=160)).problems == []


def _phase_and_flow(flow_y: int) -> str:
    """A collapsed sub-process (0,0 100x80) and two tasks below-right and left of it, joined by a
    horizontal flow at ``flow_y``."""
    return _phase_plane(
        '<bpmn:task id="a" /><bpmn:task id="b" /><bpmn:sequenceFlow id="f" sourceRef="a" targetRef="b" />',
        f'<bpmndi:BPMNShape bpmnElement="a"><dc:Bounds x="200" y="{flow_y - 40}" width="100" height="80" />'
        '</bpmndi:BPMNShape>'
        f'<bpmndi:BPMNShape bpmnElement="b"><dc:Bounds x="-200" y="{flow_y - 40}" width="100" height="80" />'
        '</bpmndi:BPMNShape>'
        f'<bpmndi:BPMNEdge bpmnElement="f"><di:waypoint x="200" y="{flow_y}" /><di:waypoint x="-100" y="{flow_y}" />'
        '</bpmndi:BPMNEdge>')


def test_a_flow_under_a_phase_drill_down_button_is_named():
    # bpmn-js draws the button 20 x 20 px from 7 px under the phase's bottom-right corner: y 87..107
    (problem,) = layout_figures(_phase_and_flow(95)).problems
    assert problem.endswith("flow f (a -> b) runs under the drill-down button of s")
    assert layout_figures(_phase_and_flow(115)).problems == []


def _phase_with_event(event_x: int, event_y: int = 62) -> str:
    """A collapsed sub-process (0,0 100x80) carrying one boundary event at (event_x, event_y)."""
    return _phase_plane(
        '<bpmn:boundaryEvent id="e" attachedToRef="s" cancelActivity="false" />',
        f'<bpmndi:BPMNShape bpmnElement="e"><dc:Bounds x="{event_x}" y="{event_y}" width="36" height="36" />'
        '</bpmndi:BPMNShape>')


def test_a_boundary_event_over_a_phase_marker_or_button_is_named():
    # the ⊞ marker is drawn at x 42.5..57.5, y 60..75: an event centred on the bottom border hides it
    (problem,) = layout_figures(_phase_with_event(32)).problems
    assert problem.endswith("boundary event e covers the ⊞ marker of collapsed sub-process s")
    # the drill-down button is at x 88..108, y 87..107: an event at the bottom-right corner covers it
    (problem,) = layout_figures(_phase_with_event(70)).problems
    assert problem.endswith("boundary event e covers the drill-down button of s")
    # bottom-left, where the relayout puts a phase's one bottom event, and on the top border: clear
    assert layout_figures(_phase_with_event(4)).problems == []
    assert layout_figures(_phase_with_event(32, -18)).problems == []
