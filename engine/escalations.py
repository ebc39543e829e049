"""Three-level escalations (三级督办) as the supervisor's board reads them.

An escalation is a ready ``duty`` task of ``three_level_supervision`` (started directly, or called
by another diagram: then its tasks belong to the calling instance). Its level is what the diagram
did: level 1 while only the duty is open; 2 once the T1 timer created the department head's
``level2_task``; 3 once T2 created supervision's ``level3_task`` (task rows of the instance created
after the duty, so an instance running several duties reads each one's own escalations). It is
overdue once the duty's due time (T1) has passed.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select

from engine.db import Database
from engine.errors import Invalid
from engine.models import ProcessInstance, TaskRecord, utcnow
from engine.principal import Principal

DUTY_TASK = "duty"
DUTY_FORM = "duty_completion.json"
LEVEL_TASKS = {"level2_task": 2, "level3_task": 3}


class EscalationService:
    """Open escalations with their level; knows nothing of HTTP."""

    def __init__(self, db: Database):
        self.db = db

    def list(self, principal: Principal, *, overdue: bool | None = None, level: int | None = None,
             department: str | None = None, page: int = 1, page_size: int = 50,
             now: datetime | None = None) -> dict:
        """Open escalations visible to ``principal``, highest level and longest overdue first.

        Scope as for tasks and instances: plant-wide roles see all departments, others their own.
        ``overdue`` true/false filters on the duty's due time; ``level`` on 1, 2 or 3.
        """
        now = now or utcnow()
        if level is not None and level not in (1, 2, 3):
            raise Invalid("invalid filter", errors=[{"field": "level", "message": "1, 2 or 3"}])
        conds = [TaskRecord.bpmn_id == DUTY_TASK, TaskRecord.form == DUTY_FORM, TaskRecord.state == "ready"]
        if department:
            conds.append(TaskRecord.department == department)
        if not principal.sees_all_departments:
            conds.append(or_(TaskRecord.department == principal.department, TaskRecord.department.is_(None)))
        with self.db.session(write=False) as s:
            duties = s.execute(select(TaskRecord.id, TaskRecord.instance_id, TaskRecord.name, TaskRecord.department,
                                      TaskRecord.area, TaskRecord.candidate_role, TaskRecord.assignee,
                                      TaskRecord.due_at, TaskRecord.created_at, TaskRecord.process_key,
                                      TaskRecord.business_key)
                               .where(*conds)).all()
            ids = sorted({d.instance_id for d in duties})
            levels = s.execute(select(TaskRecord.id, TaskRecord.instance_id, TaskRecord.bpmn_id, TaskRecord.state,
                                      TaskRecord.created_at, TaskRecord.assignee, TaskRecord.candidate_role,
                                      TaskRecord.due_at, TaskRecord.name)
                               .where(TaskRecord.instance_id.in_(ids), TaskRecord.bpmn_id.in_(list(LEVEL_TASKS)))
                               .order_by(TaskRecord.created_at)).all() if ids else []
            variables = dict(s.execute(select(ProcessInstance.id, ProcessInstance.variables)
                                       .where(ProcessInstance.id.in_(ids))).all()) if ids else {}
        items = []
        for d in duties:
            mine = [t for t in levels if t.instance_id == d.instance_id and t.created_at >= d.created_at]
            lvl = max([LEVEL_TASKS[t.bpmn_id] for t in mine], default=1)
            late = d.due_at is not None and d.due_at < now
            if overdue is not None and late != overdue:
                continue
            if level is not None and lvl != level:
                continue
            v = variables.get(d.instance_id) or {}
            own = d.process_key == "three_level_supervision"
            items.append({
                "task_id": d.id, "instance_id": d.instance_id, "process_key": d.process_key,
                "business_key": d.business_key,
                "duty_title": (v.get("duty_title") if own else None) or d.name,
                "duty_type": v.get("duty_type") if own else None,
                "department": d.department, "area": d.area, "level": lvl, "overdue": late,
                "due_at": d.due_at.isoformat() if d.due_at else None,
                "overdue_seconds": int((now - d.due_at).total_seconds()) if late else 0,
                "started_at": d.created_at.isoformat() if d.created_at else None,
                "assignee": d.assignee, "candidate_role": d.candidate_role,
                "escalation_tasks": [{"id": t.id, "bpmn_id": t.bpmn_id, "name": t.name, "level": LEVEL_TASKS[t.bpmn_id],
                                      "state": t.state, "assignee": t.assignee, "candidate_role": t.candidate_role,
                                      "due_at": t.due_at.isoformat() if t.due_at else None} for t in mine],
            })
        items.sort(key=lambda i: (-i["level"], -i["overdue_seconds"], i["due_at"] or "", i["instance_id"], i["task_id"]))
        total = len(items)
        return {"items": items[(page - 1) * page_size:page * page_size], "total": total, "page": page,
                "page_size": page_size}
