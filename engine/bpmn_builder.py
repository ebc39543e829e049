"""Build BPMN 2.0 XML with diagram interchange from Python.

For tests, benchmarks and generating starting points of diagrams: the output is
plain BPMN with lanes and DI (bpmn.io-based modelers open and draw it) using
the SpiffWorkflow modeler's extension elements, so a designer can continue in
a modeler. Its own layout is a placeholder (columns in flow order, one band per lane,
flows centre to centre); the plant library is laid out afterwards by ELK with
``bpmn/tools/relayout.py``, which replaces only the DI (``engine/layout_check.py``
says what a finished layout must satisfy).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

SIZES = {"event": (36, 36), "task": (100, 80), "gateway": (50, 50)}
LANE_TOP = 30    # y of the pool and of the first lane
SLOT = 120       # vertical room per stacked node: an 80-px task, its boundary events below, a gap
LANE_PAD = 20    # room above and below the slots of a lane (30 above the first slot, the rest below)


@dataclass
class Node:
    id: str
    tag: str
    name: str = ""
    lane: str | None = None
    body: str = ""
    attached_to: str | None = None
    attrs: dict = field(default_factory=dict)
    ext: str = ""  # extensionElements of events (rendered before incoming/outgoing)
    inner: "ProcessBuilder | None" = None  # the content of an embedded sub-process

    @property
    def shape(self) -> str:
        if self.tag.endswith("Event"):
            return "event"
        if self.tag.endswith("Gateway"):
            return "gateway"
        return "task"


@dataclass
class Flow:
    id: str
    source: str
    target: str
    condition: str | None = None
    name: str = ""


class ProcessBuilder:
    """Accumulate nodes, lanes and flows; ``to_xml`` renders the definitions."""

    def __init__(self, process_id: str, name: str = "", executable: bool = True):
        self.process_id = process_id
        self.name = name or process_id
        self.executable = executable
        self.nodes: dict[str, Node] = {}
        self.flows: list[Flow] = []
        self.lanes: dict[str, str] = {}  # lane id -> lane name
        self.messages: dict[str, str] = {}
        self.escalations: dict[str, str] = {}  # escalation code -> id
        self.data_objects: dict[str, str] = {}  # id -> name

    # ------------------------------------------------------------------ nodes

    def lane(self, name: str, lane_id: str | None = None) -> "ProcessBuilder":
        """Declare a lane (a role) in display order."""
        self.lanes[lane_id or f"Lane_{len(self.lanes) + 1}"] = name
        return self

    def _add(self, node: Node) -> "ProcessBuilder":
        if node.id in self.nodes:
            raise ValueError(f"duplicate id {node.id}")
        self.nodes[node.id] = node
        return self

    def start(self, node_id="start", name="开始", *, timer: tuple[str, str] | None = None,
              message: str | None = None, variable: str | None = None, variables=None,
              form: str | None = None, props=None) -> "ProcessBuilder":
        """A start event. ``variables`` (names) and ``form`` (a JSON Schema file) declare what a
        starter may pass (engine/start_contract.py); ``variable`` names where a start message's
        payload lands (default: the message name)."""
        props = dict(props or {})
        if variables:
            props["start_variables"] = ",".join(variables)
        if form:
            props["formJsonSchemaFilename"] = form
        body = _timer(*timer) if timer else (_message_ref(self, message, variable=variable) if message else "")
        return self._add(Node(node_id, "startEvent", name, body=body, ext=_props_ext(props)))

    def end(self, node_id="end", name="结束", *, terminate=False, lane=None) -> "ProcessBuilder":
        """An end event; ``terminate=True`` ends the whole (sub)process, cancelling open tasks."""
        body = "<bpmn:terminateEventDefinition />" if terminate else ""
        return self._add(Node(node_id, "endEvent", name, lane, body))

    def user(self, node_id, name, *, lane=None, form=None, ui_form=None, props=None,
             manual=False, pre_script=None) -> "ProcessBuilder":
        """A user (or manual) task; ``pre_script`` runs in its data before it becomes ready."""
        props = dict(props or {})
        if form:
            props["formJsonSchemaFilename"] = form
        if ui_form:
            props["formUiSchemaFilename"] = ui_form
        body = ""
        if props or pre_script:
            items = "".join(f'<spiffworkflow:property name={quoteattr(k)} value={quoteattr(str(v))} />'
                            for k, v in props.items())
            inner = f"<spiffworkflow:properties>{items}</spiffworkflow:properties>" if props else ""
            if pre_script:
                inner += f"<spiffworkflow:preScript>{escape(pre_script)}</spiffworkflow:preScript>"
            body = f"<bpmn:extensionElements>{inner}</bpmn:extensionElements>"
        return self._add(Node(node_id, "manualTask" if manual else "userTask", name, lane, body))

    def script(self, node_id, name, script, *, lane=None) -> "ProcessBuilder":
        return self._add(Node(node_id, "scriptTask", name, lane, f"<bpmn:script>{escape(script)}</bpmn:script>"))

    def service(self, node_id, name, operator, params=None, *, lane=None, result_variable=None,
                retries=None, backoff=None) -> "ProcessBuilder":
        ps = "".join(f'<spiffworkflow:parameter id={quoteattr(k)} type="any" value={quoteattr(v)} />'
                     for k, v in (params or {}).items())
        retry = ""
        if retries is not None:
            retry = f'<spiffworkflow:retry retries="{retries}"' + (f' backoff_base="{backoff}"' if backoff else "") + " />"
        rv = f" resultVariable={quoteattr(result_variable)}" if result_variable else ""
        body = (f"<bpmn:extensionElements><spiffworkflow:serviceTaskOperator id={quoteattr(operator)}{rv}>"
                f"<spiffworkflow:parameters>{ps}</spiffworkflow:parameters>{retry}"
                f"</spiffworkflow:serviceTaskOperator></bpmn:extensionElements>")
        return self._add(Node(node_id, "serviceTask", name, lane, body))

    def call(self, node_id, name, called_element, *, lane=None, pre_script=None,
             each: tuple[str, str] | None = None) -> "ProcessBuilder":
        """A call activity running another process of the deployment (data copied in and out).

        ``pre_script`` runs in the caller's data just before the call; ``each=(collection, item)``
        makes it a parallel multi-instance: one call per element of ``collection``, named ``item``.
        """
        ext = ""
        if pre_script:
            ext = (f"<bpmn:extensionElements><spiffworkflow:preScript>{escape(pre_script)}"
                   f"</spiffworkflow:preScript></bpmn:extensionElements>")
        body = ""
        if each:
            collection, item = each
            # The collection is also declared as a data object: bpmn.io resolves loopDataInputRef
            # by id (and drops an unresolved one when saving); SpiffWorkflow reads the variable.
            self.data_objects.setdefault(collection, collection)
            body = ""
            body += (f'<bpmn:multiInstanceLoopCharacteristics isSequential="false">'
                    f"<bpmn:loopDataInputRef>{escape(collection)}</bpmn:loopDataInputRef>"
                    f'<bpmn:inputDataItem id="{item}" name="{item}" /></bpmn:multiInstanceLoopCharacteristics>')
        return self._add(Node(node_id, "callActivity", name, lane, body, attrs={"calledElement": called_element},
                              ext=ext))

    def business_rule(self, node_id, name, decision_id, *, lane=None) -> "ProcessBuilder":
        body = (f"<bpmn:extensionElements><spiffworkflow:calledDecisionId>{escape(decision_id)}"
                f"</spiffworkflow:calledDecisionId></bpmn:extensionElements>")
        return self._add(Node(node_id, "businessRuleTask", name, lane, body))

    def xor(self, node_id, name="", *, lane=None, default=None) -> "ProcessBuilder":
        return self._add(Node(node_id, "exclusiveGateway", name, lane, attrs={"default": default} if default else {}))

    def parallel(self, node_id, name="", *, lane=None) -> "ProcessBuilder":
        return self._add(Node(node_id, "parallelGateway", name, lane))

    def timer_catch(self, node_id, name, kind, expression, *, lane=None) -> "ProcessBuilder":
        return self._add(Node(node_id, "intermediateCatchEvent", name, lane, _timer(kind, expression)))

    def message_catch(self, node_id, name, message, *, lane=None, props=None, variable=None) -> "ProcessBuilder":
        """A message catch event; the payload lands in ``variable`` (default: the message name)."""
        return self._add(Node(node_id, "intermediateCatchEvent", name, lane, _message_ref(self, message, variable=variable),
                              ext=_props_ext(props)))

    def message_throw(self, node_id, name, message, *, lane=None, payload=None, props=None) -> "ProcessBuilder":
        """A message throw event; ``payload`` is an expression evaluated in the task data."""
        return self._add(Node(node_id, "intermediateThrowEvent", name, lane, _message_ref(self, message, payload),
                              ext=_props_ext(props)))

    def timer_boundary(self, node_id, name, attached_to, kind, expression, *, cancel=True) -> "ProcessBuilder":
        return self._add(Node(node_id, "boundaryEvent", name, body=_timer(kind, expression), attached_to=attached_to,
                              attrs={"cancelActivity": "true" if cancel else "false"}))

    def message_boundary(self, node_id, name, attached_to, message, *, cancel=True, props=None,
                         variable=None) -> "ProcessBuilder":
        """A message boundary event; the payload lands in ``variable`` (default: the message name)."""
        return self._add(Node(node_id, "boundaryEvent", name, body=_message_ref(self, message, variable=variable),
                              attached_to=attached_to, attrs={"cancelActivity": "true" if cancel else "false"},
                              ext=_props_ext(props)))

    def escalation_throw(self, node_id, name, code, *, lane=None) -> "ProcessBuilder":
        """An intermediate escalation throw event: it hands ``code`` (with a copy of the task data)
        to the enclosing sub-process's escalation boundary event and goes on at once."""
        return self._add(Node(node_id, "intermediateThrowEvent", name, lane, _escalation_ref(self, code)))

    def escalation_boundary(self, node_id, name, attached_to, code, *, cancel=False) -> "ProcessBuilder":
        """An escalation boundary event on a sub-process, caught from an escalation thrown inside;
        its path runs with the data of the throw."""
        return self._add(Node(node_id, "boundaryEvent", name, body=_escalation_ref(self, code), attached_to=attached_to,
                              attrs={"cancelActivity": "true" if cancel else "false"}))

    def sub(self, node_id, name, inner: "ProcessBuilder", *, lane=None) -> "ProcessBuilder":
        """An embedded sub-process drawn collapsed: ``inner`` (a builder whose process id is
        ``node_id``) holds its nodes, flows and lanes, drawn on a plane of its own (a modeler
        drills down into it). SpiffWorkflow copies the data in at its start and out at its end;
        the process's lanes do not reach inside, so ``inner`` declares the lanes of its tasks."""
        if inner.process_id != node_id:
            raise ValueError(f"the inner builder of {node_id} must have process id {node_id}")
        # Lane ids are unique in the document: the sub-process's carry its id.
        inner.lanes = {(lid if lid.startswith(f"{node_id}_") else f"{node_id}_{lid}"): lname
                       for lid, lname in inner.lanes.items()}
        clash = set(inner.nodes) & (set(self.nodes) | {node_id})
        if clash:
            raise ValueError(f"duplicate id {sorted(clash)[0]}")
        return self._add(Node(node_id, "subProcess", name, lane, inner=inner))

    def flow(self, source, target, *, condition=None, name="", flow_id=None) -> "ProcessBuilder":
        self.flows.append(Flow(flow_id or f"Flow_{source}_{target}", source, target, condition, name))
        return self

    def chain(self, *ids) -> "ProcessBuilder":
        """Connect ``ids`` in sequence."""
        for a, b in zip(ids, ids[1:]):
            self.flow(a, b)
        return self

    # ------------------------------------------------------------------ output

    def _layout(self) -> dict[str, tuple[int, int]]:
        starts = [n.id for n in self.nodes.values() if n.tag == "startEvent"] or list(self.nodes)[:1]
        column = {s: 0 for s in starts}
        queue = deque(starts)
        outgoing: dict[str, list[str]] = {}
        for f in self.flows:
            outgoing.setdefault(f.source, []).append(f.target)
        for n in self.nodes.values():
            if n.attached_to:
                outgoing.setdefault(n.attached_to, []).append(n.id)
        while queue:
            cur = queue.popleft()
            for nxt in outgoing.get(cur, []):
                if nxt not in column:
                    column[nxt] = column[cur] + 1
                    queue.append(nxt)
        for nid in self.nodes:
            column.setdefault(nid, max(column.values(), default=0) + 1)
        lane_names = list(self.lanes.values())
        lane_row = {name: i for i, name in enumerate(lane_names)}
        # Nodes sharing a column in one lane are stacked in slots; each lane is as tall as its
        # fullest column, so every shape (and its boundary events) stays inside its own lane.
        slots: dict[str, tuple[int, int, int]] = {}
        taken: dict[tuple[int, int], int] = {}
        for nid, node in self.nodes.items():
            if node.attached_to:
                continue
            row = lane_row.get(node.lane, 0) if node.lane else self._inferred_row(nid, lane_row)
            slot = taken.get((column[nid], row), 0)
            taken[(column[nid], row)] = slot + 1
            slots[nid] = (column[nid], row, slot)
        rows = max(len(lane_names), 1)
        depth = [max([n for (c, r), n in taken.items() if r == row] or [1]) for row in range(rows)]
        self._lane_tops = [LANE_TOP + sum(LANE_PAD + d * SLOT for d in depth[:row]) for row in range(rows + 1)]
        pos = {}
        for nid, (col, row, slot) in slots.items():
            w, h = SIZES[self.nodes[nid].shape]
            # Centre events and gateways on the 80-px task line of their slot.
            pos[nid] = (60 + 150 + col * 150 + (100 - w) // 2, self._lane_tops[row] + 30 + slot * SLOT + (80 - h) // 2)
        for nid, node in self.nodes.items():
            if node.attached_to:
                x, y = pos[node.attached_to]
                pos[nid] = (x + 10 + 40 * sum(1 for m in self.nodes.values()
                                              if m.attached_to == node.attached_to and m.id < nid), y + 62)
        return pos

    def _inferred_row(self, nid, lane_row) -> int:
        # Events and gateways sit in the lane of a neighbouring task.
        for f in self.flows:
            other = f.target if f.source == nid else f.source if f.target == nid else None
            if other and self.nodes.get(other) and self.nodes[other].lane in lane_row:
                return lane_row[self.nodes[other].lane]
        return 0

    def to_xml(self) -> str:
        """The whole ``bpmn:definitions`` document: the process, then one diagram per plane
        (the process, and each collapsed sub-process)."""
        parts = self._elements_xml()
        messages = "".join(f'<bpmn:message id="{mid}" name={quoteattr(name)} />'
                           for name, mid in self._merged("messages").items())
        messages += "".join(f'<bpmn:escalation id="{eid}" name="{code}" escalationCode="{code}" />'
                            for code, eid in self._merged("escalations").items())
        plane_el = f"Collaboration_{self.process_id}" if self.lanes else self.process_id
        di = "\n".join(b._di(b._layout(), plane_el if b is self else b.process_id, pool=b is self)
                       for b in self._builders())
        collab = ""
        if self.lanes:
            collab = (f'<bpmn:collaboration id="Collaboration_{self.process_id}"><bpmn:participant '
                      f'id="Participant_{self.process_id}" name={quoteattr(self.name)} '
                      f'processRef="{self.process_id}" /></bpmn:collaboration>')
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
            'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
            'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" '
            'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
            f'id="Definitions_{self.process_id}" targetNamespace="http://bpmn.io/schema/bpmn">\n'
            f'{collab}{messages}'
            f'<bpmn:process id="{self.process_id}" name={quoteattr(self.name)} '
            f'isExecutable="{"true" if self.executable else "false"}">\n'
            + "\n".join(parts) + "\n</bpmn:process>\n" + di + "\n</bpmn:definitions>\n"
        )

    def _builders(self) -> list["ProcessBuilder"]:
        """This builder and those of its sub-processes (nested ones too), in document order."""
        out = [self]
        for n in self.nodes.values():
            if n.inner is not None:
                out += n.inner._builders()
        return out

    def _merged(self, attr: str) -> dict[str, str]:
        """``messages`` or ``escalations`` of this builder and its sub-processes' (the first id of a name wins):
        the definitions declare each once, for every plane."""
        merged: dict[str, str] = {}
        for b in self._builders():
            for name, ref in getattr(b, attr).items():
                merged.setdefault(name, ref)
        return merged

    def _elements_xml(self) -> list[str]:
        """Lanes, data objects, flow nodes and sequence flows of this (sub-)process."""
        incoming: dict[str, list[str]] = {}
        outgoing: dict[str, list[str]] = {}
        for f in self.flows:
            outgoing.setdefault(f.source, []).append(f.id)
            incoming.setdefault(f.target, []).append(f.id)
        parts = []
        if self.lanes:
            lanes_xml = []
            for lid, lname in self.lanes.items():
                refs = "".join(f"<bpmn:flowNodeRef>{n.id}</bpmn:flowNodeRef>" for n in self.nodes.values()
                               if self._lane_of(n) == lname)
                lanes_xml.append(f'<bpmn:lane id="{lid}" name={quoteattr(lname)}>{refs}</bpmn:lane>')
            parts.append(f'<bpmn:laneSet id="LaneSet_{self.process_id}">{"".join(lanes_xml)}</bpmn:laneSet>')
        parts += [f'<bpmn:dataObject id="{oid}" name={quoteattr(name)} />' for oid, name in self.data_objects.items()]
        for n in self.nodes.values():
            attrs = " ".join(f"{k}={quoteattr(v)}" for k, v in n.attrs.items() if v)
            if n.attached_to:
                attrs += f' attachedToRef="{n.attached_to}"'
            refs = "".join(f"<bpmn:incoming>{i}</bpmn:incoming>" for i in incoming.get(n.id, []))
            refs += "".join(f"<bpmn:outgoing>{o}</bpmn:outgoing>" for o in outgoing.get(n.id, []))
            body = n.body
            if n.inner is not None:
                # A sub-process holds its lanes and flow elements after incoming/outgoing.
                inner = refs + "\n" + "\n".join(n.inner._elements_xml()) + "\n"
            # extensionElements must come first, event definitions after in/outgoing.
            elif n.ext:
                inner = n.ext + refs + body
            elif body.startswith("<bpmn:extensionElements>"):
                inner = body + refs
            elif body:
                inner = refs + body
            else:
                inner = refs
            parts.append(f'<bpmn:{n.tag} id="{n.id}" name={quoteattr(n.name)} {attrs}>{inner}</bpmn:{n.tag}>')
        for f in self.flows:
            cond = ""
            if f.condition is not None:
                cond = f"<bpmn:conditionExpression>{escape(f.condition)}</bpmn:conditionExpression>"
            parts.append(f'<bpmn:sequenceFlow id="{f.id}" name={quoteattr(f.name)} sourceRef="{f.source}" '
                         f'targetRef="{f.target}">{cond}</bpmn:sequenceFlow>')
        return parts

    def _lane_of(self, node: Node) -> str | None:
        if node.lane:
            return node.lane
        if node.attached_to:
            return self._lane_of(self.nodes[node.attached_to])
        lane_row = {name: i for i, name in enumerate(self.lanes.values())}
        return list(self.lanes.values())[self._inferred_row(node.id, lane_row)] if self.lanes else None

    def _di(self, pos, plane_el: str, *, pool: bool = True) -> str:
        shapes = []
        width = max((x for x, _ in pos.values()), default=300) + 200
        tops = getattr(self, "_lane_tops", None)
        if self.lanes and pool:
            shapes.append(f'<bpmndi:BPMNShape id="Participant_{self.process_id}_di" '
                          f'bpmnElement="Participant_{self.process_id}" isHorizontal="true">'
                          f'<dc:Bounds x="30" y="{LANE_TOP}" width="{width}" height="{tops[len(self.lanes)] - LANE_TOP}" />'
                          f'</bpmndi:BPMNShape>')
        if self.lanes:
            for i, lid in enumerate(self.lanes):
                shapes.append(f'<bpmndi:BPMNShape id="{lid}_di" bpmnElement="{lid}" isHorizontal="true">'
                              f'<dc:Bounds x="60" y="{tops[i]}" width="{width - 30}" height="{tops[i + 1] - tops[i]}" />'
                              f'</bpmndi:BPMNShape>')
        centers = {}
        for nid, (x, y) in pos.items():
            w, h = SIZES[self.nodes[nid].shape]
            extra = ' isMarkerVisible="true"' if self.nodes[nid].tag == "exclusiveGateway" else \
                ' isExpanded="false"' if self.nodes[nid].tag == "subProcess" else ""
            shapes.append(f'<bpmndi:BPMNShape id="{nid}_di" bpmnElement="{nid}"{extra}>'
                          f'<dc:Bounds x="{x}" y="{y}" width="{w}" height="{h}" /></bpmndi:BPMNShape>')
            centers[nid] = (x + w // 2, y + h // 2)
        for f in self.flows:
            (x1, y1), (x2, y2) = centers[f.source], centers[f.target]
            shapes.append(f'<bpmndi:BPMNEdge id="{f.id}_di" bpmnElement="{f.id}">'
                          f'<di:waypoint x="{x1}" y="{y1}" /><di:waypoint x="{x2}" y="{y2}" /></bpmndi:BPMNEdge>')
        return (f'<bpmndi:BPMNDiagram id="BPMNDiagram_{self.process_id}"><bpmndi:BPMNPlane '
                f'id="BPMNPlane_{self.process_id}" bpmnElement="{plane_el}">' + "".join(shapes)
                + "</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>")


def _timer(kind: str, expression: str) -> str:
    tag = {"duration": "timeDuration", "date": "timeDate", "cycle": "timeCycle"}.get(kind, kind)
    return (f'<bpmn:timerEventDefinition><bpmn:{tag} xsi:type="bpmn:tFormalExpression" '
            f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">{escape(expression)}</bpmn:{tag}>'
            f'</bpmn:timerEventDefinition>')


def _props_ext(props: dict | None) -> str:
    if not props:
        return ""
    items = "".join(f'<spiffworkflow:property name={quoteattr(k)} value={quoteattr(str(v))} />'
                    for k, v in props.items())
    return f"<bpmn:extensionElements><spiffworkflow:properties>{items}</spiffworkflow:properties></bpmn:extensionElements>"


def _escalation_ref(builder: ProcessBuilder, code: str) -> str:
    eid = builder.escalations.setdefault(code, f"Escalation_{code}")
    return f'<bpmn:escalationEventDefinition escalationRef="{eid}" />'


def _message_ref(builder: ProcessBuilder, message: str, payload: str | None = None, *,
                 variable: str | None = None) -> str:
    mid = builder.messages.setdefault(message, f"Message_{message}")
    ext = ""
    if payload:
        ext += f"<spiffworkflow:messagePayload>{escape(payload)}</spiffworkflow:messagePayload>"
    if variable:
        ext += f"<spiffworkflow:messageVariable>{escape(variable)}</spiffworkflow:messageVariable>"
    if ext:
        return (f'<bpmn:messageEventDefinition messageRef="{mid}"><bpmn:extensionElements>{ext}'
                f'</bpmn:extensionElements></bpmn:messageEventDefinition>')
    return f'<bpmn:messageEventDefinition messageRef="{mid}" />'
