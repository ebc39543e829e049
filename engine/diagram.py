"""Instance diagrams: the BPMN drawn from its diagram interchange (DI) as SVG, states coloured.

"Where is my permit?": every flow node of the instance's top-level process is
drawn where the modeler put it, filled by its state (a collapsed sub-process's content is
drawn below, one section per plane, as a modeler shows it when drilling down):

* ``completed`` (green) — a task of this element finished;
* ``active`` (blue) — ready, started, or waiting on a timer;
* ``suspended`` (orange) — waiting for an outside event (a message catch or
  receive task, e.g. a stopped job waiting for the restart);
* ``error`` (red) — a task in error, or the element named by an open incident;
* no state (white) — not reached.

An element that ran several times takes its most urgent state (error >
active > suspended > completed). Called processes show as their call activity.
Sequence flows are drawn along their DI waypoints with the arrowhead ending on
the target's border; the flows the instance took are drawn green and thick (the
path taken), current tasks get a thick outline. Names of events, gateways and
flows sit at their DI label bounds (``BPMNLabel``), as a modeler shows them.
Each shape and flow carries ``data-element-id`` and ``data-state`` so tools and
tests can read the picture.
"""
from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from lxml import etree
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity
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


def _own_diagram(wf, task) -> bool:
    """Whether ``task`` is drawn in this diagram: a task of the process or of one of its embedded
    sub-processes (nested too), not of a called process (another diagram)."""
    workflow = task.workflow
    while workflow is not wf:
        parent = wf.get_task_from_id(workflow.parent_task_id)
        if parent is None or isinstance(parent.task_spec, CallActivity):
            return False
        workflow = parent.workflow
    return True


def element_states(platform, instance: ProcessInstance) -> dict[str, str]:
    """bpmn id → state for the instance's elements (top level and embedded sub-processes)."""
    wf = platform.runner.load(instance)
    states: dict[str, str] = {}

    def put(bpmn_id, state):
        if bpmn_id and RANK[state] > RANK.get(states.get(bpmn_id), 0):
            states[bpmn_id] = state

    for task in wf.get_tasks():
        if not _own_diagram(wf, task):
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
            if type(spec).__name__ == "BoundaryEvent":
                continue  # armed while its host runs: neither the current step nor suspended
            definition = getattr(spec, "event_definition", None)
            waits_outside = type(definition).__name__ == "MessageEventDefinition" or \
                type(spec).__name__ in ("ReceiveTask",)
            put(bpmn_id, "suspended" if waits_outside else "active")
    return states


_REACHED = (TaskState.COMPLETED, TaskState.READY, TaskState.STARTED, TaskState.WAITING, TaskState.ERROR)


def taken_transitions(platform, instance: ProcessInstance) -> set[tuple[str, str]]:
    """(source, target) bpmn ids of the flows the instance has run along (top level and embedded
    sub-processes).

    Read from the task tree: a reached task whose nearest ancestor with a BPMN id is ``source``
    came along the flow ``source -> target`` (engine-internal tasks without an id are skipped).
    """
    wf = platform.runner.load(instance)
    pairs: set[tuple[str, str]] = set()
    for task in wf.get_tasks():
        if task.state not in _REACHED or not _own_diagram(wf, task):
            continue
        target = getattr(task.task_spec, "bpmn_id", None)
        parent = task.parent
        while parent is not None and not getattr(parent.task_spec, "bpmn_id", None):
            parent = parent.parent
        if target and parent is not None and parent.workflow is task.workflow:
            pairs.add((parent.task_spec.bpmn_id, target))
    return pairs


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
        taken = taken_transitions(platform, inst)
        title = f"{definition.name or definition.key} v{definition.version} · #{inst.id} · {inst.status}"
        return render(definition.bundle, definition.key, states, title=title, taken=taken)


