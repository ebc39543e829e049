"""What a user may start from the workspace (发起申请), with the form to start it.

A process is offered to a user when the latest version's start event is a plain (none) start event
(message and timer starts are the engine's: an alert, a schedule) and the user holds the role of the
start event's lane, or the start event lies in no lane. This is what the workspace offers, read from
the diagram the designer drew; starting over the API is checked by engine/start_contract.py as before.

The start form is a JSON Schema built from the process's start contract: the start form's fields
(``formJsonSchemaFilename`` on the start event) as they are, and each further ``start_variables`` name
as a field: ``area`` and ``department`` as a choice among the plant's areas / departments, anything
else as text.
"""
from __future__ import annotations

from sqlalchemy import func, select

from engine import start_contract
from engine.models import Area, Department, ProcessDefinition
from engine.principal import Principal
from engine.roles import role_for_lane

_SCOPE_TITLES = {"area": "作业区域", "department": "所属部门"}


def startable_processes(db, runner, principal: Principal) -> list[dict]:
    """The processes ``principal`` may start, by name: ``{key, version, name, start_event, role, form}``."""
    with db.session(write=False) as s:
        latest = (select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("v"))
                  .group_by(ProcessDefinition.key).subquery())
        rows = s.execute(select(ProcessDefinition.id, ProcessDefinition.key, ProcessDefinition.version,
                                ProcessDefinition.name).join(
            latest, (ProcessDefinition.key == latest.c.key) & (ProcessDefinition.version == latest.c.v))
            .order_by(ProcessDefinition.key)).all()
        areas = s.execute(select(Area.code, Area.name, Area.department).order_by(Area.code)).all()
        departments = s.execute(select(Department.code, Department.name).order_by(Department.code)).all()
        out = []
        for d in rows:
            model = runner.model_for(s, d.id)
            start = _plain_start(model)
            if start is None:
                continue
            role = role_for_lane(getattr(start, "lane", None))
            if role is not None and not principal.has_any({role}):
                continue
            out.append({"key": d.key, "version": d.version, "name": d.name or d.key,
                        "start_event": getattr(start, "bpmn_name", None) or start.bpmn_id, "role": role,
                        "form": _start_form(model, principal, areas, departments)})
    return sorted(out, key=lambda p: (p["name"], p["key"]))


def _plain_start(model):
    for spec in model.spec.start.outputs:
        if type(getattr(spec, "event_definition", None)).__name__ == "NoneEventDefinition":
            return spec
    return None


def _start_form(model, principal: Principal, areas, departments) -> dict:
    contract = start_contract.contract_for(model)
    form = model.forms.get(contract.form_name) if contract.form_name else None
    properties: dict = {}
    required: list[str] = []
    for name in sorted(contract.names - contract.form_fields, key=lambda n: (n not in _SCOPE_TITLES, n)):
        if name == "area" and areas:
            properties[name] = {"type": "string", "title": _SCOPE_TITLES[name],
                                "oneOf": [{"const": a.code, "title": f"{a.name} ({a.code})"} for a in areas]}
            required.append(name)  # every permit and report is of an area
        elif name == "department" and departments:
            properties[name] = {"type": "string", "title": _SCOPE_TITLES[name],
                                "oneOf": [{"const": c.code, "title": f"{c.name} ({c.code})"} for c in departments]}
            if principal.department:
                properties[name]["default"] = principal.department
        else:
            properties[name] = {"type": "string", "title": name}
    if isinstance(form, dict):
        properties.update(form.get("properties") or {})
        required += [r for r in form.get("required") or [] if r not in required]
    schema = {"type": "object", "properties": properties, "required": required}
    if isinstance(form, dict):
        schema["title"] = form.get("title")
        for key in ("$defs", "definitions", "allOf", "if", "then", "else", "dependentRequired"):
            if key in form:
                schema[key] = form[key]
    return schema
