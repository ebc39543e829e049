"""Lay out a BPMN diagram with ELK (elkjs) and rewrite only its diagram interchange.

Generation-time tool (``build_library.py`` calls it for every diagram; a designer may run it on
any ``.bpmn``): the semantic part of the file (ids, flows, properties) is kept byte for byte, only
the ``bpmndi:BPMNDiagram`` element is replaced. Needs node and ``npm ci`` in ``bpmn/tools/layout``;
nothing at run time or in ``make test`` depends on it.

    .venv/bin/python bpmn/tools/relayout.py bpmn/hot_work_permit.bpmn [...]
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from xml.sax.saxutils import quoteattr

HERE = Path(__file__).resolve().parent
LAYOUT_JS = HERE / "layout" / "layout.mjs"
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
B = "{%s}" % NS["bpmn"]
SIZES = {"event": (36, 36), "task": (100, 80), "gateway": (50, 50)}
WIDEN = 24   # px a host is widened by per try when its boundary events' names have no room
FLOW_NODES = {"task", "userTask", "manualTask", "scriptTask", "serviceTask", "businessRuleTask", "sendTask",
              "receiveTask", "callActivity", "subProcess", "startEvent", "endEvent", "intermediateCatchEvent",
              "intermediateThrowEvent", "boundaryEvent", "exclusiveGateway", "parallelGateway",
              "inclusiveGateway", "eventBasedGateway", "complexGateway"}


def _kind(tag: str) -> str:
    return "event" if tag.endswith("Event") else "gateway" if tag.endswith("Gateway") else "task"


def text_size(text: str, max_width: int = 90) -> tuple[int, int]:
    """Approximate size of an external label as bpmn-js draws it (11 px font, wrapped at 90 px: node
    and flow names alike, bpmn-js wraps every external label at 90 px whatever its DI width)."""
    width = sum(12 if ord(c) > 0x2e7f else 7 for c in text) + 8
    lines = max(1, -(-width // max_width))
    return (min(width, max_width) + 4, 14 * lines)


def graph_of(xml: str, container_id: str | None = None) -> dict:
    """The layout graph of one plane: the process (default) or one of its collapsed sub-processes
    (``container_id``), each with its own nodes, lanes, boundary events and flows."""
    root = ET.fromstring(xml)
    process = root.find("bpmn:process", NS)
    top = process
    if container_id is not None:
        process = next(el for el in top.iter(f"{B}subProcess") if el.get("id") == container_id)
    # Only this container's own lanes and elements: a sub-process inside is one node here.
    lanes = [{"id": lane.get("id"), "name": lane.get("name") or "",
              "refs": [r.text for r in lane.findall("bpmn:flowNodeRef", NS)]}
             for ls in process.findall("bpmn:laneSet", NS) for lane in ls.iter(f"{B}lane")]
    lane_of = {ref: lane["id"] for lane in lanes for ref in lane["refs"]}
    nodes, boundaries = [], []
    for el in process:
        tag = el.tag[len(B):] if el.tag.startswith(B) else ""
        if tag not in FLOW_NODES:
            continue
        kind = _kind(tag)
        name = el.get("name") or ""
        if tag == "boundaryEvent":
            boundaries.append({"id": el.get("id"), "host": el.get("attachedToRef"), "name": name,
                               "label": list(text_size(name)) if name else None})
            continue
        w, h = SIZES[kind]
        nodes.append({"id": el.get("id"), "kind": kind, "tag": tag, "w": w, "h": h,
                      "lane": lane_of.get(el.get("id")), "name": name,
                      # Activities carry their name inside; events and gateways below them.
                      "label": list(text_size(name)) if name and kind != "task" else None})
    # A task carrying more boundary events than fit on its bottom border is drawn wider (DI only).
    for node in nodes:
        n_events = sum(1 for b in boundaries if b["host"] == node["id"])
        if node["kind"] == "task" and n_events > 2:
            node["w"] = max(node["w"], 46 * n_events + 10)
    flows = [{"id": f.get("id"), "source": f.get("sourceRef"), "target": f.get("targetRef"),
              "name": f.get("name") or "", "label": list(text_size(f.get("name"))) if f.get("name") else None}
             for f in process.findall("bpmn:sequenceFlow", NS)]
    if container_id is not None:
        return {"process": container_id, "plane": container_id, "pool": None,
                "lanes": [{"id": lane["id"], "name": lane["name"]} for lane in lanes],
                "nodes": nodes, "boundaries": boundaries, "flows": flows}
    collab = root.find("bpmn:collaboration", NS)
    pool = None
    if collab is not None and collab.find("bpmn:participant", NS) is not None:
        p = collab.find("bpmn:participant", NS)
        pool = {"id": p.get("id"), "name": p.get("name") or ""}
    return {"process": process.get("id"), "plane": collab.get("id") if pool else process.get("id"),
            "pool": pool, "lanes": [{"id": lane["id"], "name": lane["name"]} for lane in lanes],
            "nodes": nodes, "boundaries": boundaries, "flows": flows}


def run_elk(graph: dict) -> dict:
    """Geometry for ``graph`` from the node tool (positions, waypoints, labels, lanes)."""
    out = subprocess.run(["node", str(LAYOUT_JS)], input=json.dumps(graph), capture_output=True, text=True,
                         check=False, cwd=LAYOUT_JS.parent)
    if out.returncode:
        raise RuntimeError(f"layout failed: {out.stderr}")
    return json.loads(out.stdout)


def layout_graph(graph: dict) -> dict:
    """``run_elk``, again with a wider host where a boundary event's name found no room beside its flow.

    A task carrying several boundary events has their flows running down side by side, as far apart
    as the host is wide; a name wider than the gap is crossed by the neighbour's flow (layout_check:
    no flow through a label) or ends up away from its own flow, where a reader takes it for the
    neighbour's. Such a host is drawn ``WIDEN`` px wider and the plane laid out again, a few times at
    most, and the best layout kept (fewest names without a free place, then fewest away from their
    flow, then the narrowest): only as wide as needed, every px counts on a laptop."""
    by_id = {n["id"]: n for n in graph["nodes"]}
    events = {b["id"]: b["host"] for b in graph["boundaries"]}
    geo = run_elk(graph)

    def score(g):
        return (len(g.get("unplaced", [])), len(g.get("cramped", [])))

    best, best_w = geo, {k: n["w"] for k, n in by_id.items()}
    for _ in range(4):
        hosts = {events[i] for i in set(geo.get("unplaced", [])) | set(geo.get("cramped", [])) if i in events}
        hosts &= set(by_id)
        if not hosts:
            break
        for host in hosts:
            by_id[host]["w"] += WIDEN
        geo = run_elk(graph)
        if score(geo) < score(best):
            best, best_w = geo, {k: n["w"] for k, n in by_id.items()}
    for k, w in best_w.items():
        by_id[k]["w"] = w
    return best


def _b(box) -> str:
    x, y, w, h = (round(v) for v in box)
    return f'<dc:Bounds x="{x}" y="{y}" width="{w}" height="{h}" />'


def di_xml(graph: dict, geo: dict) -> str:
    """The ``bpmndi:BPMNDiagram`` element for the computed geometry."""
    parts = []
    if graph["pool"]:
        parts.append(f'<bpmndi:BPMNShape id="{graph["pool"]["id"]}_di" bpmnElement="{graph["pool"]["id"]}" '
                     f'isHorizontal="true">{_b(geo["pool"])}</bpmndi:BPMNShape>')
    if graph["lanes"]:
        for lane in graph["lanes"]:
            parts.append(f'<bpmndi:BPMNShape id="{lane["id"]}_di" bpmnElement="{lane["id"]}" isHorizontal="true">'
                         f'{_b(geo["lanes"][lane["id"]])}</bpmndi:BPMNShape>')
    for node in graph["nodes"] + graph["boundaries"]:
        nid = node["id"]
        # A sub-process is drawn collapsed here; its content has a plane of its own.
        extra = ' isMarkerVisible="true"' if node.get("tag") == "exclusiveGateway" else \
            ' isExpanded="false"' if node.get("tag") == "subProcess" else ""
        label = f'<bpmndi:BPMNLabel>{_b(geo["labels"][nid])}</bpmndi:BPMNLabel>' if nid in geo["labels"] else ""
        parts.append(f'<bpmndi:BPMNShape id="{nid}_di" bpmnElement="{nid}"{extra}>{_b(geo["nodes"][nid])}'
                     f'{label}</bpmndi:BPMNShape>')
    for flow in graph["flows"]:
        fid = flow["id"]
        pts = "".join(f'<di:waypoint x="{round(x)}" y="{round(y)}" />' for x, y in geo["edges"][fid])
        label = f'<bpmndi:BPMNLabel>{_b(geo["labels"][fid])}</bpmndi:BPMNLabel>' if fid in geo["labels"] else ""
        parts.append(f'<bpmndi:BPMNEdge id="{fid}_di" bpmnElement="{fid}">{pts}{label}</bpmndi:BPMNEdge>')
    return (f'<bpmndi:BPMNDiagram id="BPMNDiagram_{graph["process"]}"><bpmndi:BPMNPlane '
            f'id="BPMNPlane_{graph["process"]}" bpmnElement={quoteattr(graph["plane"])}>' + "".join(parts)
            + "</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>")


DIAGRAM_RE = re.compile(r"<bpmndi:BPMNDiagram\b.*?</bpmndi:BPMNDiagram>", re.S)


def relayout(xml: str) -> str:
    """``xml`` with its diagram interchange replaced by the ELK layout; everything else unchanged.

    One diagram per plane: the process, and each collapsed sub-process (nested ones too), each
    laid out on its own as bpmn-js shows it when a designer drills down."""
    process = ET.fromstring(xml).find("bpmn:process", NS)
    graphs = [graph_of(xml)] + [graph_of(xml, sp.get("id")) for sp in process.iter(f"{B}subProcess")]
    old = DIAGRAM_RE.findall(xml)
    if not old:
        raise ValueError("no bpmndi:BPMNDiagram to replace")
    # Pools with lanes, flow nodes, collapsed sub-processes and sequence flows is what the layout
    # knows; refuse rather than silently drop the DI of anything else (message flows, annotations).
    drawn = set()
    for graph in graphs:
        drawn |= {n["id"] for n in graph["nodes"] + graph["boundaries"]} | {f["id"] for f in graph["flows"]}
        drawn |= {lane["id"] for lane in graph["lanes"]} | ({graph["pool"]["id"]} if graph["pool"] else set())
        drawn.add(graph["plane"])
    dropped = sorted(set(re.findall(r'bpmnElement="([^"]+)"', "".join(old))) - drawn)
    if dropped:
        raise ValueError(f"the layout would drop the DI of {', '.join(dropped)} (not supported by relayout)")
    new_di = "\n".join(di_xml(graph, layout_graph(graph)) for graph in graphs)
    first = DIAGRAM_RE.search(xml)
    rest = re.sub(r"\n?" + DIAGRAM_RE.pattern, "", xml[first.end():], flags=re.S)
    return xml[:first.start()] + new_di + rest


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        path = Path(arg)
        path.write_text(relayout(path.read_text(encoding="utf-8")), encoding="utf-8")
        print(f"laid out {path}")
