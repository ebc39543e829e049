"""Supervision data produced by the processes, fed into the hub.

The processes of the library already record everything the hub needs: task
rows (``tasks``: who, when, due, completed), the audit chain (``audit_events``
of kind ``complete`` carry the submitted form data) and the instance variables.
:func:`sync_from_processes` reads them and upserts hub records, idempotently
(natural keys derived from instance and task ids), so it can run after every
batch of work or on a schedule.

Mapping (source → hub record, ``ref``):

==============================================  ======================================================
hazard_rectification instance                   ``hazard`` ``process:<instance id>``: found_at / location /
                                                description from the ``report`` form, level /
                                                department / deadline from ``classify`` (the instance's
                                                final ``deadline`` variable wins: a major-hazard plan
                                                sets it), closed_at when ``hazard_status == closed``,
                                                reported_by / rectified_by from who completed
                                                ``report`` / ``rectify``; equipment from
                                                ``equipment_id`` when the report names one
task ``duty`` / ``level2_task`` / ``level3_task``  ``escalation`` ``task:<task id>`` with level 1 / 2 / 3
(three_level_supervision, also when called)     (三级督办), department and received_at of the task,
                                                closed_at / closed_by when completed
task ``supervision_check`` completed (work_plan)   ``inspection`` ``task:<task id>``: found_issue =
                                                not ``compliant``; findings and violations text; and a
                                                ``violation`` ``task:<task id>`` when ``violations``
                                                is not empty
any instance whose variables have ``stopped_at``   ``production_stop`` ``process:<instance id>:stop``
(stop_restart, also called from a hazard)       cause_kind ``safety``, started/ended at stop/restart
a permit instance: any process of               ``work_record`` ``permit:<instance id>``, source
:data:`engine.permits.PERMIT_TYPES` (hot work,  ``permit``: kind = the permit type, grade, area,
confined space and every permit added there)    department, applied_at = the application submitted,
                                                approved_at = ``issued_at``, started_at = work
                                                started (else issued, else applied), ended_at when
                                                the work ended, workers, register status,
                                                suspensions (1 when it was suspended, with the cause)
==============================================  ======================================================

The permits are the platform's own: the report and the ``permits`` analysis count the permits
the plant applied for here, not only those an import brought in.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from engine.hub.kinds import parse_datetime
from engine.models import AuditEvent, ProcessInstance, TaskRecord
from engine.permits import BY_KEY as PERMITS

ESCALATION_TASKS = {"duty": 1, "level2_task": 2, "level3_task": 3}
HAZARD_PROCESS = "hazard_rectification"


def _dt(value) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        return parse_datetime(value)
    except (ValueError, TypeError):
        return None


def sync_from_processes(platform, since: datetime | None = None) -> dict:
    """Upsert hub records from process data (all instances, or those touched since ``since``)."""
    db = platform.db
    hazards, escalations, inspections, violations, stops, permits = [], [], [], [], [], []
    with db.session(write=False) as s:
        touched = None
        if since is not None:
            touched = set(s.scalars(select(AuditEvent.instance_id).where(AuditEvent.at >= since).distinct()))
        inst_q = select(ProcessInstance.id, ProcessInstance.process_key, ProcessInstance.area,
                        ProcessInstance.department, ProcessInstance.variables, ProcessInstance.started_at,
                        ProcessInstance.ended_at, ProcessInstance.status, ProcessInstance.register_status)
        events_q = select(AuditEvent.instance_id, AuditEvent.actor, AuditEvent.at, AuditEvent.task_id,
                          AuditEvent.data).where(AuditEvent.kind == "complete").order_by(AuditEvent.seq)
        if touched is not None:
            inst_q = inst_q.where(ProcessInstance.id.in_(touched))
            events_q = events_q.where(AuditEvent.instance_id.in_(touched))
        instances = {r.id: r for r in s.execute(inst_q)}
        completions: dict[int, list] = {}
        for ev in s.execute(events_q):
            completions.setdefault(ev.instance_id, []).append(ev)
        task_q = select(TaskRecord.id, TaskRecord.bpmn_id, TaskRecord.instance_id, TaskRecord.department,
                        TaskRecord.created_at, TaskRecord.completed_at, TaskRecord.completed_by,
                        TaskRecord.state).where(TaskRecord.bpmn_id.in_(list(ESCALATION_TASKS) + ["supervision_check"]))
        if touched is not None:
            task_q = task_q.where(TaskRecord.instance_id.in_(touched))
        tasks = s.execute(task_q).all()

    for iid, inst in instances.items():
        v = inst.variables or {}
        done = {}
        for ev in completions.get(iid, []):
            done.setdefault((ev.data or {}).get("bpmn_id"), []).append(ev)
        if inst.process_key == HAZARD_PROCESS and "report" in done:
            report = done["report"][0]
            form = (report.data or {}).get("data") or {}
            classify = ((done.get("classify") or [None])[-1])
            cform = ((classify.data or {}).get("data") or {}) if classify else {}
            closed = v.get("hazard_status") == "closed"
            rectify = (done.get("rectify") or [None])[-1]
            hazards.append({
                "ref": f"process:{iid}", "found_at": form.get("found_at") or report.at.isoformat(),
                "area": inst.area or v.get("area") or "unknown",
                "equipment_code": v.get("equipment_code") or form.get("equipment_code") or None,
                "level": cform.get("hazard_level") or form.get("reported_level") or "general",
                "department": cform.get("responsible_department") or None,
                "description": " — ".join(x for x in (form.get("location"), form.get("description")) if x),
                "deadline": v.get("deadline") or cform.get("rectification_deadline"),
                "closed_at": v.get("closed_at") if closed else None,
                "status": "closed" if closed else ("assigned" if classify else "open"),
                "reported_by": report.actor, "rectified_by": rectify.actor if rectify else None,
            })
        for ev in done.get("supervision_check", []):
            form = (ev.data or {}).get("data") or {}
            text = str(form.get("violations") or "").strip()
            at = form.get("checked_at") or ev.at.isoformat()
            inspections.append({
                "ref": f"task:{ev.task_id}", "at": at, "area": inst.area or "unknown",
                "department": inst.department, "inspector": ev.actor, "kind": "supervision_check",
                "found_issue": not bool(form.get("compliant", True)) or bool(text),
                "findings": [x for x in (form.get("findings"), text) if x]})
            if text:
                violations.append({"ref": f"task:{ev.task_id}", "at": at, "area": inst.area or "unknown",
                                   "department": inst.department, "kind": "supervision_check",
                                   "description": text})
        if inst.process_key in PERMITS:
            permits.append(_permit_record(PERMITS[inst.process_key], iid, inst, v, done))
        if v.get("stopped_at"):
            stops.append({"ref": f"process:{iid}:stop", "area": inst.area or v.get("area") or "unknown",
                          "department": inst.department, "started_at": v["stopped_at"],
                          "ended_at": v.get("restarted_at"), "cause_kind": "safety",
                          "cause": str(v.get("stop_reason") or "")[:4000]})
    for t in tasks:
        if t.bpmn_id in ESCALATION_TASKS:
            duty = ((instances.get(t.instance_id).variables or {}).get("duty_type")
                    if t.instance_id in instances else None)
            escalations.append({"ref": f"task:{t.id}", "level": ESCALATION_TASKS[t.bpmn_id],
                                "department": t.department, "duty_type": duty, "received_at": t.created_at,
                                "closed_at": t.completed_at if t.state == "completed" else None,
                                "closed_by": t.completed_by})
    hub = platform.hub
    out = {}
    for kind, rows in (("hazard", hazards), ("escalation", escalations), ("inspection", inspections),
                       ("violation", violations), ("production_stop", stops), ("work_record", permits)):
        out[kind] = hub.upsert(kind, rows, source="process").as_dict()
    return out


def _permit_record(ptype, iid: int, inst, v: dict, done: dict) -> dict:
    """The hub's work record of one permit instance (see the module's table)."""
    applied = next((ev.at for task in sorted(ptype.apply_tasks) for ev in done.get(task, [])[:1]), None)
    applied = _dt(applied) or _dt(inst.started_at)
    issued = _dt(v.get("issued_at"))
    working = _dt(v.get("work_started_at"))
    started = working or issued or applied
    ended = _dt(inst.ended_at) if working and inst.ended_at else None
    workers = v.get("workers")
    cause = v.get("suspended_by") if isinstance(v.get("suspended_by"), str) else None
    suspended = bool(v.get("suspended_at")) or bool(cause)
    return {"ref": f"permit:{iid}", "source": "permit", "kind": ptype.type,
            "grade": v.get("grade") if isinstance(v.get("grade"), str) and v.get("grade") else None,
            "area": inst.area or v.get("area") or "unknown", "department": inst.department,
            "started_at": started, "ended_at": ended if ended and ended > started else None,
            "workers": max(len(workers), 1) if isinstance(workers, list) else 1,
            "applied_at": applied, "approved_at": issued if issued and applied and issued >= applied else None,
            "suspensions": 1 if suspended else 0, "suspension_causes": [cause] if cause else [],
            "status": inst.register_status or inst.status}


# --------------------------------------------------------------------------- IoT alerts

_ALERT_STATUS = {"open": "open", "acknowledged": "handling", "closed": "closed"}


def mirror_alert(session, alert) -> None:
    """Write an IoT alert into the hub's ``alert`` records inside the caller's transaction.

    Called by :class:`engine.iot.alerts.AlertService` when it opens, escalates,
    acknowledges or closes (disposes) an alert, so the hub, the report and
    the analyses see the alert as it is the moment the change commits (no
    sync to wait for, nothing to lose between two commits). Natural key
    ``iot:<alert id>``; grade, owner department, deadline, handling and
    closing times and the disposal record follow the alert.
    """
    from engine.hub.models import Alert as HubAlert

    ref = f"iot:{alert.id}"
    row = session.scalar(select(HubAlert).where(HubAlert.ref == ref))
    if row is None:
        row = HubAlert(ref=ref, source="iot")
        session.add(row)
    row.raised_at = alert.opened_at
    row.area = alert.area
    row.grade = alert.grade
    row.kind = (alert.rule or alert.kind or "")[:64] or None
    row.owner_department = alert.owner_department
    row.handled_at = alert.acknowledged_at or alert.closed_at
    row.deadline_at = alert.deadline_at
    row.closed_at = alert.closed_at
    row.status = _ALERT_STATUS.get(alert.status, "open")
    disposal = alert.disposal or {}
    row.disposal = "; ".join(f"{k}: {v}" for k, v in disposal.items()
                             if k not in ("recorded_at", "recorded_by") and v not in (None, ""))[:4000] or None
