"""Deployment check: no form field may write a variable the process computes itself.

A completion writes the fields its form declares (engine/form_keys.py). If a form
declared ``grade`` while a decision table computes ``grade``, the person completing
the task would decide the grade and the approvals it requires. So deployment refuses
a user task whose form declares a field named like a variable the process computes:

* a business rule task's outputs: SpiffWorkflow 3.2 (``BusinessRuleTaskMixin._run_hook``,
  ``DMNEngine.result``, ``Rule.output_as_dict``) deep-merges one key per output of the
  called decision into the task data, named by the output's ``name`` or, without one, its
  ``label``; a dotted name ``a.b`` writes the key ``a``. Single- and multi-output tables
  and every hit policy write the same keys (COLLECT writes lists under them). There is
  no result variable for decisions in SpiffWorkflow 3.2.
* a script's assignment targets (``scriptTask``, ``spiffworkflow:preScript`` and
  ``postScript``): names bound at the script's own scope by ``=``, ``+=``, annotated
  assignment, ``for``, ``with ... as`` and ``:=``; not names local to a lambda, a
  ``def`` or a comprehension.
* a service task's result variable (``spiffworkflow:serviceTaskOperator
  resultVariable``; without one SpiffWorkflow names it ``spiff__<operator>_result``).
* the scope variables ``department``, ``area`` and ``business_key``, and the platform's
  reserved names: ``now``, every script helper (engine.scripting.HELPERS) and the
  database helpers scripts get (engine.script_queries).

Computed variables are those of the process that holds the task (embedded subprocesses
included) and of every process it calls in the same deployment, transitively: a call
activity copies the called process's data back into the caller.

Two ways through, both explicit in the files:

* a field marked ``"readOnly": true`` in the form is shown, never written (the
  completion refuses a changed value), so it may display a computed variable;
* the task property ``overrides`` (``spiffworkflow:property name="overrides"
  value="grade,other"``) lets the form write those computed fields. Only users holding
  a role of ``override_roles`` (comma list, default ``supervision,plant_leader``) may
  change such a value, and the audit event keeps old and new value (engine/tasks.py).
  Deployment checks that ``overrides`` names fields of the task's form, never a reserved
  name, and that ``override_roles`` names known roles.
"""
from __future__ import annotations

import ast

from engine.bpmn_xml import BPMN, SPIFF, properties
from engine.form_keys import declared_fields, read_only_fields
from engine.roles import ROLES
from engine.scripting import HELPERS

SCOPE_VARIABLES = ("department", "area", "business_key")
OVERRIDES_PROPERTY = "overrides"
OVERRIDE_ROLES_PROPERTY = "override_roles"
DEFAULT_OVERRIDE_ROLES = frozenset({"supervision", "plant_leader"})



def reserved_names() -> frozenset[str]:
    """Names the script environment owns: data under them breaks or shadows a helper."""
    from engine.script_queries import script_helpers  # the helper names only; no database is touched

    return frozenset({"now", *HELPERS, *script_helpers(None)})


def split_list(value: str | None) -> list[str]:
    """``"a, b,,c"`` -> ``["a", "b", "c"]`` (how comma-list task properties are read)."""
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def override_fields(properties: dict | None) -> set[str]:
    """The fields a task lets its form overrule (its ``overrides`` property)."""
    return set(split_list((properties or {}).get(OVERRIDES_PROPERTY)))


def override_roles(properties: dict | None) -> frozenset[str]:
    """Roles entitled to change an overridden value: ``override_roles`` or the default."""
    given = split_list((properties or {}).get(OVERRIDE_ROLES_PROPERTY))
    return frozenset(given) if given else DEFAULT_OVERRIDE_ROLES


def check_process(file: str, process_el, forms: dict[str, dict], dmn_docs: dict, errors: list,
                  bpmn_docs: dict | None = None) -> None:
    """Append a DeployError for every form field of a human task of ``process_el`` that writes a
    computed variable, and for every malformed ``overrides``/``override_roles`` property.

    ``bpmn_docs`` (file -> parsed document) lets a call activity's process count: its data is
    copied back into the caller, so what it computes the caller computes."""
    from engine.definitions import FORM_PROPERTY, HUMAN_TASKS, DeployError  # (a cycle at import)

    computed = computed_variables(process_el, dmn_docs, _process_index(bpmn_docs or {}))
    reserved = reserved_names()
    for kind in HUMAN_TASKS:
        for el in process_el.iter(f"{BPMN}{kind}"):
            def err(message):
                errors.append(DeployError(file, message, el.sourceline, el.get("id")))

            props = properties(el)
            form_name = props.get(FORM_PROPERTY)
            schema = forms.get(form_name) if form_name else None
            overrides = override_fields(props)
            for role in split_list(props.get(OVERRIDE_ROLES_PROPERTY)):
                if role not in ROLES:
                    err(f"override_roles names '{role}', which is not a role (roles: {', '.join(ROLES)})")
            if props.get(OVERRIDE_ROLES_PROPERTY) is not None and not overrides:
                err("override_roles is given but the task overrides nothing (no 'overrides' property)")
            if overrides and not isinstance(schema, dict):
                err(f"overrides names {', '.join(sorted(overrides))} but the task has no form that declares them")
                continue
            if not isinstance(schema, dict):
                continue
            fields = declared_fields(schema)
            for name in sorted(overrides - fields):
                err(f"overrides names '{name}', which form '{form_name}' does not declare")
            for name in sorted(overrides & reserved):
                err(f"overrides names '{name}', a name reserved by the platform's script environment; "
                    f"no form may write it")
            for name in sorted(fields - read_only_fields(schema) - overrides):
                why = _why(name, computed, reserved)
                if why:
                    err(f"form '{form_name}' field '{name}' is {why}, so no completion may write it: rename "
                        f"the field, mark it readOnly, or list it in the task property 'overrides'")


