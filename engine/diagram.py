"""Instance diagrams: the BPMN drawn from its diagram interchange (DI) as SVG, states coloured.

"Where is my permit?": every flow node of the instance's top-level process is
drawn where the modeler put it, filled by its state:

* ``completed`` (green) — a task of this element finished;
* ``active`` (blue) — ready, started, or waiting on a timer;
* ``suspended`` (orange) — waiting for an outside event (a message catch or
  receive task, e.g. a stopped job waiting for the restart);
* ``error`` (red) — a task in error, or the element named by an open incident;
* no state (white) — not reached.

An element that ran several times takes its most urgent state (error >
active > suspended > completed). Called processes show as their call activity.
Each shape carries ``data-element-id`` and ``data-state`` so tools and tests
can read the picture.
"""
from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from lxml import etree
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from engine.errors import NotFound
from engine.models import Incident, ProcessDefinition, ProcessInstance

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
BPMNDI = "{http://www.omg.org/spec/BPMN/20100524/DI}"
DC = "{http://www.omg.org/spec/DD/20100524/DC}"
DI = "{http://www.omg.org/spec/DD/20100524/DI}"

COLOURS = {  # state -> (stroke, fill)
    "completed": ("#389e0d", "#d9f7be"),
    "active": ("#0958d9", "#bae0ff"),
    "suspended": ("#d46b08", "#ffe7ba"),
    "error": ("#cf1322", "#ffccc7"),
    None: ("#595959", "#ffffff"),
}
LABELS = {"completed": "已完成 completed", "active": "进行中 active", "suspended": "挂起 suspended",
          "error": "错误 error"}
RANK = {"error": 4, "active": 3, "suspended": 2, "completed": 1}


def element_states(platform, instance: ProcessInstance) -> dict[str, str]:
    """bpmn id → state for the instance's top-level elements."""
    wf = platform.runner.load(instance)
    states: dict[str, str] = {}

    def put(bpmn_id, state):
        if bpmn_id and RANK[state] > RANK.get(states.get(bpmn_id), 0):
            states[bpmn_id] = state

    for task in wf.get_tasks():
        if task.workflow is not wf:
            continue
        spec = task.task_spec
        bpmn_id = getattr(spec, "bpmn_id", None)
        st = task.state
        if st == TaskState.COMPLETED:
            put(bpmn_id, "completed")
        elif st == TaskState.ERROR:
            put(bpmn_id, "error")
        elif st in (TaskState.READY, TaskState.STARTED):
            put(bpmn_id, "active")
        elif st == TaskState.WAITING:
            definition = getattr(spec, "event_definition", None)
            waits_outside = type(definition).__name__ == "MessageEventDefinition" or \
                type(spec).__name__ in ("ReceiveTask",)
            put(bpmn_id, "suspended" if waits_outside else "active")
    return states


def instance_svg(platform, principal, instance_id: int) -> str:
    """The SVG picture of one instance (404 when missing or outside the caller's scope)."""
    with platform.db.session(write=False) as s:
        inst = s.get(ProcessInstance, instance_id)
        if inst is None or not (principal.sees_all_departments or inst.department in (None, principal.department)):
            raise NotFound(f"no process instance {instance_id}")
        definition = s.get(ProcessDefinition, inst.definition_id)
        states = element_states(platform, inst)
        if inst.status == "error":
            for inc in s.scalars(select(Incident).where(Incident.instance_id == inst.id, Incident.status == "open")):
                bpmn_id = (inc.details or {}).get("bpmn_id")
                if bpmn_id:
                    states[bpmn_id] = "error"
        title = f"{definition.name or definition.key} v{definition.version} · #{inst.id} · {inst.status}"
        return render(definition.bundle, definition.key, states, title=title)


