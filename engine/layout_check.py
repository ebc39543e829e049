"""Layout check of a BPMN diagram's DI: is it drawn as a careful designer would draw it?

Reads only the XML (no browser, no node), so ``make test`` runs it over every diagram in
``bpmn/`` and any diagram added later (the permit diagrams) goes through the same rules:

- the first and last waypoint of each sequence flow lie on the border of its source and target
  (rectangle for activities, the diamond outline for gateways, the circle for events);
- no segment of a flow passes through a flow node other than its own source and target (a flow
  leaving a boundary event must also not run back through the event's host: it leaves away);
- at most one segment in twenty is diagonal;
- label bounds (``BPMNLabel``) overlap neither a flow node nor another label;
- no segment of a sequence flow passes through the label of another element: a flow may touch
  its own name, but not the name of its source or target either (a flow leaving a gateway through
  the text under it makes that text unreadable just as well);
- every flow node lies inside the lane that lists it;
- the name of a collapsed sub-process fits two lines of its box (a third runs into its marker), and
  no flow, label or boundary event lies under the drill-down button bpmn-js draws below its
  bottom-right corner, and no boundary event covers its ⊞ marker;
- every plane is readable on a laptop: its drawn content at 1:1 (pool, lanes, shapes, labels and
  waypoints) fits a ``LAPTOP`` screen (1366 x 768) at a zoom of at least ``MIN_ZOOM`` (0.7), i.e.
  at most 1951 x 1097 px.

A diagram with collapsed sub-processes has one plane per sub-process (bpmn-js drills down into
it); every plane is checked on its own, with the shapes, flows, labels and lanes drawn on it.

``check_layout`` returns human-readable problems naming the file, the element and what is
wrong; ``layout_figures`` returns the numbers behind them (used for before/after reports and, per
plane, by ``bpmn/tools/plane_sizes.py``).
"""
from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from engine.bpmn_xml import BPMN as _BPMN, NS

FLOW_NODES = {"task", "userTask", "manualTask", "scriptTask", "serviceTask", "businessRuleTask", "sendTask",
              "receiveTask", "callActivity", "subProcess", "startEvent", "endEvent", "intermediateCatchEvent",
              "intermediateThrowEvent", "boundaryEvent", "exclusiveGateway", "parallelGateway",
              "inclusiveGateway", "eventBasedGateway", "complexGateway"}
BORDER_TOLERANCE = 2.0   # px a docking point may be off the outline (rounding to integers)
MAX_DIAGONAL_SHARE = 1 / 20
LAPTOP = (1366, 768)     # px of a laptop screen a plane must fit ...
MIN_ZOOM = 0.7           # ... at this zoom or larger (1951 x 1097 px of diagram at 1:1)
# bpmn-js centres an activity's name in its box (12 px text, 5 px padding a side); a collapsed
# sub-process draws its marker at the bottom centre, where a third line of the name runs into it.
MAX_COLLAPSED_NAME_LINES = 2


