"""Cross-work (SIMOPS) between live permits of one area: the one rule both sides apply (issue 14 §2).

Which pairs of permit types are cross-work, and which of them the standard forbids outright, is a
decision table of the library (``simops_matrix.dmn``; the hot-work and confined-space diagrams
evaluate their own rows of it, ``simops_permits.dmn`` and ``simops_confined_space.dmn``). A rule is a
dict with the other permit's process key, a ``forbidden_when`` code and the reason and clause:

- ``""`` — cross-work: allowed with a named coordinator (GB 30871-2022 4.7);
- ``"distance"`` — forbidden within ``min_m`` metres when the area is of one of ``area_classes``
  (7.6: no hot work within 30 m of blinding in a fire/explosion area). The same area counts as
  within the distance until a review records a larger one (a nearby operation naming the other
  permit's number with its distance);
- ``"same_pipeline"`` — forbidden when both name the same pipeline (7.10: two blindings);
- ``"same_equipment_painting"`` — forbidden when both name the same equipment and either plans
  painting inside it (6.7: painting in a confined space with hot work).

:func:`conflicts` applies the rules of one permit against the live permits of its area; it is run
from whichever permit comes second (its review, through the script helper ``permit_conflicts``) and
by the register for every open permit (engine/permits.py), so the answer does not depend on the order.
"""
from __future__ import annotations

import ast
import xml.etree.ElementTree as ET

FORBIDDEN_WHEN = ("", "distance", "same_pipeline", "same_equipment_painting")
COORDINATION_CLAUSE = "GB 30871-2022 4.7"
# Output columns of the SIMOPS tables, by variable name (the order in the file does not matter).
COLUMNS = {"simops_permit_processes": "other", "simops_permit_reasons": "reason",
           "simops_permit_forbidden_when": "forbidden_when", "simops_permit_min_m": "min_m",
           "simops_permit_area_classes": "area_classes", "simops_permit_clauses": "clause"}


def _literal(text: str):
    text = (text or "").strip()
    if not text or text == "-":
        return None
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def rules_from_dmn(xml: str | bytes, permit_type: str | None = None) -> list[dict]:
    """The rules of a SIMOPS table, one dict per row (keys of :data:`COLUMNS` values plus ``types``:
    the permit types a row applies to, None for every type). With ``permit_type``, only the rows of
    that type (the input column ``permit_type``, where the table has one; ``-`` matches every type)."""
    try:
        root = ET.fromstring(xml.encode() if isinstance(xml, str) else xml)
    except ET.ParseError:
        return []
    table = next((e for e in root.iter() if e.tag.endswith("}decisionTable")), None)
    if table is None:
        return []
    inputs = [e for e in table if e.tag.endswith("}input")]
    type_col = next((i for i, e in enumerate(inputs)
                     if (e.findtext("{*}inputExpression/{*}text") or "").strip() == "permit_type"), None)
    names = [COLUMNS.get(e.get("name") or "") for e in table if e.tag.endswith("}output")]
    out = []
    for rule in (e for e in table if e.tag.endswith("}rule")):
        ins = [e.findtext("{*}text") or "" for e in rule if e.tag.endswith("}inputEntry")]
        outs = [e.findtext("{*}text") or "" for e in rule if e.tag.endswith("}outputEntry")]
        row = {"types": None, "forbidden_when": "", "min_m": None, "area_classes": "", "clause": "", "reason": ""}
        if type_col is not None and type_col < len(ins):
            entry = ins[type_col].strip()
            if entry.startswith("?"):
                entry = entry.split(" in ", 1)[-1] if " in " in entry else ""
            value = _literal(entry)
            row["types"] = None if value is None else (list(value) if isinstance(value, (tuple, list)) else [value])
        for name, text in zip(names, outs):
            if name:
                value = _literal(text)
                row[name] = "" if value is None and name not in ("min_m",) else value
        if not row.get("other"):
            continue
        if permit_type is not None and row["types"] is not None and permit_type not in row["types"]:
            continue
        out.append(row)
    return out


def _same(a, b) -> bool:
    a = str(a or "").strip().upper()
    return bool(a) and a == str(b or "").strip().upper()