def _find_process_xml(bundle: dict, key: str):
    for text in bundle.get("bpmn", {}).values():
        root = etree.fromstring(text.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
        for proc in root.iter(f"{BPMN}process"):
            if proc.get("id") == key:
                return root, proc
    raise NotFound(f"the definition of '{key}' has no BPMN for its process")


def render(bundle: dict, key: str, states: dict[str, str], *, title: str = "") -> str:
    """SVG of process ``key`` of a definition bundle, elements filled by ``states``."""
    root, proc = _find_process_xml(bundle, key)
    elements = {el.get("id"): el for el in proc.iter() if isinstance(el.tag, str) and el.get("id")}
    participants = {p.get("id"): p for p in root.iter(f"{BPMN}participant") if p.get("processRef") == key}
    shapes, edges = [], []
    for plane in root.iter(f"{BPMNDI}BPMNPlane"):
        for sh in plane.iter(f"{BPMNDI}BPMNShape"):
            b = sh.find(f"{DC}Bounds")
            ref = sh.get("bpmnElement")
            if b is None or (ref not in elements and ref not in participants):
                continue
            shapes.append((ref, *(float(b.get(k)) for k in ("x", "y", "width", "height"))))
        for ed in plane.iter(f"{BPMNDI}BPMNEdge"):
            if ed.get("bpmnElement") in elements:
                edges.append((ed.get("bpmnElement"), [(float(w.get("x")), float(w.get("y")))
                                                      for w in ed.findall(f"{DI}waypoint")]))
    if not shapes:
        raise NotFound(f"process '{key}' has no diagram interchange (DI) to draw from")
    min_x = min(x for _, x, _, _, _ in shapes) - 20
    min_y = min(y for _, _, y, _, _ in shapes) - 50
    max_x = max(x + w for _, x, _, w, _ in shapes) + 20
    max_y = max(y + h for _, _, y, _, h in shapes) + 60
    width, height = max_x - min_x, max_y - min_y
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{min_x:g} {min_y:g} {width:g} {height:g}" '
           f'width="{width:g}" height="{height:g}" font-family="sans-serif" font-size="12" '
           f'data-process-key={quoteattr(key)}>',
           f'<title>{escape(title or key)}</title>',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" '
           'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#434343"/></marker></defs>',
           f'<rect x="{min_x:g}" y="{min_y:g}" width="{width:g}" height="{height:g}" fill="#fafafa"/>',
           f'<text x="{min_x + 10:g}" y="{min_y + 22:g}" font-size="15" font-weight="bold">{escape(title or key)}</text>']
    # pools and lanes first (background), then edges, then nodes on top
    for ref, x, y, w, h in shapes:
        el = participants.get(ref) if ref in participants else elements.get(ref)
        tag = el.tag.replace(BPMN, "") if el is not None else ""
        if tag in ("participant", "lane"):
            name = el.get("name") or ref
            out.append(f'<g class="{tag}" data-element-id={quoteattr(ref)}><rect x="{x:g}" y="{y:g}" width="{w:g}" '
                       f'height="{h:g}" fill="none" stroke="#8c8c8c"/>'
                       f'<text x="{x + 15:g}" y="{y + h / 2:g}" transform="rotate(-90 {x + 15:g} {y + h / 2:g})" '
                       f'text-anchor="middle">{escape(name)}</text></g>')
    for ref, pts in edges:
        if len(pts) < 2:
            continue
        d = " ".join(f"{x:g},{y:g}" for x, y in pts)
        out.append(f'<polyline class="flow" data-element-id={quoteattr(ref)} points="{d}" fill="none" '
                   f'stroke="#434343" stroke-width="1.5" marker-end="url(#arrow)"/>')
    for ref, x, y, w, h in shapes:
        el = elements.get(ref)
        if el is None:
            continue
        tag = el.tag.replace(BPMN, "")
        if tag in ("lane", "participant", "sequenceFlow"):
            continue
        state = states.get(ref)
        stroke, fill = COLOURS[state]
        name = el.get("name") or ""
        attrs = (f'class="node {tag}{" state-" + state if state else ""}" data-element-id={quoteattr(ref)} '
                 f'data-element-type="{tag}" data-state="{state or "none"}"')
        cx, cy = x + w / 2, y + h / 2
        if tag.endswith("Event"):
            sw = 3 if tag == "endEvent" else 1.5
            inner = ""
            if tag in ("intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"):
                inner = f'<circle cx="{cx:g}" cy="{cy:g}" r="{w / 2 - 3:g}" fill="none" stroke="{stroke}"/>'
            out.append(f'<g {attrs}><circle cx="{cx:g}" cy="{cy:g}" r="{w / 2:g}" fill="{fill}" stroke="{stroke}" '
                       f'stroke-width="{sw}"/>{inner}<text x="{cx:g}" y="{y + h + 14:g}" text-anchor="middle">'
                       f'{escape(name)}</text></g>')
        elif tag.endswith("Gateway"):
            pts = f"{cx:g},{y:g} {x + w:g},{cy:g} {cx:g},{y + h:g} {x:g},{cy:g}"
            out.append(f'<g {attrs}><polygon points="{pts}" fill="{fill}" stroke="{stroke}" stroke-width="1.5"/>'
                       f'<text x="{cx:g}" y="{y - 5:g}" text-anchor="middle">{escape(name)}</text></g>')
        else:
            lines = _wrap(name, max(int(w // 12), 4))
            text = "".join(f'<tspan x="{cx:g}" dy="{0 if i == 0 else 14}">{escape(line)}</tspan>'
                           for i, line in enumerate(lines))
            ty = cy - 7 * (len(lines) - 1) + 4
            sw = 3 if tag == "callActivity" else 1.5
            out.append(f'<g {attrs}><rect x="{x:g}" y="{y:g}" width="{w:g}" height="{h:g}" rx="10" ry="10" '
                       f'fill="{fill}" stroke="{stroke}" stroke-width="{sw}"/>'
                       f'<text x="{cx:g}" y="{ty:g}" text-anchor="middle">{text}</text></g>')
    lx, ly = min_x + 10, max_y - 25
    out.append('<g class="legend">')
    for i, state in enumerate(("completed", "active", "suspended", "error")):
        stroke, fill = COLOURS[state]
        out.append(f'<rect x="{lx + i * 150:g}" y="{ly:g}" width="16" height="16" fill="{fill}" stroke="{stroke}"/>'
                   f'<text x="{lx + i * 150 + 22:g}" y="{ly + 13:g}">{LABELS[state]}</text>')
    out.append("</g></svg>")
    return "\n".join(out)


def _wrap(text: str, width: int) -> list[str]:
    lines, line = [], ""
    for ch in text:
        line += ch
        if len(line) >= width:
            lines.append(line)
            line = ""
    if line:
        lines.append(line)
    return lines[:4] or [""]