@dataclass
class Box:
    x: float
    y: float
    w: float
    h: float
    kind: str  # "task", "gateway" or "event"

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    def border_distance(self, px: float, py: float) -> float:
        """How far (px) a point is from the outline of this shape."""
        if self.kind == "event":
            return abs(math.hypot(px - self.cx, py - self.cy) - self.w / 2)
        if self.kind == "gateway":
            # |dx|/a + |dy|/b = 1 is the diamond; the residue times the centre's distance to a
            # side is the distance to that side's line.
            a, b = self.w / 2, self.h / 2
            r = abs(px - self.cx) / a + abs(py - self.cy) / b
            return abs(r - 1) * a * b / math.hypot(a, b)
        inside_x = self.x <= px <= self.x + self.w
        inside_y = self.y <= py <= self.y + self.h
        if inside_x and inside_y:
            return min(px - self.x, self.x + self.w - px, py - self.y, self.y + self.h - py)
        dx = max(self.x - px, 0, px - self.x - self.w)
        dy = max(self.y - py, 0, py - self.y - self.h)
        return math.hypot(dx, dy)

    def crossed_by(self, a: tuple[float, float], b: tuple[float, float], margin: float = 1.0) -> bool:
        """Whether segment a-b enters the interior of this box (shrunk by ``margin``)."""
        x0, y0, x1, y1 = self.x + margin, self.y + margin, self.x + self.w - margin, self.y + self.h - margin
        if x0 >= x1 or y0 >= y1:
            return False
        # Liang-Barsky clipping: does any part of the segment lie strictly inside?
        (ax, ay), (bx, by) = a, b
        dx, dy = bx - ax, by - ay
        t0, t1 = 0.0, 1.0
        for p, q in ((-dx, ax - x0), (dx, x1 - ax), (-dy, ay - y0), (dy, y1 - ay)):
            if p == 0:
                if q <= 0:
                    return False
            else:
                t = q / p
                if p < 0:
                    t0 = max(t0, t)
                else:
                    t1 = min(t1, t)
        return t1 - t0 > 1e-9


@dataclass
class PlaneFigures:
    """Numbers of one plane: the process's own (``sub_process`` False) or a collapsed sub-process's."""
    element: str            # the process id, or the sub-process id
    name: str               # its name (the pool's name for the process)
    sub_process: bool
    width: float = 0.0      # drawn content at 1:1, px
    height: float = 0.0
    flows: int = 0
    labels_crossed: int = 0

    @property
    def zoom(self) -> float:
        """The largest zoom at which the plane fits a ``LAPTOP`` screen."""
        if not self.width or not self.height:
            return math.inf
        return min(LAPTOP[0] / self.width, LAPTOP[1] / self.height)

    @property
    def fits_laptop(self) -> bool:
        return self.zoom >= MIN_ZOOM


@dataclass
class Figures:
    """Numbers of one diagram's layout."""
    flows: int = 0
    segments: int = 0
    diagonal: int = 0
    flows_through_shapes: int = 0
    ends_off_border: int = 0
    labels_crossed: int = 0   # labels (of nodes or flows) that a flow other than their own crosses
    planes: list[PlaneFigures] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def diagonal_share(self) -> float:
        return self.diagonal / self.segments if self.segments else 0.0


def _kind(tag: str) -> str:
    if tag.endswith("Event"):
        return "event"
    if tag.endswith("Gateway"):
        return "gateway"
    return "task"


def _bounds(el) -> tuple[float, float, float, float] | None:
    b = el.find("dc:Bounds", NS)
    if b is None:
        return None
    return tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))


def _overlap(a, b) -> bool:
    (ax, ay, aw, ah), (bx, by, bw, bh) = a, b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


