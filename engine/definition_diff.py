"""What changed between two versions of a process definition.

A designer deploying version 3 of the hot-work permit, and a supervisor asking why
permits behave differently since Monday, both need the answer in BPMN terms, not as a
text diff of XML: which tasks, gateways and flows were added or removed, and for each
element that stayed, which of its attributes, extension properties, scripts,
conditions, event definitions, lane (so: role) or documentation changed. Forms and
decision tables travel with a version (the stored bundle, engine/definitions.py), so
their changes are reported too: form files by JSON pointer, DMN decisions by input,
output and rule.

Elements are matched by id (the modeler keeps ids stable); an element whose type
changed under the same id is reported as changed with a ``type`` change. Moving shapes
on the canvas is not a change of behaviour: such elements are listed apart in
``layout_changed``.

Pure functions over the stored bundles (``{"bpmn": {file: xml}, "dmn": {file: xml},
"forms": {file: schema}}``): no database, no Flask.
"""
from __future__ import annotations

import json

from lxml import etree

from engine.bpmn_xml import BPMN, SPIFF

BPMNDI = "{http://www.omg.org/spec/BPMN/20100524/DI}"
DC = "{http://www.omg.org/spec/DD/20100524/DC}"
DI = "{http://www.omg.org/spec/DD/20100524/DI}"

# Definitions-level elements a process refers to by id.
ROOT_ELEMENTS = ("message", "error", "signal", "escalation", "dataStore")
# Children of a process or subprocess that are not elements of their own here.
_NOT_ELEMENTS = ("laneSet", "extensionElements", "documentation", "ioSpecification", "property",
                 "incoming", "outgoing")
MAX_VALUE = 4000  # characters of one old/new text value
MAX_FORM_CHANGES = 200  # per form file


def _parser() -> etree.XMLParser:
    # Stored bundles were validated at deployment, but they are still uploaded XML.
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)


def _local(el) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _short(qname: str) -> str:
    """An attribute name without its namespace URI (``{...spiffworkflow}x`` → ``x``)."""
    return etree.QName(qname).localname if qname.startswith("{") else qname


def _text(el) -> str:
    return (el.text or "").strip()


def _clip(value: str | None) -> str | None:
    if value is None or len(value) <= MAX_VALUE:
        return value
    return value[:MAX_VALUE] + f"… ({len(value)} characters)"


def _canon(el) -> str:
    """A short, stable, readable rendering of an XML fragment (ids and namespaces left out)."""
    attrs = ", ".join(f"{_short(k)}={v}" for k, v in sorted(el.attrib.items()) if k != "id")
    kids = [_canon(c) for c in el if isinstance(c.tag, str)]
    out = _local(el)
    if attrs:
        out += f"({attrs})"
    if _text(el):
        out += f": {_text(el)}"
    if kids:
        out += " [" + "; ".join(kids) + "]"
    return out


# --------------------------------------------------------------------------- BPMN elements

def _lanes(process_el) -> dict[str, str]:
    """flow node id → innermost lane name."""
    out: dict[str, str] = {}
    for lane in process_el.iter(f"{BPMN}lane"):  # document order: inner lanes come later and win
        for ref in lane.findall(f"{BPMN}flowNodeRef"):
            if ref.text:
                out[ref.text.strip()] = lane.get("name") or lane.get("id")
    return out


def _aspects(el, lane: str | None) -> dict[tuple[str, str], str]:
    """(kind, name) → value of everything about one element that affects how it behaves."""
    a: dict[tuple[str, str], str] = {}
    for k, v in el.attrib.items():
        if k != "id":
            a[("attribute", _short(k))] = v
    if lane is not None:
        a[("lane", "lane")] = lane
    seen: dict[str, int] = {}

    def put(kind, name, value):
        n = seen.get((kind, name), 0)
        seen[(kind, name)] = n + 1
        a[(kind, name if n == 0 else f"{name}#{n + 1}")] = value

    for child in el:
        if not isinstance(child.tag, str):
            continue
        ln = _local(child)
        if child.tag.startswith(BPMN) and _is_element(child) or ln in ("incoming", "outgoing", "laneSet",
                                                                       "flowNodeRef", "childLaneSet"):
            continue  # an element of its own, or derived from the flows and lanes
        if ln == "documentation":
            put("documentation", "documentation", _text(child))
        elif ln == "script":
            put("script", "script", _text(child))
        elif ln == "conditionExpression":
            put("condition", "condition", _text(child))
        elif ln.endswith("EventDefinition"):
            put("event", ln, _canon(child))
        elif ln == "extensionElements":
            for ext in child:
                if not isinstance(ext.tag, str):
                    continue
                eln = _local(ext)
                if ext.tag == f"{SPIFF}properties":
                    for prop in ext.iter(f"{SPIFF}property"):
                        put("property", prop.get("name") or "", prop.get("value") or _text(prop))
                elif eln in ("preScript", "postScript"):
                    put("script", eln, _text(ext))
                else:
                    put("extension", eln, _canon(ext) if len(ext) or ext.attrib else _text(ext))
        else:
            put("other", ln, _canon(child))
    return a


