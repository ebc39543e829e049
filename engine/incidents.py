"""Incidents: instances that stopped on an error, and how operators get them going."""
from __future__ import annotations

from uuid import UUID

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from engine import audit
from engine.db import Database
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import Incident, ProcessInstance, utcnow
from engine.principal import Principal
from engine.runner import Runner
from engine.computed_fields import SCOPE_VARIABLES, reserved_names
from engine.values import json_data

OPERATOR_ROLES = frozenset({"admin", "supervision", "designer"})
# Who may retry with corrected variables (an overrule of process data, audited with old and new values).
CORRECTOR_ROLES = frozenset({"admin", "supervision"})
PROTECTED_NAMES = frozenset(SCOPE_VARIABLES) | reserved_names()


DISCARDED_KINDS = ("step_budget", "invalid_value")


def incident_view(i: Incident) -> dict:
    """An incident as operators see it."""
    return {"id": i.id, "instance_id": i.instance_id, "task_id": i.task_id, "kind": i.kind, "message": i.message,
            "details": i.details or {}, "status": i.status, "created_at": i.created_at.isoformat(),
            "resolved_at": i.resolved_at.isoformat() if i.resolved_at else None, "resolved_by": i.resolved_by}


class IncidentService:
    """List, retry and resolve incidents."""

    def __init__(self, db: Database, runner: Runner):
        self.db = db
        self.runner = runner

    def list(self, principal: Principal, *, status: str | None = None, instance_id: int | None = None,
             page: int = 1, page_size: int = 50) -> dict:
        """Incidents, newest first."""
        self._check(principal)
        conds = []
        if status:
            conds.append(Incident.status == status)
        if instance_id is not None:
            conds.append(Incident.instance_id == instance_id)
        with self.db.session(write=False) as s:
            total = s.scalar(select(func.count()).select_from(Incident).where(*conds))
            rows = s.scalars(select(Incident).where(*conds).order_by(Incident.id.desc())
                             .offset((page - 1) * page_size).limit(page_size)).all()
            return {"items": [incident_view(i) for i in rows], "total": total, "page": page, "page_size": page_size}

    def get(self, principal: Principal, incident_id: int) -> dict:
        """One incident."""
        self._check(principal)
        with self.db.session(write=False) as s:
            return incident_view(self._incident(s, incident_id))

    def retry(self, principal: Principal, incident_id: int, variables: dict | None = None) -> dict:
        """Run the failed step again, optionally with corrected variables."""
        self._check(principal)
        try:
            with self.db.session() as s:
                inc = self._incident(s, incident_id, open_only=True)
                if inc.kind == "depth_limit":
                    raise Conflict("a depth-limit incident cannot be retried: the diagram must bound its loop "
                                   "(cancel the instance and start a new one)")
                inst = s.get(ProcessInstance, inc.instance_id)
                wf = self.runner.load(inst)
                model = self.runner.model_for(s, inst.definition_id)
                ready_before = self.runner.ready_task_ids(wf)
                task = wf.get_task_from_id(UUID(inc.task_id)) if inc.task_id else None
                # A discarded step (step_budget, invalid_value) names no task: its instance kept the
                # state before the step, and a retry runs the engine steps from there again.
                if task is None and inc.kind not in DISCARDED_KINDS:
                    raise Conflict("the failed task is no longer in the instance")
                corrections = self._corrections(principal, task, variables)
                if inc.kind == "service_task":
                    if task.state != TaskState.STARTED:
                        raise Conflict("the service task is no longer waiting")
                    task.internal_data["anjian_attempt"] = task.internal_data.get("anjian_attempt", 1) + 1
                    task.internal_data.pop("anjian_queued", None)
                elif task is not None and task.state == TaskState.ERROR:
                    task._set_state(TaskState.READY)  # SpiffWorkflow has no public "retry" for an errored task
                inst.status = "running"
                outcome = self.runner.advance(s, inst, wf, model, ready_before=ready_before)
                inc.status, inc.resolved_at, inc.resolved_by = "retried", utcnow(), principal.username
                audit.append(s, actor=principal.username, kind="incident_retry", instance_id=inst.id,
                             task_id=inc.task_id, data={"incident_id": inc.id, "variables": variables or {},
                                                        "overrides": corrections})
                return {"incident": incident_view(inc), "instance": {"id": inst.id, "status": outcome.status}}
        except StaleDataError:
            raise Conflict("the instance changed meanwhile; retry", retryable=True) from None

    @staticmethod
    def _corrections(principal: Principal, task, variables: dict | None) -> list[dict]:
        """Apply an operator's corrected variables to the failed task; ``[{field, old, new}]`` for the audit.

        A retry with variables overrules what the process holds, so it is held to the trust rules:
        only supervision or an admin may do it (a designer may retry, not rewrite plant data), never
        the scope or the platform's reserved names, and only where there is a failed task to correct.
        """
        if not variables:
            return []
        if not principal.has_any(CORRECTOR_ROLES):
            raise Forbidden(f"correcting variables needs one of the roles {sorted(CORRECTOR_ROLES)}",
                            reason="override_not_entitled")
        errors = [{"field": f"variables.{k}", "message": "the scope and the platform's reserved names "
                   "cannot be corrected"} for k in variables if k in PROTECTED_NAMES or not isinstance(k, str)
                  or not k.isidentifier()]
        if task is None:
            errors.append({"field": "variables", "message": "this incident's step was discarded and names no "
                                                              "task; retry without variables"})
        if errors:
            raise Invalid("these variables cannot be corrected", errors=errors)
        out = [{"field": k, "old": json_data(task.data.get(k)), "new": json_data(v)} for k, v in variables.items()]
        task.data.update(variables)
        return out

    def resolve(self, principal: Principal, incident_id: int, comment: str) -> dict:
        """Close an incident without retrying (the operator handled it otherwise)."""
        self._check(principal)
        if not comment or not comment.strip():
            raise Invalid("a comment is required", errors=[{"field": "comment", "message": "required"}])
        with self.db.session() as s:
            inc = self._incident(s, incident_id, open_only=True)
            inc.status, inc.resolved_at, inc.resolved_by = "resolved", utcnow(), principal.username
            audit.append(s, actor=principal.username, kind="incident_resolve", instance_id=inc.instance_id,
                         task_id=inc.task_id, data={"incident_id": inc.id, "comment": comment.strip()})
            return incident_view(inc)

    @staticmethod
    def _incident(s, incident_id: int, *, open_only: bool = False) -> Incident:
        inc = s.get(Incident, incident_id)
        if inc is None:
            raise NotFound(f"no incident {incident_id}")
        if open_only and inc.status != "open":
            raise Conflict(f"incident {incident_id} is {inc.status}")
        return inc

    @staticmethod
    def _check(principal: Principal) -> None:
        if not principal.has_any(OPERATOR_ROLES):
            raise Forbidden(f"incidents need one of the roles {sorted(OPERATOR_ROLES)}")
