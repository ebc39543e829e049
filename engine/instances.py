"""Process instances: start, query, cancel, fire due timers."""
from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from engine import audit, instance_marks, spiff, start_contract
from engine.db import Database
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import AuditEvent, Incident, ProcessDefinition, ProcessInstance, TaskRecord, utcnow
from engine.prepared import Prepared
from engine.principal import Principal
from engine.roles import CANCELLER_ROLES
from engine.runner import ACTIVE_STATUSES, Runner
from engine.step_write import write_step
from engine.values import json_data, text_or_none

STATUSES = ("running", "waiting", "completed", "cancelled", "error")
_DEFINITION_COLUMNS = (ProcessDefinition.id, ProcessDefinition.key, ProcessDefinition.version)
_LATEST_DEFINITION = Prepared(select(*_DEFINITION_COLUMNS).where(ProcessDefinition.key == bindparam("p_key"))
                              .order_by(ProcessDefinition.version.desc()).limit(1))
_RUNNING_BUSINESS_KEY = Prepared(select(ProcessInstance.id).where(
    ProcessInstance.process_key == bindparam("p_key"),
    ProcessInstance.active_business_key == bindparam("p_business_key")))


def task_summary(row: TaskRecord) -> dict:
    """A task as REST clients see it."""
    return {
        "id": row.id, "bpmn_id": row.bpmn_id, "name": row.name, "instance_id": row.instance_id,
        "process_key": row.process_key, "business_key": row.business_key,
        "candidate_roles": [row.candidate_role] if row.candidate_role else [],
        "assignee": row.assignee, "state": row.state, "department": row.department, "area": row.area,
        "due_at": row.due_at.isoformat() if row.due_at else None, "priority": row.priority,
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "completed_at": row.completed_at.isoformat() if row.completed_at else None,
        "completed_by": row.completed_by,
    }


def instance_summary(inst: ProcessInstance) -> dict:
    """An instance without its serialized state."""
    return {
        "id": inst.id, "process_key": inst.process_key, "version": inst.definition_version,
        "business_key": inst.business_key, "status": inst.status, "department": inst.department,
        "area": inst.area, "started_at": inst.started_at.isoformat() if inst.started_at else None,
        "started_by": inst.started_by, "ended_at": inst.ended_at.isoformat() if inst.ended_at else None,
        "next_timer_at": inst.next_timer_at.isoformat() if inst.next_timer_at else None,
        "error": inst.error, "row_version": inst.row_version,
    }