def _is_element(el) -> bool:
    """True for what is diffed as an element: flow elements (tasks, events, gateways, flows,
    subprocesses, data objects, text annotations, associations) and lanes."""
    return bool(el.get("id")) and _local(el) not in _NOT_ELEMENTS and not _local(el).endswith("EventDefinition") \
        and _local(el) not in ("conditionExpression", "script", "multiInstanceLoopCharacteristics",
                               "standardLoopCharacteristics", "dataInputAssociation", "dataOutputAssociation",
                               "inputSet", "outputSet", "dataInput", "dataOutput")


def _elements(bundle: dict) -> tuple[dict, dict]:
    """({(process id, element id): info}, {element id: DI geometry}) of every BPMN file of a bundle."""
    found: dict[tuple[str | None, str], dict] = {}
    layout: dict[str, str] = {}
    for text in (bundle.get("bpmn") or {}).values():
        root = etree.fromstring(text.encode("utf-8"), _parser())
        for el in root:
            if isinstance(el.tag, str) and el.tag.startswith(BPMN) and _local(el) in ROOT_ELEMENTS and el.get("id"):
                found[(None, el.get("id"))] = _info(el, None, None)
        for proc in root.iter(f"{BPMN}process"):
            pid = proc.get("id")
            lanes = _lanes(proc)
            found[(pid, pid)] = _info(proc, pid, None)
            for lane in proc.iter(f"{BPMN}lane"):
                found[(pid, lane.get("id"))] = _info(lane, pid, None)
            pending = [proc]
            while pending:  # the process and its (nested) subprocesses
                container = pending.pop()
                for el in container:
                    if not isinstance(el.tag, str) or not el.tag.startswith(BPMN) or not _is_element(el):
                        continue
                    found[(pid, el.get("id"))] = _info(el, pid, lanes.get(el.get("id")))
                    if _local(el) in ("subProcess", "transaction", "adHocSubProcess"):
                        pending.append(el)
        for shape in root.iter(f"{BPMNDI}BPMNShape", f"{BPMNDI}BPMNEdge"):
            ref = shape.get("bpmnElement")
            if ref:
                layout[ref] = "; ".join(
                    ",".join(g.get(k, "") for k in ("x", "y", "width", "height"))
                    for g in shape.iter(f"{DC}Bounds", f"{DI}waypoint"))
    return found, layout


def _info(el, process: str | None, lane: str | None) -> dict:
    return {"id": el.get("id"), "type": _local(el), "name": el.get("name"), "process": process,
            "aspects": _aspects(el, lane)}


def _changes(old: dict, new: dict) -> list[dict]:
    out = []
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            out.append({"kind": key[0], "name": key[1], "old": _clip(old.get(key)), "new": _clip(new.get(key))})
    return out


def _brief(info: dict) -> dict:
    return {"id": info["id"], "type": info["type"], "name": info["name"], "process": info["process"]}


def diff_elements(old_bundle: dict, new_bundle: dict) -> tuple[dict, list[str]]:
    """``({added, removed, changed}, layout_changed)`` of the BPMN elements of two bundles."""
    old, old_layout = _elements(old_bundle)
    new, new_layout = _elements(new_bundle)
    out = {"added": [], "removed": [], "changed": []}
    for key in sorted(set(new) - set(old), key=_order):
        out["added"].append(_brief(new[key]))
    for key in sorted(set(old) - set(new), key=_order):
        out["removed"].append(_brief(old[key]))
    for key in sorted(set(old) & set(new), key=_order):
        a, b = old[key], new[key]
        changes = _changes(a["aspects"], b["aspects"])
        if a["type"] != b["type"]:
            changes.insert(0, {"kind": "type", "name": "type", "old": a["type"], "new": b["type"]})
        if changes:
            out["changed"].append({**_brief(b), "changes": changes})
    # only moved: its shape or edge changed place, nothing else about it did
    kept = {k[1] for k in set(old) & set(new)} - {e["id"] for e in out["changed"]}
    moved = sorted(i for i in kept & set(old_layout) & set(new_layout) if old_layout[i] != new_layout[i])
    return out, moved


def _order(key):
    return (key[0] or "", key[1])


# --------------------------------------------------------------------------- forms

def _as_json(value):
    if isinstance(value, (str, bytes)):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _json_changes(old, new, path: str, out: list) -> None:
    if len(out) >= MAX_FORM_CHANGES or old == new:
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for k in sorted(set(old) | set(new), key=str):
            sub = f"{path}/{str(k).replace('~', '~0').replace('/', '~1')}"
            if k not in old:
                out.append({"path": sub, "old": None, "new": new[k]})
            elif k not in new:
                out.append({"path": sub, "old": old[k], "new": None})
            else:
                _json_changes(old[k], new[k], sub, out)
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new) \
            and any(isinstance(x, (dict, list)) for x in old + new):
        for i, (x, y) in enumerate(zip(old, new)):
            _json_changes(x, y, f"{path}/{i}", out)
    else:  # scalars and flat lists (required, enum) read best whole
        out.append({"path": path or "/", "old": old, "new": new})


