"""Shared helpers of the library generator: DMN tables and JSON Schema forms.

The generator (``build_library.py``) writes standard files; this module only
knows how to spell them. DMN is written as DMN 1.3 with one decision per file
(SpiffWorkflow reads one decision table per file); every input that takes a
closed set of values declares it in ``inputValues`` so tests (and dmn-js) know
the domain, and the completeness test can enumerate every combination.
"""
from __future__ import annotations

import json
from xml.sax.saxutils import escape, quoteattr

DMN_NS = "https://www.omg.org/spec/DMN/20191111/MODEL/"


def dmn(decision_id: str, name: str, inputs: list[dict], outputs: list[tuple[str, str, str]],
        rules: list[tuple[list[str], list[str], str]], *, hit_policy: str = "UNIQUE") -> str:
    """A DMN 1.3 decision table.

    ``inputs``: dicts with ``label``, ``expr`` (Python expression over the task data),
    ``type`` (string/number/boolean) and optional ``values`` (the closed domain, as Python literals).
    ``outputs``: (label, variable name, type). ``rules``: (input entries, output entries, note);
    an input entry is a Python literal (equality), ``?``-expression (``? < 4``) or ``-`` (any).
    """
    parts = []
    for i, inp in enumerate(inputs, 1):
        values = ""
        if inp.get("values"):
            values = f"<inputValues><text>{escape(', '.join(inp['values']))}</text></inputValues>"
        parts.append(f'<input id="{decision_id}_in{i}" label={quoteattr(inp["label"])}>'
                     f'<inputExpression id="{decision_id}_in{i}_expr" typeRef="{inp["type"]}">'
                     f'<text>{escape(inp["expr"])}</text></inputExpression>{values}</input>')
    for i, (label, var, typ) in enumerate(outputs, 1):
        parts.append(f'<output id="{decision_id}_out{i}" label={quoteattr(label)} name="{var}" typeRef="{typ}" />')
    for r, (ins, outs, note) in enumerate(rules, 1):
        if len(ins) != len(inputs) or len(outs) != len(outputs):
            raise ValueError(f"{decision_id} rule {r}: wrong number of entries")
        cells = [f"<description>{escape(note)}</description>"] if note else []
        cells += [f'<inputEntry id="{decision_id}_r{r}_i{i}"><text>{escape(t)}</text></inputEntry>'
                  for i, t in enumerate(ins, 1)]
        cells += [f'<outputEntry id="{decision_id}_r{r}_o{i}"><text>{escape(t)}</text></outputEntry>'
                  for i, t in enumerate(outs, 1)]
        parts.append(f'<rule id="{decision_id}_r{r}">{"".join(cells)}</rule>')
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<definitions xmlns="{DMN_NS}" xmlns:dmndi="https://www.omg.org/spec/DMN/20191111/DMNDI/" '
        'xmlns:dc="http://www.omg.org/spec/DMN/20180521/DC/" '
        f'id="Definitions_{decision_id}" name={quoteattr(name)} namespace="http://anjian.org/dmn" '
        'expressionLanguage="python" typeLanguage="python">\n'
        f'<decision id="{decision_id}" name={quoteattr(name)}>\n'
        f'<decisionTable id="{decision_id}_table" hitPolicy="{hit_policy}">\n'
        + "\n".join(parts)
        + "\n</decisionTable>\n</decision>\n"
        f'<dmndi:DMNDI><dmndi:DMNDiagram id="DMNDiagram_{decision_id}">'
        f'<dmndi:DMNShape id="DMNShape_{decision_id}" dmnElementRef="{decision_id}">'
        '<dc:Bounds height="80" width="180" x="160" y="100" /></dmndi:DMNShape>'
        '</dmndi:DMNDiagram></dmndi:DMNDI>\n</definitions>\n'
    )


# --------------------------------------------------------------------------- forms

SCHEMA = "https://json-schema.org/draft/2020-12/schema"


def text(title, *, min_length=1, max_length=2000, **kw) -> dict:
    return {"type": "string", "title": title, "minLength": min_length, "maxLength": max_length, **kw}


def when(title, **kw) -> dict:
    return {"type": "string", "format": "date-time", "title": title, **kw}


def number(title, unit, *, minimum=None, maximum=None, integer=False, **kw) -> dict:
    out = {"type": "integer" if integer else "number", "title": title, "description": f"单位：{unit}", **kw}
    if minimum is not None:
        out["minimum"] = minimum
    if maximum is not None:
        out["maximum"] = maximum
    return out


def flag(title, **kw) -> dict:
    return {"type": "boolean", "title": title, **kw}


def choice(title, options: list[tuple[str, str]], **kw) -> dict:
    """An enum with Chinese labels (``oneOf`` of ``const`` + ``title``, as rjsf renders it)."""
    return {"type": "string", "title": title, "oneOf": [{"const": v, "title": t} for v, t in options], **kw}


def people(title, *, min_items=1) -> dict:
    return {"type": "array", "title": title, "minItems": min_items,
            "items": {"type": "string", "minLength": 1, "title": "姓名或工号"}}


def form(title: str, properties: dict, required: list[str], description: str = "") -> str:
    missing = [r for r in required if r not in properties]
    if missing:
        raise ValueError(f"form {title}: required fields without a property: {missing}")
    # additionalProperties: false states in the schema what the engine enforces anyway: a completion
    # writes only the fields its form declares (engine/form_keys.py).
    schema = {"$schema": SCHEMA, "title": title, "type": "object", "properties": properties, "required": required,
              "additionalProperties": False}
    if description:
        schema["description"] = description
    return json.dumps(schema, ensure_ascii=False, indent=2) + "\n"