def _recorded_distance(own: dict, other: dict) -> float | None:
    """The distance a review recorded between the two permits (either side's nearby operations
    naming the other's business key or id), or None."""
    found = []
    for a, b in ((own, other), (other, own)):
        names = {str(x) for x in (b.get("business_key"), b.get("instance_id")) if x not in (None, "")}
        for n in a.get("nearby") or ():
            if isinstance(n, dict) and str(n.get("permit_ref") or "").strip() in names and \
                    isinstance(n.get("distance_m"), (int, float)):
                found.append(float(n["distance_m"]))
    return min(found) if found else None


def forbidden(rule: dict, own: dict, other: dict, area_class: str | None) -> str:
    """Why the standard forbids this pair outright under ``rule`` ("" when only coordination is needed)."""
    when = rule.get("forbidden_when") or ""
    if when == "same_equipment_painting":
        if _same(own.get("equipment_id"), other.get("equipment_id")) and \
                (own.get("painting_planned") or other.get("painting_planned")):
            return f"同一设备 {own.get('equipment_id')}"
    elif when == "same_pipeline":
        if _same(own.get("pipeline"), other.get("pipeline")):
            return f"同一管道 {own.get('pipeline')}"
    elif when == "distance":
        classes = [c.strip() for c in str(rule.get("area_classes") or "").split(",") if c.strip()]
        if not classes or (area_class or "") in classes:
            distance = _recorded_distance(own, other)
            limit = rule.get("min_m") or 0
            if distance is None:
                return f"同一区域（{area_class}），未记录距离按 {limit:g} m 内"
            if distance < limit:
                return f"相距 {distance:g} m < {limit:g} m"
    return ""


def conflicts(own: dict, others: list[dict], rules: list[dict], area_class: str | None = None) -> list[dict]:
    """The cross-work of ``own`` (a permit's facts: ``equipment_id``, ``painting_planned``,
    ``pipeline``, ``nearby``, ``business_key``, ``instance_id``) with each of ``others`` (live permits
    of the same area: the same facts plus ``process_key``) under ``rules`` (:func:`rules_from_dmn`).

    Each conflict: ``kind`` ``active_permit``, the other's ``process_key``, ``instance_id``,
    ``business_key``, ``permit_status`` (its variable), ``status`` (its register status), ``equipment_id``; ``forbidden`` (True: the standard forbids
    it, a coordinator cannot clear it), ``refusal`` (why, when forbidden), ``reason`` and ``clause``.
    A pair several rules name is reported once, forbidden when any rule forbids it.
    """
    by_other: dict[str, list[dict]] = {}
    for rule in rules:
        by_other.setdefault(rule["other"], []).append(rule)
    out = []
    for other in others:
        if own.get("instance_id") is not None and other.get("instance_id") == own.get("instance_id"):
            continue
        found = by_other.get(other.get("process_key")) or []
        if not found:
            continue
        refusals = [(r, why) for r in found if (why := forbidden(r, own, other, area_class))]
        rule = refusals[0][0] if refusals else found[0]
        reason, clause = rule.get("reason") or "", rule.get("clause") or ""
        if not refusals and rule.get("forbidden_when"):
            # A forbidding rule whose condition does not hold here: cross-work, cleared by a coordinator.
            clause = COORDINATION_CLAUSE
            if "4.7" not in reason:
                reason += "；本次未触及禁止条件：交叉作业须指定协调人（4.7）"
        out.append({"kind": "active_permit", "process_key": other.get("process_key"),
                    "instance_id": other.get("instance_id"), "business_key": other.get("business_key"),
                    "permit_status": other.get("permit_status"), "status": other.get("status"),
                    "equipment_id": other.get("equipment_id"),
                    "forbidden": bool(refusals), "refusal": refusals[0][1] if refusals else "",
                    "reason": reason, "clause": clause})
    return out


def facts_of(variables: dict) -> dict:
    """The facts the rules read, from a permit's variables."""
    nearby = []
    for n in variables.get("nearby_operations") or []:
        if isinstance(n, dict) and n.get("permit_ref"):
            nearby.append({"permit_ref": str(n["permit_ref"]), "distance_m": n.get("distance_m")})
    painting = variables.get("painting_planned")
    if painting is None:
        painting = variables.get("painting_inside")
    return {"equipment_id": str(variables.get("equipment_id") or "") or None,
            "painting_planned": bool(painting), "pipeline": str(variables.get("pipeline") or "") or None,
            "nearby": nearby}
