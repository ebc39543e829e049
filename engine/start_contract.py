"""Where input from outside a process may land (DESIGN.md, "Trust rules").

Start variables
    A process declares what a starter may pass, on its start event(s), as
    ``spiffworkflow:property`` entries:

    - ``start_variables`` = ``"area, work_order"``: names a starter may pass (any JSON value);
    - ``formJsonSchemaFilename`` = a start form (as spiff-arena has): its top-level
      ``properties`` may be passed, and the passed values are validated against it
      exactly as a task form validates a completion (engine/form_validation.py).

    A process that declares nothing accepts no variables. Every undeclared name is
    a 422 naming it and nothing is stored. The scope variables are checked too:
    ``department`` must be a known department and, for a starter without a
    plant-wide role (engine/principal.py ``sees_all_departments``), their own (403);
    ``area`` must be a known area (422); the engine's own starts (the SYSTEM principal: IoT
    alerts, the data hub's analyses, thrown messages) pass codes read from plant data and are
    checked for declarations only. An area of another department is allowed:
    a work crew applies for work in the area it works in, whoever owns that area
    (GB 30871: the work unit applies, the area's unit approves), and the instance
    stays in the starter's department. The engine's own values (the business key,
    a timer start's ``scheduled_at``) are not starter input and need no declaration.

Message payloads and connector results
    A message payload lands in one variable, the message event's
    ``spiffworkflow:messageVariable`` or, when the diagram names none, the message
    name (engine/spiff.py sets that default at parse time); a connector result in the
    service task's ``resultVariable`` (SpiffWorkflow's default ``spiff__<task id>_result``
    when none is named). Neither is ever merged over other variables.

:func:`lint` refuses at deployment a declared name, message variable or result
variable that is a platform name (``now``, the script helpers, ``business_key``),
and a message variable or result variable that is a scope variable (``department``,
``area``): a diagram that wants a message or connector to set the scope copies the
value in a script, where the diagram says so.
"""
from __future__ import annotations

import keyword
from dataclasses import dataclass, field

from sqlalchemy import bindparam, select

from engine import form_schema, form_validation
from engine.bpmn_xml import BPMN, SPIFF, properties
from engine.computed_fields import reserved_names
from engine.errors import Forbidden, Invalid
from engine.models import Area, Department
from engine.prepared import Prepared
from engine.principal import SYSTEM, Principal

START_VARIABLES = "start_variables"
FORM_PROPERTY = "formJsonSchemaFilename"
SCOPE = ("department", "area")
MAX_NAMED = 100  # undeclared names listed one by one in a 422
# Names the engine provides or computes: a starter, message or connector never writes them.
# The names the script environment owns (engine/computed_fields.py, one list), and the business key.
RESERVED = reserved_names() | {"business_key"}
_CATCHING = ("startEvent", "intermediateCatchEvent", "boundaryEvent")
_KNOWN_DEPARTMENT = Prepared(select(Department.id).where(Department.code == bindparam("p_code")))
_KNOWN_AREA = Prepared(select(Area.id).where(Area.code == bindparam("p_code")))


@dataclass(frozen=True)
class StartContract:
    """The start variables a process version declares."""

    names: frozenset[str]                 # every name a starter may pass
    form_name: str | None = None
    form_fields: frozenset[str] = frozenset()
    validator: object | None = field(default=None, compare=False)


def declared_names(text: str | None) -> list[str]:
    """The names of a ``start_variables`` property (comma or whitespace separated)."""
    return [n for n in (text or "").replace(",", " ").split() if n]


def contract_for(model) -> StartContract:
    """The start contract of a parsed process model (read from its start events, kept on the model)."""
    found = model.__dict__.get("_start_contract")
    if found is not None:
        return found
    names: set[str] = set()
    form_name = None
    for spec in model.spec.start.outputs:
        props = (getattr(spec, "extensions", None) or {}).get("properties", {})
        names.update(declared_names(props.get(START_VARIABLES)))
        form_name = form_name or props.get(FORM_PROPERTY) or None
    form = model.forms.get(form_name) if form_name else None
    fields = frozenset((form or {}).get("properties") or {}) if isinstance(form, dict) else frozenset()
    contract = StartContract(frozenset(names) | fields, form_name, fields,
                             form_schema.validator(form, model.forms) if isinstance(form, dict) else None)
    model.__dict__["_start_contract"] = contract
    return contract