class InstanceService:
    """Starts and manages process instances."""

    def __init__(self, db: Database, runner: Runner):
        self.db = db
        self.runner = runner

    def start(self, principal: Principal, process_key: str, business_key: str | None = None,
              variables: dict | None = None, *, version: int | None = None,
              definition_id: int | None = None, start_message: tuple[str, dict] | None = None,
              correlation: dict | None = None) -> dict:
        """Start the latest (or a given) version of ``process_key``; 409 on a running business key.

        ``variables`` must be declared by the process (engine/start_contract.py: 422 naming each
        undeclared one, 403 for another department without a plant-wide role). ``start_message``
        = (name, payload) delivers that message to the new instance's message start event before
        the first engine steps; of its ``correlation`` values those the process declares become
        start variables.
        """
        try:
            with self.db.session() as s:
                if version is None and definition_id is None:
                    found = _LATEST_DEFINITION.first(s.connection(), {"p_key": process_key})
                else:
                    q = select(*_DEFINITION_COLUMNS).where(ProcessDefinition.key == process_key)
                    if version is not None:
                        q = q.where(ProcessDefinition.version == version)
                    if definition_id is not None:
                        q = q.where(ProcessDefinition.id == definition_id)
                    found = s.execute(q.order_by(ProcessDefinition.version.desc()).limit(1)).first()
                if found is None:
                    raise NotFound(f"no process definition '{process_key}'"
                                   + (f" version {version}" if version else ""))
                d = SimpleNamespace(id=found[0], key=found[1], version=found[2])
                return self.start_in(s, principal, d, business_key, variables, start_message=start_message,
                                     correlation=correlation)
        except IntegrityError:
            raise Conflict(f"an instance of '{process_key}' with business key '{business_key}' is running",
                           retryable=False) from None

    def start_in(self, s, principal: Principal, d, business_key: str | None,
                 variables: dict | None, *, start_message: tuple[str, dict] | None = None,
                 start_timer: bool = False, correlation: dict | None = None,
                 engine_variables: dict | None = None) -> dict:
        """Start an instance of definition ``d`` (id, key, version) inside the caller's transaction.

        ``variables`` (and the declared ``correlation`` values of a start message) are checked
        against the process's start declaration before anything is written;
        ``engine_variables`` are the engine's own values (a timer start's ``scheduled_at``),
        set last so no starter value replaces them.
        """
        conn = s.connection()
        model = self.runner.model_for(s, d.id)
        given = {**start_contract.from_correlation(model, correlation), **(variables or {})}
        variables = {**start_contract.admit(conn, principal, model, given), **(engine_variables or {})}
        if business_key is not None and _RUNNING_BUSINESS_KEY.first(
                conn, {"p_key": d.key, "p_business_key": business_key}) is not None:
            raise Conflict(f"an instance of '{d.key}' with business key '{business_key}' is running",
                           retryable=False)
        wf = self.runner.new_workflow(model, variables)
        if start_message is not None:
            self.runner.catch_start_message(wf, *start_message)
        if start_timer:
            self.runner.fire_start_timer(wf)
        # Core, not the ORM: the row is inserted first (a running business key loses here, on
        # the unique index, before any work) and updated once with state, status and audit tip.
        inst = SimpleNamespace(
            id=None, definition_id=d.id, process_key=d.key, definition_version=d.version,
            business_key=business_key, active_business_key=business_key, status="running",
            department=text_or_none(variables.get("department")) or principal.department,
            area=text_or_none(variables.get("area")), state="", variables={}, row_version=1, next_timer_at=None,
            started_by=principal.username, started_at=utcnow(), ended_at=None, error=None, audit_hash=None,
            audit_seq=0, subscriptions_fp=None, register_status=None, register=None,
        )
        self.runner.insert_instance_row(conn, inst)
        outcome = self.runner.advance(s, inst, wf, model, ready_before=set(), defer_task_rows=True)
        events = [audit.prepare(inst, actor=principal.username, kind="start", data={
            "process_key": d.key, "version": d.version, "business_key": business_key,
            "variables": json_data(variables)})]
        if outcome.incident is not None:
            events.append(audit.prepare(inst, actor="engine", kind="incident", data={
                "kind": outcome.incident.kind, "message": outcome.incident.message}))
        write_step(conn, inst, inst.row_version, new_tasks=[vars(t) for t in outcome.new_tasks], events=events)
        result = instance_summary(inst)
        result["active_tasks"] = [task_summary(t) for t in outcome.new_tasks if t.state == "ready"]
        return result

    def get(self, principal: Principal, instance_id: int) -> dict:
        """One instance with variables, active tasks, timeline, incidents and its diagram marks.

        ``element_states`` and ``taken_flows`` (engine/instance_marks.py) let a client colour the
        deployed diagram (GET /process-definitions/{key}/{version}/xml); each incident names the
        ``element_id`` that failed, when known.
        """
        with self.db.session(write=False) as s:
            inst = s.get(ProcessInstance, instance_id)
            if inst is None or not self._visible(principal, inst):
                raise NotFound(f"no process instance {instance_id}")
            out = instance_summary(inst)
            out["variables"] = inst.variables or {}
            out["active_tasks"] = [task_summary(t) for t in s.scalars(
                select(TaskRecord).where(TaskRecord.instance_id == inst.id, TaskRecord.state == "ready")
                .order_by(TaskRecord.created_at))]
            out["timeline"] = [{"seq": e.seq, "at": e.at.isoformat(), "actor": e.actor, "kind": e.kind,
                                "task_id": e.task_id, "data": e.data} for e in s.scalars(
                select(AuditEvent).where(AuditEvent.instance_id == inst.id).order_by(AuditEvent.seq))]
            incidents = list(s.scalars(select(Incident).where(Incident.instance_id == inst.id).order_by(Incident.id)))
            out["incidents"] = [{"id": i.id, "kind": i.kind, "message": i.message, "status": i.status,
                                 "created_at": i.created_at.isoformat(), "task_id": i.task_id,
                                 "element_id": (i.details or {}).get("bpmn_id"),
                                 "resolved_at": i.resolved_at.isoformat() if i.resolved_at else None}
                                for i in incidents]
            out.update(self._marks(s, inst, [(i.details or {}).get("bpmn_id") for i in incidents
                                             if i.status == "open"]))
            return out

    def _marks(self, s, inst: ProcessInstance, incident_elements: list) -> dict:
        # A fresh copy of the stored state, not the runner's cached live workflow: taking that
        # one would remove it from the cache and cost the instance's next step a deserialization.
        if not inst.state:
            return {"element_states": {x: "error" for x in incident_elements if x}, "taken_flows": []}
        model = self.runner.model_for(s, inst.definition_id)
        return instance_marks.diagram_marks(spiff.loads(inst.state, model), model, incident_elements)

    def check_visible(self, principal: Principal, instance_id: int) -> None:
        """Raise NotFound unless ``instance_id`` exists and ``principal`` may see it (cheap: no state read)."""
        with self.db.session(write=False) as s:
            department = s.execute(select(ProcessInstance.department)
                                   .where(ProcessInstance.id == instance_id)).first()
            if department is None or not principal.in_scope(department[0]):
                raise NotFound(f"no process instance {instance_id}")

    def list(self, principal: Principal, *, process_key=None, business_key=None, status=None,
             started_after: datetime | None = None, started_before: datetime | None = None,
             page: int = 1, page_size: int = 50) -> dict:
        """Instances matching the filters, newest first, with the total."""
        if status is not None and status not in STATUSES:
            raise Invalid("invalid filter", errors=[{"field": "status", "message": f"one of {list(STATUSES)}"}])
        conds = []
        if process_key:
            conds.append(ProcessInstance.process_key == process_key)
        if business_key:
            conds.append(ProcessInstance.business_key == business_key)
        if status:
            conds.append(ProcessInstance.status == status)
        if started_after:
            conds.append(ProcessInstance.started_at >= started_after)
        if started_before:
            conds.append(ProcessInstance.started_at < started_before)
        if not principal.sees_all_departments:
            conds.append((ProcessInstance.department == principal.department) | ProcessInstance.department.is_(None))
        cols = [ProcessInstance.id, ProcessInstance.process_key, ProcessInstance.definition_version,
                ProcessInstance.business_key, ProcessInstance.status, ProcessInstance.department,
                ProcessInstance.area, ProcessInstance.started_at, ProcessInstance.started_by,
                ProcessInstance.ended_at, ProcessInstance.next_timer_at, ProcessInstance.error,
                ProcessInstance.row_version]
        with self.db.session(write=False) as s:
            total = s.scalar(select(func.count()).select_from(ProcessInstance).where(*conds))
            rows = s.execute(select(*cols).where(*conds).order_by(ProcessInstance.id.desc())
                             .offset((page - 1) * page_size).limit(page_size)).all()
        items = []
        for r in rows:
            items.append({
                "id": r.id, "process_key": r.process_key, "version": r.definition_version,
                "business_key": r.business_key, "status": r.status, "department": r.department, "area": r.area,
                "started_at": r.started_at.isoformat() if r.started_at else None, "started_by": r.started_by,
                "ended_at": r.ended_at.isoformat() if r.ended_at else None,
                "next_timer_at": r.next_timer_at.isoformat() if r.next_timer_at else None,
                "error": r.error, "row_version": r.row_version,
            })
        return {"items": items, "total": total, "page": page, "page_size": page_size}

    def cancel(self, principal: Principal, instance_id: int, reason: str) -> dict:
        """Cancel a running instance (authorised roles only, with a reason)."""
        if not principal.has_any(CANCELLER_ROLES):
            raise Forbidden(f"cancelling needs one of the roles {sorted(CANCELLER_ROLES)}")
        if not reason or not reason.strip():
            raise Invalid("a reason is required", errors=[{"field": "reason", "message": "required"}])
        try:
            with self.db.session() as s:
                inst = s.get(ProcessInstance, instance_id)
                if inst is None or not self._visible(principal, inst):
                    raise NotFound(f"no process instance {instance_id}")
                if inst.status not in ACTIVE_STATUSES + ("error",):
                    raise Conflict(f"instance {instance_id} is {inst.status}")
                wf = self.runner.load(inst)
                wf.cancel()
                self.runner.save(inst, wf, "cancelled")
                self.runner.sync_subscriptions(s, inst, wf)
                inst.active_business_key = None
                now = utcnow()
                for row in s.scalars(select(TaskRecord).where(TaskRecord.instance_id == inst.id,
                                                              TaskRecord.state == "ready")):
                    row.state, row.completed_at = "cancelled", now
                for inc in s.scalars(select(Incident).where(Incident.instance_id == inst.id,
                                                            Incident.status == "open")):
                    inc.status, inc.resolved_at, inc.resolved_by = "resolved", now, principal.username
                audit.append(s, actor=principal.username, kind="cancel", instance_id=inst.id,
                             data={"reason": reason.strip()})
                return instance_summary(inst)
        except StaleDataError:
            raise Conflict("the instance changed meanwhile; reload and retry", retryable=True) from None

    def fire_due_timers(self, now: datetime | None = None, limit: int = 100) -> int:
        """Advance every instance whose next timer is due; returns how many advanced."""
        now = now or utcnow()
        with self.db.session(write=False) as s:
            ids = list(s.scalars(select(ProcessInstance.id).where(
                ProcessInstance.next_timer_at <= now, ProcessInstance.status.in_(ACTIVE_STATUSES))
                .order_by(ProcessInstance.next_timer_at).limit(limit)))
        fired = 0
        for iid in ids:
            try:
                with self.db.session() as s:
                    if self.fire_timer_in(s, s.get(ProcessInstance, iid), now) is not None:
                        fired += 1
            except StaleDataError:
                continue  # someone else advanced it; the next poll re-reads next_timer_at
        return fired

    def fire_timer_in(self, s, inst: ProcessInstance | None, now: datetime):
        """Advance ``inst`` past its due timers inside the caller's transaction.

        Returns the step outcome, or None when the instance has nothing due at ``now``
        (finished meanwhile, or advanced by someone else).
        """
        if inst is None or inst.status not in ACTIVE_STATUSES or inst.next_timer_at is None \
                or inst.next_timer_at > now:
            return None
        due = inst.next_timer_at
        model = self.runner.model_for(s, inst.definition_id)
        wf = self.runner.load(inst)
        outcome = self.runner.advance(s, inst, wf, model, refresh_timers=True)
        audit.append(s, actor="scheduler", kind="timer", instance_id=inst.id,
                     data={"due": due.isoformat(), "lateness_ms": round((now - due).total_seconds() * 1000),
                           "status": outcome.status})
        return outcome

    @staticmethod
    def _visible(principal: Principal, inst: ProcessInstance) -> bool:
        return principal.in_scope(inst.department)