def _why(name: str, computed: dict[str, str], reserved: frozenset[str]) -> str | None:
    if name in SCOPE_VARIABLES:
        return "a scope variable of the instance"
    if name in reserved:
        return "a name reserved by the platform's script environment (now and the script helpers)"
    return computed.get(name)


def computed_variables(process_el, dmn_docs: dict, processes: dict | None = None) -> dict[str, str]:
    """Variable name -> what computes it, for a process element (see the module rules).

    ``processes`` (process id -> element) adds what the processes it calls compute, transitively."""

    out: dict[str, str] = {}
    outputs = decision_outputs(dmn_docs)
    todo, seen = [(process_el, None)], set()
    while todo:
        el, via = todo.pop()
        if id(el) in seen:
            continue
        seen.add(id(el))
        for name, why in _computed_in(el, outputs).items():
            out.setdefault(name, why if via is None else f"{why} in process '{el.get('id')}', called by '{via}'")
        for call in el.iter(f"{BPMN}callActivity"):
            called = (processes or {}).get(call.get("calledElement") or "")
            if called is not None:
                todo.append((called, call.get("id") if via is None else via))
    return out


def _process_index(bpmn_docs: dict) -> dict:

    index = {}
    for doc in bpmn_docs.values():
        root = doc.getroot() if hasattr(doc, "getroot") else doc
        for el in root.iter(f"{BPMN}process"):
            index.setdefault(el.get("id"), el)
    return index


def _computed_in(process_el, outputs: dict[str, list[str]]) -> dict[str, str]:
    from engine.definitions import _element_id  # (a cycle at import)

    out: dict[str, str] = {}
    for el in process_el.iter(f"{BPMN}businessRuleTask"):
        ref = el.find(f"{BPMN}extensionElements/{SPIFF}calledDecisionId")
        decision = (ref.text or "").strip() if ref is not None else ""
        for name in outputs.get(decision, ()):
            out.setdefault(name, f"an output of decision '{decision}' (business rule task '{el.get('id')}')")
    for el in process_el.iter(f"{BPMN}scriptTask"):
        script = el.find(f"{BPMN}script")
        for name in script_targets(script.text if script is not None else None):
            out.setdefault(name, f"assigned by script task '{el.get('id')}'")
    for tag in ("preScript", "postScript"):
        for el in process_el.iter(f"{SPIFF}{tag}"):
            owner = _element_id(el)
            for name in script_targets(el.text):
                out.setdefault(name, f"assigned by the {tag} of '{owner}'")
    for el in process_el.iter(f"{SPIFF}serviceTaskOperator"):
        name = el.get("resultVariable") or f"spiff__{(el.get('id') or '').replace('-', '_')}_result"
        out.setdefault(name, f"the result variable of service task '{_element_id(el)}'")
    return out


def decision_outputs(dmn_docs: dict) -> dict[str, list[str]]:
    """Decision id -> the task-data keys its table writes (output name, else label; ``a.b`` writes ``a``)."""
    out: dict[str, list[str]] = {}
    for doc in dmn_docs.values():
        root = doc.getroot() if hasattr(doc, "getroot") else doc
        for decision in root.iter("{*}decision"):
            names = []
            for output in decision.iter("{*}output"):
                key = output.get("name") or output.get("label") or ""
                if key:
                    names.append(key.split(".")[0])
            out[decision.get("id")] = names
    return out


def script_targets(source: str | None) -> set[str]:
    """Names a script binds at its own scope (unparsable scripts bind nothing; the lint reports them)."""
    if not source or not source.strip():
        return set()
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set()
    names: set[str] = set()
    todo: list[ast.AST] = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue  # their names are their own (a def's name is a callable, which the environment drops)
        if isinstance(node, ast.Assign):
            for target in node.targets:
                names.update(_bound(target))
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            names.update(_bound(node.target))
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            names.update(_bound(node.target))
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    names.update(_bound(item.optional_vars))
        elif isinstance(node, ast.NamedExpr):
            names.update(_bound(node.target))  # binds in the script's scope, even inside a comprehension
        todo.extend(ast.iter_child_nodes(node))
    return names


def _bound(target) -> set[str]:
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, (ast.Tuple, ast.List)):
        return set().union(*(_bound(t) for t in target.elts)) if target.elts else set()
    if isinstance(target, ast.Starred):
        return _bound(target.value)
    if isinstance(target, (ast.Subscript, ast.Attribute)):
        return _bound(target.value)  # x[0] = ... changes the variable x
    return set()
