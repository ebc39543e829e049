"""Read-only queries that BPMN scripts may call (the SIMOPS check lists the permits of an area).

Scripts run sandboxed (engine/scripting.py) and have no database access. The
helpers here are the one door: they read committed rows through their own
short read-only session, return plain JSON-like summaries (never ORM objects,
never the serialized state) and are bounded, so a script can look but neither
write nor pull the whole table. The instance that is running the script sees
its own row as of its last commit.
"""
from __future__ import annotations

from sqlalchemy import select

from engine.models import ProcessInstance

ACTIVE = ("running", "waiting")
MAX_ROWS = 200
# Variables a summary carries by default: what a reviewer needs to recognise a permit.
SUMMARY_VARIABLES = ("permit_status", "grade", "grade_name", "equipment_id", "work_content", "location_detail",
                     "space_name", "purpose", "permit_expires_at", "work_plan_ref", "operation_kind")


def active_instances_helper(db):
    """The ``active_instances(process_key, area=None, fields=None)`` function bound to ``db``."""

    def active_instances(process_key, area=None, fields=None):
        """Summaries of the running/waiting instances of ``process_key`` (in ``area`` when given).

        Each summary: ``id``, ``process_key``, ``business_key``, ``status``, ``area``, ``department``,
        ``started_at`` and ``variables`` — the scalar variables named in ``fields`` (default
        ``SUMMARY_VARIABLES``). At most 200, oldest first.
        """
        if not isinstance(process_key, str) or not process_key:
            raise ValueError("active_instances: process_key must be a non-empty string")
        if area is not None and not isinstance(area, str):
            raise ValueError("active_instances: area must be a string or None")
        names = tuple(fields) if fields is not None else SUMMARY_VARIABLES
        if not all(isinstance(n, str) for n in names):
            raise ValueError("active_instances: fields must be variable names")
        q = (select(ProcessInstance.id, ProcessInstance.process_key, ProcessInstance.business_key,
                    ProcessInstance.status, ProcessInstance.area, ProcessInstance.department,
                    ProcessInstance.started_at, ProcessInstance.variables)
             .where(ProcessInstance.process_key == process_key, ProcessInstance.status.in_(ACTIVE))
             .order_by(ProcessInstance.id).limit(MAX_ROWS))
        if area is not None:
            q = q.where(ProcessInstance.area == area)
        with db.session(write=False) as s:
            rows = s.execute(q).all()
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


def script_helpers(db) -> dict:
    """Every database-backed helper scripts get, by name."""
    return {"active_instances": active_instances_helper(db)}