def diff_forms(old_bundle: dict, new_bundle: dict) -> dict:
    """``{added, removed, changed: [{file, changes: [{path, old, new}]}]}`` of the bundles' form files."""
    old, new = old_bundle.get("forms") or {}, new_bundle.get("forms") or {}
    changed = []
    for name in sorted(set(old) & set(new)):
        changes: list = []
        _json_changes(_as_json(old[name]), _as_json(new[name]), "", changes)
        if changes:
            changed.append({"file": name, "changes": changes})
    return {"added": sorted(set(new) - set(old)), "removed": sorted(set(old) - set(new)), "changed": changed}


# --------------------------------------------------------------------------- decisions

def _dmn_child(el, name):
    return [c for c in el if isinstance(c.tag, str) and _local(c) == name]


def _dmn_text(el, *path) -> str:
    for name in path:
        found = _dmn_child(el, name)
        if not found:
            return ""
        el = found[0]
    return _text(el)


def _decisions(bundle: dict) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for file, text in sorted((bundle.get("dmn") or {}).items()):
        root = etree.fromstring(text.encode("utf-8"), _parser())
        for dec in (c for c in root.iter() if isinstance(c.tag, str) and _local(c) == "decision"):
            a: dict[tuple[str, str], str] = {("name", "name"): dec.get("name") or ""}
            for table in _dmn_child(dec, "decisionTable"):
                a[("hit_policy", "hitPolicy")] = table.get("hitPolicy") or "UNIQUE"
                for i, inp in enumerate(_dmn_child(table, "input"), start=1):
                    value = f"{inp.get('label') or ''}: {_dmn_text(inp, 'inputExpression', 'text')}"
                    allowed = _dmn_text(inp, "inputValues", "text")
                    a[("input", inp.get("id") or f"input {i}")] = value + (f" ∈ {allowed}" if allowed else "")
                for i, outp in enumerate(_dmn_child(table, "output"), start=1):
                    a[("output", outp.get("id") or f"output {i}")] = \
                        f"{outp.get('label') or ''} → {outp.get('name') or ''} ({outp.get('typeRef') or ''})"
                for i, rule in enumerate(_dmn_child(table, "rule"), start=1):
                    ins = " | ".join(_dmn_text(e, "text") for e in _dmn_child(rule, "inputEntry"))
                    outs = " | ".join(_dmn_text(e, "text") for e in _dmn_child(rule, "outputEntry"))
                    note = _dmn_text(rule, "description")
                    a[("rule", rule.get("id") or f"rule {i}")] = f"{ins} ⇒ {outs}" + (f"  # {note}" if note else "")
            for lit in _dmn_child(dec, "literalExpression"):
                a[("literal", "literalExpression")] = _dmn_text(lit, "text")
            out[dec.get("id")] = {"id": dec.get("id"), "name": dec.get("name"), "file": file, "aspects": a}
    return out


def diff_decisions(old_bundle: dict, new_bundle: dict) -> dict:
    """``{added, removed, changed}`` of the DMN decisions (by id) of two bundles."""
    old, new = _decisions(old_bundle), _decisions(new_bundle)

    def brief(d):
        return {"id": d["id"], "name": d["name"], "file": d["file"]}

    changed = []
    for did in sorted(set(old) & set(new)):
        changes = _changes(old[did]["aspects"], new[did]["aspects"])
        if changes:
            changed.append({**brief(new[did]), "changes": changes})
    return {"added": [brief(new[d]) for d in sorted(set(new) - set(old))],
            "removed": [brief(old[d]) for d in sorted(set(old) - set(new))], "changed": changed}


# --------------------------------------------------------------------------- whole bundles

def diff_files(old_bundle: dict, new_bundle: dict) -> dict:
    """``{added, removed, changed}`` file names (``bpmn/…``, ``dmn/…``, ``forms/…``) of two bundles."""
    def flat(bundle):
        return {f"{kind}/{name}": _as_json(body) if kind == "forms" else body
                for kind in ("bpmn", "dmn", "forms") for name, body in (bundle.get(kind) or {}).items()}

    old, new = flat(old_bundle), flat(new_bundle)
    return {"added": sorted(set(new) - set(old)), "removed": sorted(set(old) - set(new)),
            "changed": sorted(n for n in set(old) & set(new) if old[n] != new[n])}


def diff_bundles(old_bundle: dict, new_bundle: dict) -> dict:
    """Everything that differs between two stored bundles of one process.

    ``{identical, elements: {added, removed, changed}, layout_changed, forms, decisions, files}``;
    an element change is ``{kind, name, old, new}`` with kind one of ``type``, ``attribute``,
    ``property``, ``script``, ``condition``, ``event``, ``lane``, ``documentation``,
    ``extension``, ``other``.
    """
    elements, moved = diff_elements(old_bundle, new_bundle)
    files = diff_files(old_bundle, new_bundle)
    return {"identical": not (files["added"] or files["removed"] or files["changed"]),
            "elements": elements, "layout_changed": moved, "forms": diff_forms(old_bundle, new_bundle),
            "decisions": diff_decisions(old_bundle, new_bundle), "files": files}
