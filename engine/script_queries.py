"""Read-only queries that BPMN scripts may call (the SIMOPS check lists the permits of an area).

Scripts run sandboxed (engine/scripting.py) and have no database access. The
helpers here are the one door: they read committed rows through their own
short read-only session, return plain JSON-like summaries (never ORM objects,
never the serialized state) and are bounded, so a script can look but neither
write nor pull the whole table. The instance that is running the script sees
its own row as of its last commit.
"""
from __future__ import annotations

import logging
import math

from sqlalchemy import String, and_, func, literal, or_, select
from sqlalchemy.dialects.postgresql import JSONB

from engine.models import Department, ProcessInstance

log = logging.getLogger(__name__)

ACTIVE = ("running", "waiting")
MAX_ROWS = 200
_INT64 = 2 ** 63
# Variables a summary carries by default: what a reviewer needs to recognise a permit.
SUMMARY_VARIABLES = ("permit_status", "grade", "grade_name", "equipment_id", "work_content", "location_detail",
                     "space_name", "purpose", "permit_expires_at", "work_plan_ref", "operation_kind")


def _checked_match(match) -> dict:
    """``match`` as given, once it is known to be {variable name: str/int/float/bool/None}."""
    if not isinstance(match, dict):
        raise ValueError("active_instances: match must be a dict of variable name -> value")
    for name, value in match.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"active_instances: match keys must be variable names, not {name!r}")
        if not isinstance(value, (str, int, float, bool, type(None))):
            raise ValueError(f"active_instances: match value of {name!r} must be a string, number, "
                             f"boolean or None, not {type(value).__name__}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"active_instances: match value of {name!r} must be a finite number")
        if isinstance(value, int) and not isinstance(value, bool) and not -_INT64 <= value < _INT64:
            raise ValueError(f"active_instances: match value of {name!r} must fit in 64 bits")
    return match


def _match_clauses(db, match: dict) -> list:
    """WHERE clauses: each variable of ``match`` equals its value, type and all, as JSON compares
    (a string never matches a number, a boolean never matches 1; 1 matches 1.0); None matches a
    variable that is null or not set."""
    variables = ProcessInstance.variables
    clauses = []
    if db.is_sqlite:
        for name, value in match.items():
            path = f'$."{name}"'
            kind = func.json_type(variables, path)
            if value is None:
                clauses.append(or_(kind.is_(None), kind == "null"))
            elif isinstance(value, bool):
                clauses.append(kind == ("true" if value else "false"))
            elif isinstance(value, str):
                clauses.append(and_(kind == "text", func.json_extract(variables, path) == value))
            else:
                clauses.append(and_(kind.in_(("integer", "real")), func.json_extract(variables, path) == value))
        return clauses
    present = {n: v for n, v in match.items() if v is not None}
    if present:                                     # JSONB containment: typed, numbers by value
        clauses.append(variables.op("@>")(literal(present, JSONB)))
    for name, value in match.items():
        if value is None:
            kind = func.jsonb_typeof(variables.op("->")(literal(name, String)))
            clauses.append(func.coalesce(kind, "null") == "null")
    return clauses


def active_instances_helper(db):
    """The ``active_instances(process_key, area=None, fields=None, match=None)`` function bound to ``db``."""

    def active_instances(process_key, area=None, fields=None, match=None):
        """Summaries of the running/waiting instances of ``process_key`` (in ``area`` when given).

        Each summary: ``id``, ``process_key``, ``business_key``, ``status``, ``area``, ``department``,
        ``started_at`` and ``variables`` — the scalar variables named in ``fields`` (default
        ``SUMMARY_VARIABLES``). At most 200, oldest first. ``match`` ({variable: value}) keeps only
        instances whose variables have those values, filtered in the database before the cap, so
        looking one instance up by its number finds it however many instances run.
        """
        if not isinstance(process_key, str) or not process_key:
            raise ValueError("active_instances: process_key must be a non-empty string")
        if area is not None and not isinstance(area, str):
            raise ValueError("active_instances: area must be a string or None")
        names = tuple(fields) if fields is not None else SUMMARY_VARIABLES
        if not all(isinstance(n, str) for n in names):
            raise ValueError("active_instances: fields must be variable names")
        if match is not None:
            match = _checked_match(match)
        q = (select(ProcessInstance.id, ProcessInstance.process_key, ProcessInstance.business_key,
                    ProcessInstance.status, ProcessInstance.area, ProcessInstance.department,
                    ProcessInstance.started_at, ProcessInstance.variables)
             .where(ProcessInstance.process_key == process_key, ProcessInstance.status.in_(ACTIVE))
             .order_by(ProcessInstance.id).limit(MAX_ROWS + 1))
        if area is not None:
            q = q.where(ProcessInstance.area == area)
        if match:
            q = q.where(*_match_clauses(db, match))
        with db.session(write=False) as s:
            rows = s.execute(q).all()
        if len(rows) > MAX_ROWS:
            # Designers must see it: a lookup that scans the list may miss what lies beyond the cap.
            log.warning("active_instances(%r, area=%r, match=%r): more than %d instances, only the oldest %d "
                        "returned%s", process_key, area, match, MAX_ROWS, MAX_ROWS,
                        "" if match else "; look one up with match={variable: value}")
            rows = rows[:MAX_ROWS]
        out = []
        for r in rows:
            variables = r.variables if isinstance(r.variables, dict) else {}
            out.append({
                "id": r.id, "process_key": r.process_key, "business_key": r.business_key, "status": r.status,
                "area": r.area, "department": r.department,
                "started_at": r.started_at.isoformat() if r.started_at else None,
                "variables": {n: variables[n] for n in names
                              if n in variables and isinstance(variables[n], (str, int, float, bool, type(None)))},
            })
        return out

    return active_instances


def department_kind_helper(db):
    """The ``department_kind(code)`` function bound to ``db``."""

    def department_kind(code):
        """The kind of department ``code`` (production, maintenance, supervision, emergency,
        leadership), or None for an unknown code: what a diagram routes a department's duty by."""
        if not isinstance(code, str) or not code:
            return None
        with db.session(write=False) as s:
            return s.scalar(select(Department.kind).where(Department.code == code))

    return department_kind


def permit_conflicts_helper(db):
    """The ``permit_conflicts(process_key, area, facts, rules=None)`` function bound to ``db``."""
    from engine.permits import PermitRegister

    register = PermitRegister(db)

    def permit_conflicts(process_key, area, facts=None, rules=None):
        """The cross-work (engine/simops.py) a permit of ``process_key`` in ``area`` has with the
        live permits of the area, both ways: by ``rules`` (its own rows of the SIMOPS table as its
        diagram evaluated them: dicts with ``other``, ``forbidden_when``, ``min_m``, ``area_classes``,
        ``reason``, ``clause``) and by each other permit's table. ``facts``: ``equipment_id``,
        ``painting_planned``, ``pipeline``, ``nearby`` ([{permit_ref, distance_m}]). Each conflict
        says whether the standard forbids it (``forbidden``, ``refusal``) or a coordinator may clear it."""
        if not isinstance(process_key, str) or not process_key:
            raise ValueError("permit_conflicts: process_key must be a non-empty string")
        if not isinstance(area, str) or not area:
            return []
        if facts is not None and not isinstance(facts, dict):
            raise ValueError("permit_conflicts: facts must be a dict")
        if rules is not None and not (isinstance(rules, list) and all(isinstance(r, dict) and r.get("other")
                                                                    for r in rules)):
            raise ValueError("permit_conflicts: rules must be a list of dicts naming 'other'")
        return register.conflicts_for(process_key, area, dict(facts or {}), rules)

    return permit_conflicts


def script_helpers(db) -> dict:
    """Every database-backed helper scripts get, by name."""
    return {"active_instances": active_instances_helper(db), "department_kind": department_kind_helper(db),
            "permit_conflicts": permit_conflicts_helper(db)}