def _find_process_xml(bundle: dict, key: str):
    for text in bundle.get("bpmn", {}).values():
        root = etree.fromstring(text.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
        for proc in root.iter(f"{BPMN}process"):
            if proc.get("id") == key:
                return root, proc
    raise NotFound(f"the definition of '{key}' has no BPMN for its process")


def render(bundle: dict, key: str, states: dict[str, str], *, title: str = "",
           taken: set[tuple[str, str]] | frozenset = frozenset()) -> str:
    """SVG of process ``key`` of a definition bundle, elements filled by ``states``; the flows
    whose (source, target) is in ``taken`` are drawn as the path taken."""
    root, proc = _find_process_xml(bundle, key)
    elements = {el.get("id"): el for el in proc.iter() if isinstance(el.tag, str) and el.get("id")}
    participants = {p.get("id"): p for p in root.iter(f"{BPMN}participant") if p.get("processRef") == key}
    collab_ids = {c.get("id") for c in root.iter(f"{BPMN}collaboration")}
    shapes, edges, labels = [], [], {}
    # Each plane (the process, then each collapsed sub-process) is drawn below the previous one,
    # moved by a translate so every coordinate stays the DI's own.
    sections = []  # (plane element id, dy, top, bottom)
    bottom = None
    for plane in root.iter(f"{BPMNDI}BPMNPlane"):
        plane_ref = plane.get("bpmnElement")
        if plane_ref != key and plane_ref not in elements and plane_ref not in collab_ids:
            continue  # another process's plane
        p_shapes, p_edges, p_labels = [], [], {}
        for sh in plane.iter(f"{BPMNDI}BPMNShape"):
            b = sh.find(f"{DC}Bounds")
            ref = sh.get("bpmnElement")
            if b is None or (ref not in elements and ref not in participants):
                continue
            p_shapes.append((ref, *_box(b)))
            lb = sh.find(f"{BPMNDI}BPMNLabel/{DC}Bounds")
            if lb is not None:
                p_labels[ref] = _box(lb)
        for ed in plane.iter(f"{BPMNDI}BPMNEdge"):
            if ed.get("bpmnElement") in elements:
                p_edges.append((ed.get("bpmnElement"), [(float(w.get("x")), float(w.get("y")))
                                                        for w in ed.findall(f"{DI}waypoint")]))
                lb = ed.find(f"{BPMNDI}BPMNLabel/{DC}Bounds")
                if lb is not None:
                    p_labels[ed.get("bpmnElement")] = _box(lb)
        if not p_shapes:
            continue
        top = min([y for _, _, y, _, _ in p_shapes] + [y for _, pts in p_edges for _, y in pts])
        low = max([y + h for _, _, y, _, h in p_shapes] + [y + h for _, y, _, h in p_labels.values()]
                  + [y for _, pts in p_edges for _, y in pts])
        dy = 0.0 if bottom is None else bottom + 70 - top
        sections.append((plane_ref, dy, top, low))
        bottom = low + dy
        shapes += [(ref, x, y, w, h, dy) for ref, x, y, w, h in p_shapes]
        edges += [(ref, pts, dy) for ref, pts in p_edges]
        labels.update({ref: (box, dy) for ref, box in p_labels.items()})
    if not shapes:
        raise NotFound(f"process '{key}' has no diagram interchange (DI) to draw from")
    xs = [x for _, x, _, _, _, _ in shapes] + [x for _, pts, _ in edges for x, _ in pts]
    ys = [y + dy for _, _, y, _, _, dy in shapes] + [y + dy for _, pts, dy in edges for _, y in pts]
    xe = [x + w for _, x, _, w, _, _ in shapes] + [x + w for (x, _, w, _), _ in labels.values()]
    ye = [y + h + dy for _, _, y, _, h, dy in shapes] + [y + h + dy for (_, y, _, h), dy in labels.values()]
    min_x, min_y = min(xs) - 20, min(ys) - 50
    max_x, max_y = max(xe + xs) + 20, max(ye + ys) + 60
    width, height = max_x - min_x, max_y - min_y
    done_stroke = COLOURS["completed"][0]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{min_x:g} {min_y:g} {width:g} {height:g}" '
           f'width="{width:g}" height="{height:g}" font-family="\'Noto Sans CJK SC\', sans-serif" font-size="12" '
           f'data-process-key={quoteattr(key)}>',
           f'<title>{escape(title or key)}</title>',
           # The arrowhead's tip is the flow's last waypoint (refX = tip), i.e. on the target's border;
           # sized in user space so thick taken flows do not get huge heads.
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="10" markerHeight="10" '
           'markerUnits="userSpaceOnUse" orient="auto"><path d="M0,1 L10,5 L0,9 z" fill="#434343"/></marker>'
           '<marker id="arrow-taken" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="12" markerHeight="12" '
           f'markerUnits="userSpaceOnUse" orient="auto"><path d="M0,1 L10,5 L0,9 z" fill="{done_stroke}"/></marker>'
           '</defs>',
           f'<rect x="{min_x:g}" y="{min_y:g}" width="{width:g}" height="{height:g}" fill="#fafafa"/>',
           f'<text x="{min_x + 10:g}" y="{min_y + 22:g}" font-size="15" font-weight="bold">{escape(title or key)}</text>']
    for plane_ref, dy, top, _low in sections[1:]:
        # A sub-process's plane: a rule and its name above it, as a modeler's breadcrumb says.
        sub = elements.get(plane_ref)
        heading = f"子流程 sub-process: {sub.get('name') or plane_ref}" if sub is not None else plane_ref
        out.append(f'<g class="plane" data-plane={quoteattr(plane_ref)}><path d="M{min_x + 10:g},{top + dy - 45:g} '
                   f'H{max_x - 10:g}" stroke="#bfbfbf" stroke-dasharray="8 6"/><text x="{min_x + 10:g}" '
                   f'y="{top + dy - 22:g}" font-size="14" font-weight="bold">{escape(heading)}</text></g>')
    # pools and lanes first (background), then edges, then nodes on top, labels last
    for ref, x, y, w, h, dy in shapes:
        el = participants.get(ref) if ref in participants else elements.get(ref)
        tag = el.tag.replace(BPMN, "") if el is not None else ""
        if tag in ("participant", "lane"):
            name = el.get("name") or ref
            out.append(_moved(dy, f'<g class="{tag}" data-element-id={quoteattr(ref)}><rect x="{x:g}" y="{y:g}" '
                       f'width="{w:g}" height="{h:g}" fill="none" stroke="#8c8c8c"/>'
                       f'<text x="{x + 15:g}" y="{y + h / 2:g}" transform="rotate(-90 {x + 15:g} {y + h / 2:g})" '
                       f'text-anchor="middle" dominant-baseline="middle">{escape(name)}</text></g>'))
    # Taken flows are drawn after (above) the others so the path reads through crossings.
    flow_els = [(ref, pts, (elements[ref].get("sourceRef"), elements[ref].get("targetRef")) in taken, dy)
                for ref, pts, dy in edges if len(pts) >= 2]
    for ref, pts, was_taken, dy in sorted(flow_els, key=lambda f: f[2]):
        d = " ".join(f"{x:g},{y:g}" for x, y in pts)
        stroke, sw, marker = (done_stroke, 3, "arrow-taken") if was_taken else ("#434343", 1.5, "arrow")
        out.append(_moved(dy, f'<polyline class="flow{" taken" if was_taken else ""}" data-element-id={quoteattr(ref)} '
                   f'data-state="{"completed" if was_taken else "none"}" points="{d}" fill="none" '
                   f'stroke="{stroke}" stroke-width="{sw}" stroke-linejoin="round" marker-end="url(#{marker})"/>'))
    label_texts = []
    for ref, x, y, w, h, dy in shapes:
        el = elements.get(ref)
        if el is None:
            continue
        tag = el.tag.replace(BPMN, "")
        if tag in ("lane", "participant", "sequenceFlow"):
            continue
        state = states.get(ref)
        stroke, fill = COLOURS[state]
        current = state in ("active", "suspended", "error")
        name = el.get("name") or ""
        attrs = (f'class="node {tag}{" state-" + state if state else ""}" data-element-id={quoteattr(ref)} '
                 f'data-element-type="{tag}" data-state="{state or "none"}"')
        cx, cy = x + w / 2, y + h / 2
        if tag.endswith("Event"):
            sw = 3 if tag == "endEvent" else (3 if current else 1.5)
            inner = ""
            if tag in ("intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"):
                inner = f'<circle cx="{cx:g}" cy="{cy:g}" r="{w / 2 - 3:g}" fill="none" stroke="{stroke}"/>'
            out.append(_moved(dy, f'<g {attrs}><circle cx="{cx:g}" cy="{cy:g}" r="{w / 2:g}" fill="{fill}" '
                       f'stroke="{stroke}" stroke-width="{sw}"/>{inner}</g>'))
            if name:
                label_texts.append((ref, name, labels.get(ref, ((x - 27, y + h + 4, w + 54, 14), dy))))
        elif tag.endswith("Gateway"):
            pts = f"{cx:g},{y:g} {x + w:g},{cy:g} {cx:g},{y + h:g} {x:g},{cy:g}"
            mark = ""
            if tag == "exclusiveGateway":
                mark = (f'<path d="M{cx - 8:g},{cy - 8:g} L{cx + 8:g},{cy + 8:g} M{cx + 8:g},{cy - 8:g} '
                        f'L{cx - 8:g},{cy + 8:g}" stroke="{stroke}" stroke-width="3"/>')
            elif tag == "parallelGateway":
                mark = (f'<path d="M{cx:g},{cy - 11:g} V{cy + 11:g} M{cx - 11:g},{cy:g} H{cx + 11:g}" '
                        f'stroke="{stroke}" stroke-width="3"/>')
            out.append(_moved(dy, f'<g {attrs}><polygon points="{pts}" fill="{fill}" stroke="{stroke}" '
                       f'stroke-width="{3 if current else 1.5}"/>{mark}</g>'))
            if name:
                label_texts.append((ref, name, labels.get(ref, ((x - 25, y + h + 4, w + 50, 14), dy))))
        else:
            lines = _wrap(name, max(int((w - 10) // 12), 4))
            text = "".join(f'<tspan x="{cx:g}" dy="{0 if i == 0 else 14}">{escape(line)}</tspan>'
                           for i, line in enumerate(lines))
            ty = cy - 7 * (len(lines) - 1) + 4
            sw = 3 if tag in ("callActivity", "subProcess") or current else 1.5
            badge = ""
            if current:  # a dashed halo a reader finds without relying on colour (boundary events sit on the border)
                badge = (f'<rect class="current" x="{x - 6:g}" y="{y - 6:g}" width="{w + 12:g}" height="{h + 12:g}" '
                         f'rx="14" ry="14" fill="none" stroke="{stroke}" stroke-width="2" stroke-dasharray="6 4"/>')
            if tag == "subProcess":  # collapsed: the [+] marker of BPMN, its content drawn below
                badge += (f'<rect x="{cx - 7:g}" y="{y + h - 16:g}" width="14" height="14" fill="none" '
                          f'stroke="{stroke}"/><path d="M{cx - 4:g},{y + h - 9:g} h8 M{cx:g},{y + h - 13:g} v8" '
                          f'stroke="{stroke}"/>')
            out.append(_moved(dy, f'<g {attrs}><rect x="{x:g}" y="{y:g}" width="{w:g}" height="{h:g}" rx="10" ry="10" '
                       f'fill="{fill}" stroke="{stroke}" stroke-width="{sw}"/>'
                       f'<text x="{cx:g}" y="{ty:g}" text-anchor="middle">{text}</text>{badge}</g>'))
    for ref, el in elements.items():
        if el.tag == f"{BPMN}sequenceFlow" and el.get("name") and ref in labels:
            label_texts.append((ref, el.get("name"), labels[ref]))
    for ref, name, ((x, y, w, h), dy) in label_texts:
        # Wrapped to the label's DI width (about 12 px per CJK character at 11 px).
        lines = _wrap(name, max(int(w // 11), 2))
        text = "".join(f'<tspan x="{x + w / 2:g}" dy="{0 if i == 0 else 13}">{escape(line)}</tspan>'
                       for i, line in enumerate(lines))
        out.append(_moved(dy, f'<text class="label" data-label-of={quoteattr(ref)} x="{x + w / 2:g}" y="{y + 11:g}" '
                   f'font-size="11" text-anchor="middle">{text}</text>'))
    lx, ly = min_x + 10, max_y - 25
    out.append('<g class="legend">')
    for i, state in enumerate(("completed", "active", "suspended", "error")):
        stroke, fill = COLOURS[state]
        out.append(f'<rect x="{lx + i * 150:g}" y="{ly:g}" width="16" height="16" fill="{fill}" stroke="{stroke}"/>'
                   f'<text x="{lx + i * 150 + 22:g}" y="{ly + 13:g}">{LABELS[state]}</text>')
    out.append(f'<path d="M{lx + 600:g},{ly + 8:g} h30" stroke="{done_stroke}" stroke-width="3" '
               f'marker-end="url(#arrow-taken)"/><text x="{lx + 638:g}" y="{ly + 13:g}">已走路径 path taken</text>')
    out.append("</g></svg>")
    return "\n".join(out)


def _moved(dy: float, svg: str) -> str:
    """``svg`` drawn ``dy`` lower (a sub-process's plane), its own coordinates kept."""
    return svg if not dy else f'<g transform="translate(0 {dy:g})">{svg}</g>'


def _box(bounds) -> tuple[float, float, float, float]:
    return tuple(float(bounds.get(k)) for k in ("x", "y", "width", "height"))


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
