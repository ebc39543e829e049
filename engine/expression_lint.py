"""Every expression-bearing part of a BPMN document, checked by the restricted compiler at deployment.

engine/definitions.py lints scripts, conditions, timers and task properties per process; this
module covers the rest SpiffWorkflow evaluates (or assigns to) at run time, which used to be
checked only when they ran: message payloads and correlation expressions, conditional events,
and the variable names of messages, service results and multi-instance collections.
"""
from __future__ import annotations

import keyword

from engine.bpmn_xml import BPMN, SPIFF
from engine.scripting import HELPERS, check_expression


# (tag, what it is) of elements whose text is an expression
EXPRESSIONS = (
    (f"{SPIFF}messagePayload", "messagePayload"),
    (f"{SPIFF}expression", "correlation expression"),  # spiffworkflow:processVariableCorrelation
    (f"{BPMN}messagePath", "correlation retrieval expression"),
    (f"{BPMN}condition", "conditional event condition"),
)
# (tag, what it is) of elements whose text names a variable
VARIABLE_TEXTS = (
    (f"{SPIFF}messageVariable", "messageVariable"),
    (f"{BPMN}loopDataInputRef", "multi-instance input collection"),
    (f"{BPMN}loopDataOutputRef", "multi-instance output collection"),
)


def problems(root) -> list[tuple[object, str]]:
    """(element, message) for each expression or variable name of the document ``root`` that
    the restricted compiler refuses (the caller turns them into deployment errors)."""
    found = []
    for tag, what in EXPRESSIONS:
        for el in root.iter(tag):
            if el.text and el.text.strip():
                reason = check_expression(el.text)
                if reason:
                    found.append((el, f"{what} rejected: {reason}"))
    for el in root.iter(f"{BPMN}correlationPropertyRetrievalExpression"):
        for expr in el.iter(f"{BPMN}formalExpression"):
            reason = check_expression(expr.text or "") if (expr.text or "").strip() else None
            if reason:
                found.append((expr, f"correlation retrieval expression rejected: {reason}"))
    for tag, what in VARIABLE_TEXTS:
        for el in root.iter(tag):
            # messageVariable's reserved names are engine/start_contract.py's to report (once)
            reason = variable_name_error((el.text or "").strip(), reserved=what != "messageVariable")
            if reason and (el.text or "").strip():
                found.append((el, f"{what}: {reason}"))
    for tag in ("inputDataItem", "outputDataItem"):
        for el in root.iter(f"{BPMN}{tag}"):
            name = (el.get("name") or "").strip()
            reason = variable_name_error(name) if name else None
            if reason:
                found.append((el, f"{tag}: {reason}"))
    for el in root.iter(f"{SPIFF}serviceTaskOperator"):
        name = (el.get("resultVariable") or "").strip()
        reason = variable_name_error(name, reserved=False) if name else None  # reserved: start_contract
        if reason:
            found.append((el, f"resultVariable: {reason}"))
    return found


def variable_name_error(name: str, *, reserved: bool = True) -> str | None:
    """Why ``name`` cannot be a process variable written by the engine; None when it can
    (``reserved=False``: leave the helper names to the caller's own check)."""
    if not name.isidentifier() or keyword.iskeyword(name):
        return f"'{name}' is not a variable name"
    if name.startswith("_"):
        return f"'{name}' starts with '_', which scripts cannot read"
    if reserved and name in HELPERS:
        return f"'{name}' is a script helper's name"
    return None
