"""What a task completion may write into the process data (DESIGN.md, "Trust rules").

Two checks around the form's JSON Schema validation, both before anything is run or
stored:

* :func:`check_declared` — the submitted data holds only keys the form declares
  (engine/form_keys.py has the exact rule); a task without a form accepts no data.
  Otherwise 422 with one ``{field, message}`` per undeclared key.
* :func:`written_data` — against the task's current data: a field the form marks
  ``readOnly`` is shown, never written (the same value is dropped, another one is a
  422); a field the task lists in ``overrides`` (a variable the process computes, see
  engine/computed_fields.py) may be changed only by a user holding one of the task's
  ``override_roles`` (default supervision, plant_leader), else 403 naming the field.
  Each change of an overridden value is returned for the audit event as
  ``{"field", "old", "new"}``; an unchanged value is no overrule and needs no role.
"""
from __future__ import annotations

import json

from engine.computed_fields import override_fields, override_roles
from engine.errors import Forbidden, Invalid
from engine.form_keys import read_only_fields, undeclared_keys
from engine.principal import Principal
from engine.values import json_data

_MISSING = object()


def check_declared(form_name: str | None, schema: dict | None, data: dict) -> None:
    """Raise Invalid (422) naming every key of ``data`` the task's form does not declare."""
    if form_name and schema is None:
        schema = {}  # a form the bundle lacks declares nothing (deployment makes this unreachable)
    errors = undeclared_keys(schema, data, form_name=form_name)
    if errors:
        if form_name:
            detail = f"form '{form_name}' does not declare {_names(errors)}; nothing was stored"
        else:
            detail = f"this task has no form and accepts no data (got {_names(errors)}); nothing was stored"
        raise Invalid(detail, errors=errors)


def written_data(principal: Principal, form_name: str | None, schema: dict | None, properties: dict | None,
                 current: dict, data: dict) -> tuple[dict, list[dict]]:
    """The data a completion writes, and the overrules it makes (``[{field, old, new}]``).

    ``current`` is the task's data before the completion. Raises Invalid for a changed
    read-only field and Forbidden for an overrule by a user who is not entitled to it.
    """
    if not data or schema is None:
        return data, []
    written = dict(data)
    errors = []
    for name in sorted(read_only_fields(schema) & set(data)):
        if _same(current.get(name, _MISSING), data[name]):
            del written[name]
        else:
            errors.append({"field": name, "message": f"read-only in form '{form_name}': the process sets it"})
    if errors:
        raise Invalid(f"form '{form_name}' shows {_names(errors)} read-only; nothing was stored", errors=errors)
    overrides = []
    for name in sorted(override_fields(properties) & set(written)):
        old = current.get(name, _MISSING)
        if not _same(old, written[name]):
            overrides.append({"field": name, "old": None if old is _MISSING else json_data(old),
                              "new": json_data(written[name])})
    if overrides:
        roles = override_roles(properties)
        if not principal.has_any(roles):
            fields = ", ".join(f"'{o['field']}'" for o in overrides)
            raise Forbidden(f"changing {fields} overrules a value the process computed; that needs one of the "
                            f"roles {sorted(roles)}; nothing was stored", reason="override_not_entitled",
                            errors=[{"field": o["field"], "message": f"overruling it needs one of the roles "
                                     f"{sorted(roles)}"} for o in overrides])
    return written, overrides


def _same(old, new) -> bool:
    # As JSON, types included: 1 and 1.0 and True are three different answers on a permit.
    if old is _MISSING:
        return False
    try:
        return json.dumps(json_data(old), sort_keys=True) == json.dumps(json_data(new), sort_keys=True)
    except (TypeError, ValueError):
        return False


def _names(errors: list[dict]) -> str:
    return ", ".join(f"'{e['field']}'" for e in errors)