def admit(conn, principal: Principal, model, variables: dict) -> dict:
    """The start variables to write, or Invalid (422: each undeclared name, each form error,
    an unknown department or area) / Forbidden (403: a department other than the starter's,
    for a starter without a plant-wide role). Reads departments and areas on ``conn``."""
    contract = contract_for(model)
    errors = []
    declared = ", ".join(sorted(contract.names)) or "none"
    undeclared = sorted(str(k) for k in variables if k not in contract.names)
    for name in undeclared[:MAX_NAMED]:
        errors.append({"field": f"variables.{name}",
                       "message": f"not a start variable of process '{model.key}' (it declares: {declared})"})
    if len(undeclared) > MAX_NAMED:  # a bounded answer to an unbounded request
        errors.append({"field": "variables", "message": f"and {len(undeclared) - MAX_NAMED} more undeclared names"})
    if contract.validator is not None:
        submitted = {k: v for k, v in variables.items() if k in contract.form_fields}
        errors += form_validation.errors(contract.validator, submitted, prefix="variables.")
    for key, table in (("department", _KNOWN_DEPARTMENT), ("area", _KNOWN_AREA)):
        if key not in variables or key not in contract.names:
            continue
        value = variables[key]
        if not isinstance(value, str) or not value.strip():
            errors.append({"field": f"variables.{key}", "message": f"must be the code of a known {key}"})
        # The engine's own starts carry codes read from the plant's data (IoT devices, the data hub,
        # process data), which may name areas the organisation tables do not list yet.
        elif principal != SYSTEM and table.first(conn, {"p_code": value}) is None:
            errors.append({"field": f"variables.{key}", "message": f"unknown {key} '{value}'"})
    if errors:
        raise Invalid(f"process '{model.key}' does not accept these start variables", errors=errors)
    department = variables.get("department")
    if department is not None and not principal.sees_all_departments and department != principal.department:
        raise Forbidden(f"you may start instances only in your own department ('{principal.department}'), "
                        f"not in '{department}'",
                        errors=[{"field": "variables.department",
                                 "message": "another department needs a plant-wide role"}])
    return dict(variables)


def from_correlation(model, correlation: dict) -> dict:
    """The values of a start message's correlation that its process declares as start variables
    (its scope, typically); the other correlation values only choose the receivers."""
    names = contract_for(model).names
    return {k: v for k, v in (correlation or {}).items() if k in names}


# --------------------------------------------------------------------------- deployment

def _bad_name(name: str, *, scope_too: bool) -> str | None:
    if not name.isidentifier() or keyword.iskeyword(name):
        return "is not a variable name"
    if name.startswith("_"):
        return "starts with '_' (names the sandbox refuses)"
    if name in RESERVED:
        return "is a name the platform provides (now, the script helpers, business_key)"
    if scope_too and name in SCOPE:
        return ("is a scope variable: copy the value in a script, where the diagram says so, "
                "instead of letting outside input set it")
    return None


def _messages(root) -> dict[str, object]:
    return {m.get("id"): m for m in root.iter(f"{BPMN}message")}


def _message_variable(el) -> str:
    found = el.find(f".//{SPIFF}messageVariable") if el is not None else None
    return (found.text or "").strip() if found is not None else ""


def lint(process_el, root, forms: dict) -> list[tuple[object, str]]:
    """Deployment errors of one process element, as (element, message): start declarations,
    message variables and connector result variables (see the module docstring)."""
    out: list[tuple[object, str]] = []
    start_forms = set()
    for start in process_el.findall(f"{BPMN}startEvent"):
        props = properties(start)
        for name in declared_names(props.get(START_VARIABLES)):
            reason = _bad_name(name, scope_too=False)
            if reason:
                out.append((start, f"start variable '{name}' {reason}"))
        form_name = props.get(FORM_PROPERTY)
        if form_name:
            start_forms.add(form_name)
            form = forms.get(form_name)
            if form is None:
                out.append((start, f"start form '{form_name}' is neither in the deployment nor in the library"))
            elif not isinstance(form.get("properties"), dict):
                out.append((start, f"start form '{form_name}' declares no properties: a start form lists "
                                   f"what a starter may pass"))
            else:
                for name in form["properties"]:
                    reason = _bad_name(str(name), scope_too=False)
                    if reason:
                        out.append((start, f"start form '{form_name}' field '{name}' {reason}"))
    if len(start_forms) > 1:
        out.append((process_el, f"start events name different start forms {sorted(start_forms)}: one start "
                                f"form per process"))
    messages = _messages(root)
    catchers = [(el, el.find(f"{BPMN}messageEventDefinition")) for tag in _CATCHING
                for el in process_el.iter(f"{BPMN}{tag}")]
    catchers += [(el, el) for el in process_el.iter(f"{BPMN}receiveTask")]
    for el, definition in catchers:
        if definition is None or not (definition.get("messageRef") or el.tag == f"{BPMN}receiveTask"):
            continue
        message = messages.get(definition.get("messageRef") or "")
        # SpiffWorkflow reads the variable from the message element (its older place) first
        explicit = _message_variable(message) or _message_variable(definition)
        name = explicit or (message.get("name") or message.get("id") if message is not None else "")
        if not name:
            continue  # an unknown message: SpiffWorkflow's parser names it
        reason = _bad_name(name, scope_too=True)
        if reason:
            what = f"message variable '{name}'" if explicit else \
                f"message '{name}' (its payload lands in a variable of that name unless spiffworkflow:messageVariable names one)"
            out.append((el, f"{what} {reason}"))
    for op in process_el.iter(f"{SPIFF}serviceTaskOperator"):
        name = (op.get("resultVariable") or "").strip()
        if name:
            reason = _bad_name(name, scope_too=True)
            if reason:
                out.append((op, f"result variable '{name}' {reason}"))
    return out