def name_lines(text: str, box_width: float) -> int:
    """How many lines bpmn-js wraps an activity's name into, in a box ``box_width`` px wide.

    Measured on the library's pictures (Noto Sans CJK, 12 px): six Chinese characters or full-width
    punctuation marks to a line of a 100 px box, a Latin character or digit half of one."""
    per_line = max(1.0, (box_width - 10) // 15)
    units = sum(1.0 if ord(c) > 0x2E7F else 0.5 for c in text)
    return max(1, math.ceil(units / per_line))


def laptop_problem(name: str, plane: PlaneFigures) -> str:
    """The message of the laptop rule for a plane that does not fit."""
    what = f"sub-process plane {plane.element}" if plane.sub_process else f"process plane {plane.element}"
    return (f"{name}: {what} '{plane.name}' is {plane.width:.0f} x {plane.height:.0f} px at 1:1 and fits a "
            f"{LAPTOP[0]} x {LAPTOP[1]} laptop screen only at zoom {plane.zoom:.2f} (at least {MIN_ZOOM} "
            f"needed: at most {LAPTOP[0] / MIN_ZOOM:.0f} x {LAPTOP[1] / MIN_ZOOM:.0f} px)")


def layout_figures(source: str | Path, *, name: str | None = None) -> Figures:
    """Measure a diagram (a path or the XML text) and list its layout problems."""
    if isinstance(source, Path) or (isinstance(source, str) and not source.lstrip().startswith("<")):
        path = Path(source)
        name = name or path.name
        root = ET.parse(path).getroot()
    else:
        name = name or "<diagram>"
        root = ET.fromstring(source)
    fig = Figures()
    elements = {el.get("id"): el for el in root.iter() if el.get("id")}
    nodes = {i: el for i, el in elements.items() if el.tag.startswith(_BPMN) and el.tag[len(_BPMN):] in FLOW_NODES}
    planes = list(root.iter("{%s}BPMNPlane" % NS["bpmndi"]))
    drawn_shapes = {s.get("bpmnElement") for plane in planes for s in plane.findall("bpmndi:BPMNShape", NS)}
    drawn_edges = {e.get("bpmnElement") for plane in planes for e in plane.findall("bpmndi:BPMNEdge", NS)}
    for nid in nodes:
        if nid not in drawn_shapes:
            fig.problems.append(f"{name}: {nid} has no shape bounds")
    for flow in root.iter(f"{_BPMN}sequenceFlow"):
        if flow.get("id") not in drawn_edges:
            fig.flows += 1
            fig.problems.append(f"{name}: flow {flow.get('id')} has no edge or no source/target shape")
    for plane in planes:
        pf = _plane_of(root, plane, elements)
        fig.planes.append(pf)
        flows_before, crossed_before = fig.flows, fig.labels_crossed
        _check_plane(root, plane, nodes, name, fig)
        pf.flows, pf.labels_crossed = fig.flows - flows_before, fig.labels_crossed - crossed_before
        if not pf.fits_laptop:
            fig.problems.append(laptop_problem(name, pf))
    if fig.segments and fig.diagonal_share > MAX_DIAGONAL_SHARE:
        fig.problems.append(f"{name}: {fig.diagonal} of {fig.segments} flow segments are diagonal "
                            f"({fig.diagonal_share:.0%}, at most {MAX_DIAGONAL_SHARE:.0%} allowed)")
    return fig


def _plane_of(root, plane, elements: dict) -> PlaneFigures:
    """What a plane shows (process or sub-process, its id and name) and its drawn size at 1:1."""
    ref = plane.get("bpmnElement")
    el = elements.get(ref)
    if el is not None and el.tag == f"{_BPMN}collaboration":
        part = el.find("bpmn:participant", NS)
        pid = part.get("processRef") if part is not None else ref
        proc = elements.get(pid)
        pname = (part.get("name") if part is not None else None) or (proc.get("name") if proc is not None else "")
        pf = PlaneFigures(pid or ref, pname or "", False)
    else:
        pf = PlaneFigures(ref, (el.get("name") if el is not None else "") or "",
                          el is not None and el.tag == f"{_BPMN}subProcess")
    xs, ys = [], []
    for b in plane.iter("{%s}Bounds" % NS["dc"]):
        x, y, w, h = (float(b.get(k)) for k in ("x", "y", "width", "height"))
        xs += [x, x + w]
        ys += [y, y + h]
    for w in plane.iter("{%s}waypoint" % NS["di"]):
        xs.append(float(w.get("x")))
        ys.append(float(w.get("y")))
    if xs:
        pf.width, pf.height = max(xs) - min(xs), max(ys) - min(ys)
    return pf


def _check_plane(root, plane, nodes: dict, name: str, fig: Figures) -> None:
    """The rules above for the shapes, flows, labels and lanes drawn on one plane."""
    problems = fig.problems
    shapes = {s.get("bpmnElement"): s for s in plane.findall("bpmndi:BPMNShape", NS)}
    edges = {e.get("bpmnElement"): e for e in plane.findall("bpmndi:BPMNEdge", NS)}
    labels = []
    boxes: dict[str, Box] = {}
    for nid, el in nodes.items():
        if nid not in shapes:
            continue
        b = _bounds(shapes[nid])
        if b is None:
            problems.append(f"{name}: {nid} has no shape bounds")
            continue
        boxes[nid] = Box(*b, _kind(el.tag[len(_BPMN):]))
    host_of = {nid: el.get("attachedToRef") for nid, el in nodes.items() if el.get("attachedToRef")}
    for nid, box in boxes.items():
        el = nodes[nid]
        if el.tag == f"{_BPMN}subProcess" and shapes[nid].get("isExpanded") != "true":
            lines = name_lines(el.get("name") or "", box.w)
            if lines > MAX_COLLAPSED_NAME_LINES:
                problems.append(f"{name}: the name of collapsed sub-process {nid} '{el.get('name')}' takes {lines} "
                                f"lines in its {box.w:.0f} px box and runs into its marker (at most "
                                f"{MAX_COLLAPSED_NAME_LINES}: shorten it, the phase's details belong inside)")
    # bpmn-js draws a collapsed sub-process's drill-down button (20 x 20 px) 7 px under its bottom-right
    # corner (DrilldownOverlayBehavior: bottom -7, right -8, CSS margin-left -20).
    buttons = {nid: Box(box.x + box.w - 12, box.y + box.h + 7, 20, 20, "task") for nid, box in boxes.items()
               if nodes[nid].tag == f"{_BPMN}subProcess" and shapes[nid].get("isExpanded") != "true"}
    # ... and its ⊞ marker (14 x 14 px) centred 20 px above its bottom border (BpmnRenderer): a boundary
    # event there hides what tells a reader the box is a phase to drill into.
    for nid, host in host_of.items():
        if host in buttons and nid in boxes:
            hb, ev = boxes[host], boxes[nid]
            marker = (hb.x + hb.w / 2 - 7.5, hb.y + hb.h - 20, 15, 15)
            if _overlap((ev.x, ev.y, ev.w, ev.h), marker):
                problems.append(f"{name}: boundary event {nid} covers the ⊞ marker of collapsed sub-process {host}")
            button = buttons[host]
            if _overlap((ev.x, ev.y, ev.w, ev.h), (button.x, button.y, button.w, button.h)):
                problems.append(f"{name}: boundary event {nid} covers the drill-down button of {host}")
    for ref, di in list(shapes.items()) + list(edges.items()):
        lab = di.find("bpmndi:BPMNLabel", NS)
        if lab is not None and _bounds(lab) is not None:
            labels.append((ref, _bounds(lab)))
    label_boxes = [(ref, Box(*lb, "task")) for ref, lb in labels]
    names = {el.get("id"): el.get("name") or "" for el in root.iter() if el.get("id")}
    crossed_labels: set[str] = set()

    for flow in root.iter(f"{_BPMN}sequenceFlow"):
        fid, src, tgt = flow.get("id"), flow.get("sourceRef"), flow.get("targetRef")
        edge = edges.get(fid)
        if edge is None:
            continue  # drawn on another plane
        fig.flows += 1
        if src not in boxes or tgt not in boxes:
            problems.append(f"{name}: flow {fid} has no edge or no source/target shape")
            continue
        pts = [(float(w.get("x")), float(w.get("y"))) for w in edge.findall("di:waypoint", NS)]
        if len(pts) < 2:
            problems.append(f"{name}: flow {fid} has fewer than two waypoints")
            continue
        off = []
        d = boxes[src].border_distance(*pts[0])
        if d > BORDER_TOLERANCE:
            off.append(f"starts {d:.0f} px off the border of its source {src} ({boxes[src].kind}) at {pts[0]}")
        d = boxes[tgt].border_distance(*pts[-1])
        if d > BORDER_TOLERANCE:
            off.append(f"ends {d:.0f} px off the border of its target {tgt} ({boxes[tgt].kind}) at {pts[-1]}")
        if off:
            fig.ends_off_border += 1
            problems += [f"{name}: flow {fid} {o}" for o in off]
        through = set()
        for a, b in zip(pts, pts[1:]):
            fig.segments += 1
            if abs(a[0] - b[0]) > 0.5 and abs(a[1] - b[1]) > 0.5:
                fig.diagonal += 1
            for nid, box in boxes.items():
                if nid in (src, tgt):
                    continue
                # A flow's own end may touch the boundary events sitting on its source's or
                # target's border; a boundary event's flow must not run back through its host.
                if host_of.get(nid) in (src, tgt) and nid not in (src, tgt):
                    continue
                if box.crossed_by(a, b):
                    through.add(nid)
        if src in host_of and boxes.get(host_of[src]) and any(
                boxes[host_of[src]].crossed_by(a, b) for a, b in zip(pts, pts[1:])):
            through.add(host_of[src])
        if through:
            fig.flows_through_shapes += 1
            problems.append(f"{name}: flow {fid} ({src} -> {tgt}) passes through "
                            + ", ".join(sorted(through)))
        # Labels a flow runs through: any but the flow's own name (its source's and target's too).
        for ref, lbox in label_boxes:
            if ref != fid and any(lbox.crossed_by(a, b) for a, b in zip(pts, pts[1:])):
                crossed_labels.add(ref)
                problems.append(f"{name}: flow {fid} ({src} -> {tgt}) crosses the label of {ref} "
                                f"'{names.get(ref, '')}'")
        for sub, button in buttons.items():
            if any(button.crossed_by(a, b, margin=0) for a, b in zip(pts, pts[1:])):
                problems.append(f"{name}: flow {fid} ({src} -> {tgt}) runs under the drill-down button of {sub}")
    fig.labels_crossed += len(crossed_labels)
    # Labels: against every flow node and against each other.
    for ref, lb in labels:
        for nid, box in boxes.items():
            if nid != ref and _overlap(lb, (box.x, box.y, box.w, box.h)):
                problems.append(f"{name}: label of {ref} overlaps the shape of {nid}")
        for sub, button in buttons.items():
            if _overlap(lb, (button.x, button.y, button.w, button.h)):
                problems.append(f"{name}: label of {ref} lies under the drill-down button of {sub}")
    for i, (ra, la) in enumerate(labels):
        for rb, lb in labels[i + 1:]:
            if _overlap(la, lb):
                problems.append(f"{name}: label of {ra} overlaps the label of {rb}")

    # Lanes contain their flow nodes.
    for lane in root.iter(f"{_BPMN}lane"):
        lb = _bounds(shapes[lane.get("id")]) if lane.get("id") in shapes else None
        if lb is None:
            if not any(lane.get("id") in {s.get("bpmnElement") for s in p.findall("bpmndi:BPMNShape", NS)}
                       for p in root.iter("{%s}BPMNPlane" % NS["bpmndi"])):
                problems.append(f"{name}: lane {lane.get('id')} has no shape bounds")
            continue
        for ref in lane.findall("bpmn:flowNodeRef", NS):
            box = boxes.get(ref.text)
            if box is None:
                continue
            if host_of.get(ref.text):
                # A boundary event straddles its host's border; its centre must be in the lane.
                inside = lb[0] <= box.cx <= lb[0] + lb[2] and lb[1] <= box.cy <= lb[1] + lb[3]
            else:
                inside = (lb[0] <= box.x and lb[1] <= box.y and box.x + box.w <= lb[0] + lb[2]
                          and box.y + box.h <= lb[1] + lb[3])
            if not inside:
                problems.append(f"{name}: {ref.text} is drawn outside its lane {lane.get('id')} "
                                f"'{lane.get('name')}'")


def check_layout(source: str | Path, *, name: str | None = None) -> list[str]:
    """The layout problems of a diagram (empty when it is drawn as the rules above ask)."""
    return layout_figures(source, name=name).problems
