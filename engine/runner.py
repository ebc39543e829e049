"""The instance runner: load → step → save, inside the caller's transaction.

Every change to an instance goes through :class:`Runner`. It deserializes the
SpiffWorkflow state once, runs engine steps with the depth guard, mirrors the
human tasks into ``tasks`` rows, computes status and next timer due, and writes
the instance row with its optimistic version (SQLAlchemy ``version_id_col``).
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session, object_session

from engine.definitions import ModelCache, ProcessModel
from engine.models import (
    Incident,
    MessageSubscription,
    OutboxEntry,
    ProcessDefinition,
    ProcessInstance,
    TaskRecord,
    utcnow,
)
from engine import budget, permits, value_domain
from engine.budget import StepBudgetExceeded
from engine.prepared import Prepared
from engine.roles import ROLES
from engine.scripting import RestrictedScriptEngine, ScriptRejected
from engine import spiff
from engine.spiff import DeferredServiceTask
from engine import jsoncodec
from engine.value_domain import ValueRejected
from engine.values import json_data, text_or_none
from engine.workflow_cache import WorkflowCache

log = logging.getLogger(__name__)

ACTIVE_STATUSES = ("running", "waiting")
# Always indexed for message correlation (plant messages are correlated by area).
CORRELATION_KEYS = ("area", "department", "business_key")
INSTANCE_TABLE = ProcessInstance.__table__
_INSERT_INSTANCE = Prepared(insert(INSTANCE_TABLE).returning(INSTANCE_TABLE.c.id),
                            column_keys=[c.key for c in INSTANCE_TABLE.c if c.key != "id"])
TIMER_EVENT_TYPES = ("DurationTimerEventDefinition", "TimeDateEventDefinition", "CycleTimerEventDefinition")
# Tasks whose data makes up the process variables; the ready human tasks and the started
# service tasks are among them, so one walk of the task tree finds all three.
LIVE_STATES = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
# Set on a workflow by each step: the ids of its ready human tasks, i.e. of its ready rows.
_READY_ROWS = "_anjian_ready_rows"
_UNSET = object()  # a task property that is absent or whose expression failed


class DepthExceeded(Exception):
    """The task tree grew too deep for SpiffWorkflow's iterator (DESIGN.md)."""


@dataclass
class StepOutcome:
    """What one advance of an instance produced."""

    status: str
    new_tasks: list[SimpleNamespace] = field(default_factory=list)  # the new ``tasks`` rows, as written
    closed_task_ids: list[str] = field(default_factory=list)
    incident: Incident | None = None
    outbox: list[OutboxEntry] = field(default_factory=list)
    subscriptions: tuple[bool, list] | None = None  # (delete old rows?, new subscriptions) when changed
    # The step was thrown away (time budget, a value that cannot be stored): the instance keeps
    # its last committed state, goes to ``error`` with ``incident``, and no task row changes.
    discarded: bool = False

    @property
    def only_step_write(self) -> bool:
        """Nothing to write but the instance row, its task rows and audit events (engine.step_write)."""
        return (not self.closed_task_ids and self.subscriptions is None and not self.outbox
                and self.incident is None)


class Runner:
    """Runs SpiffWorkflow for one instance at a time; knows nothing of HTTP."""

    # Set by the platform: ``user_exists(username) -> bool`` checks an ``assignee`` expression's result.
    user_exists = None
    # Set by the platform: ``timer_set(due_at)`` after a commit left an instance waiting for a timer.
    timer_set = None

    def __init__(self, models: ModelCache, *, max_task_depth: int = 900,
                 workflow_cache: WorkflowCache | None = None, step_budget_seconds: float = 5.0,
                 value_max_depth: int = 32, value_max_bytes: int = 1_000_000):
        self.models = models
        self.max_task_depth = max_task_depth
        self.step_budget_seconds = step_budget_seconds
        self.value_max_depth = value_max_depth
        self.value_max_bytes = value_max_bytes
        self.workflow_cache = workflow_cache or WorkflowCache(0)
        self.script_engine = RestrictedScriptEngine()

    # ------------------------------------------------------------------ loading

    def model_for(self, session, definition_id: int) -> ProcessModel:
        """The parsed model of a definition (parsed once per process); ``session`` is an
        ORM session or a Core connection, read only when the model is not cached yet."""
        def load():
            return tuple(session.execute(select(ProcessDefinition.key, ProcessDefinition.bundle)
                                         .where(ProcessDefinition.id == definition_id)).one())
        return self.models.get(definition_id, load)

    def new_workflow(self, model: ProcessModel, variables: dict) -> BpmnWorkflow:
        """A fresh workflow whose start event carries ``variables``."""
        wf = BpmnWorkflow(model.spec, model.subprocess_specs, script_engine=self.script_engine)
        for task in wf.get_tasks(state=TaskState.READY):
            task.data.update(variables)
        return wf

    @staticmethod
    def message_catchers(wf: BpmnWorkflow, name: str, task_ids: set[str] | None = None) -> list:
        """Tasks of ``wf`` that wait for message ``name`` (only those in ``task_ids``, if given)."""
        return [task for task in wf.event_manager.tasks.values()
                if isinstance(getattr(task.task_spec, "event_definition", None), MessageEventDefinition)
                and task.task_spec.event_definition.name == name
                and (task_ids is None or str(task.id) in task_ids)]

    def catch_start_message(self, wf: BpmnWorkflow, name: str, payload: dict) -> None:
        """Deliver a message to a fresh workflow's message start event; the payload lands in the
        event's message variable only (engine/spiff.py), never merged over the start data."""
        wf.do_engine_steps()
        catchers = self.message_catchers(wf, name)
        if catchers:
            wf.catch(BpmnEvent(catchers[0].task_spec.event_definition, payload=dict(payload)))

    def fire_start_timer(self, wf: BpmnWorkflow) -> None:
        """Let a fresh workflow pass its timer start event now, exactly once.

        The scheduler owns the schedule (one instance per occurrence), so the
        start event must neither wait for its own timer nor, for cycles, spawn a
        branch per past occurrence: its timer state is seeded as "one cycle, due".
        """
        for task in wf.get_tasks():
            definition = getattr(task.task_spec, "event_definition", None)
            if task.task_spec in wf.spec.start.outputs and isinstance(definition, TimerEventDefinition):
                if isinstance(definition, CycleTimerEventDefinition):
                    task._set_internal_data(event_value={
                        "cycles": 1, "next": "2000-01-01T00:00:00+00:00", "duration": 1.0})
                else:
                    task._set_internal_data(event_value="2000-01-01T00:00:00+00:00", event_fired=True)
                return

    def load(self, instance: ProcessInstance, model: ProcessModel | None = None,
             session: Session | None = None) -> BpmnWorkflow:
        """Deserialize an instance's workflow (its spec comes from the model cache)."""
        if model is None:
            model = self.model_for(session or object_session(instance), instance.definition_id)
        wf = self.workflow_cache.take(instance.id, instance.state)
        if wf is not None:
            return wf
        wf = spiff.loads(instance.state, model)
        wf.script_engine = self.script_engine
        return wf

    # ------------------------------------------------------------------ stepping

    def advance(self, session: Session, instance: ProcessInstance, wf: BpmnWorkflow,
                model: ProcessModel, *, ready_before: set[str] | None = None,
                refresh_timers: bool = False, defer_task_rows: bool = False) -> StepOutcome:
        """Run engine steps, then persist state, task rows and status (no commit); once the
        caller's transaction commits, :meth:`remember` keeps ``wf`` and reports its next timer.

        ``ready_before`` are the ids of the human tasks that were READY (and so have
        ready rows) before the caller changed the workflow; when omitted they are
        read from the workflow now, which is right when the caller changed nothing
        yet. With ``defer_task_rows`` the caller writes ``outcome.new_tasks`` itself
        (:func:`engine.step_write.write_step`) after its own versioned UPDATE of the instance.
        This is :meth:`step` followed by :meth:`persist`.
        """
        outcome = self.step(instance, wf, model, ready_before=ready_before, refresh_timers=refresh_timers)
        self.persist(session, instance, wf, outcome, defer_task_rows=defer_task_rows)
        return outcome

    def step(self, instance, wf: BpmnWorkflow, model: ProcessModel, *, ready_before: set[str] | None = None,
             refresh_timers: bool = False) -> StepOutcome:
        """Run engine steps and work out what they changed, without touching the database.

        Sets the instance's written columns (state, status, variables, next timer,
        subscription fingerprint, …); the outcome lists the task rows to insert and to
        cancel, subscriptions to rewrite, outbox entries and an incident, which
        :meth:`persist` writes. ``outcome.only_step_write`` tells a caller that the
        instance row, the task rows and the audit events are all there is to write.
        """
        if ready_before is None:
            ready_before = self.ready_task_ids(wf)
        # A new instance has no committed state yet: its last good state is the one it starts with.
        first_state = spiff.dumps(wf) if not instance.state else None
        try:
            with budget.step_budget(self.step_budget_seconds):
                return self._step(instance, wf, model, ready_before, refresh_timers)
        except StepBudgetExceeded as exc:
            return self._discard(instance, wf, first_state, "step_budget", str(exc), {
                "bpmn_id": exc.element, "budget_seconds": exc.seconds})
        except ValueRejected as exc:
            exc.element = exc.element or _producer(wf, exc.variable)
            return self._discard(instance, wf, first_state, "invalid_value", exc.describe(), {
                "bpmn_id": exc.element, "variable": exc.variable})

    def _step(self, instance, wf, model, ready_before, refresh_timers) -> StepOutcome:
        incident = failed = None
        try:
            if refresh_timers:
                wf.refresh_timers()
            wf.do_engine_steps(did_complete_task=self._guard_depth)
            self._guard_hidden_completion(wf)
        except DepthExceeded as exc:
            incident = self._incident(instance, "depth_limit", str(exc), {})
        except (SpiffWorkflowException, ScriptRejected, ValueError, TypeError, KeyError,
                ZeroDivisionError, NameError, AttributeError, RecursionError, OverflowError,
                MemoryError) as exc:
            failed = exc
        task = getattr(failed, "task", None)
        bpmn_id = getattr(getattr(task, "task_spec", None), "bpmn_id", None)
        # budget.check records the first time it raises: past the deadline the step is over budget
        # whether SpiffWorkflow wrapped that exception or a script caught it and went on or failed.
        tripped = budget.tripped()
        if tripped is not None:
            raise StepBudgetExceeded(tripped.seconds, tripped.element or bpmn_id) from failed
        if failed is not None:
            incident = self._incident(instance, "script_error", _error_text(failed),
                                      {"bpmn_id": bpmn_id, "task_id": str(task.id) if task else None})

        # One walk of the tree (SpiffWorkflow's depth-limited iterator) serves the task
        # rows, the service jobs and the variables: each walk is ~3 % of a completion.
        live = [] if wf.is_completed() else wf.get_tasks(state=LIVE_STATES)
        outcome, ready_now = self._sync_tasks(instance, wf, model, ready_before, live)
        setattr(wf, _READY_ROWS, frozenset(ready_now))
        outcome.incident = incident
        outcome.outbox = self._service_jobs(live) + self._thrown_messages(instance, wf)
        if incident is not None:
            status = "error"
        elif wf.is_completed():
            status = "completed"
        elif ready_now:
            status = "running"
        else:
            status = "waiting"
        outcome.status = status
        self.save(instance, wf, status, error=incident.message if incident else None, live=live)
        outcome.subscriptions = self._subscriptions_change(instance, wf)
        return outcome

    def _discard(self, instance, wf, first_state: str | None, kind: str, message: str,
                 details: dict) -> StepOutcome:
        """Throw the step away: the instance keeps its last committed state (for a new one, the
        state it started with) and variables, goes to ``error`` with an incident, and waits for
        no timer (a timer step would otherwise fire again for ever); task rows stay as they are."""
        log.warning("instance %s: step discarded (%s): %s", instance.id, kind, message)
        if first_state is not None:
            instance.state = first_state
        instance.status = "error"
        instance.error = message
        instance.next_timer_at = None
        instance.ended_at = None
        outcome = StepOutcome(status="error", discarded=True)
        outcome.incident = self._incident(instance, kind, message, details)
        outcome.subscriptions = self._subscriptions_change(instance, wf)
        setattr(wf, _READY_ROWS, None)
        return outcome

    def persist(self, session: Session, instance, wf: BpmnWorkflow, outcome: StepOutcome, *,
                defer_task_rows: bool = False) -> None:
        """Write what :meth:`step` found, in ``session`` (no commit), and :meth:`remember`
        ``wf`` once it commits. The instance row itself: the ORM's versioned flush, or the
        caller's :func:`engine.step_write.write_step`."""
        if instance.id is None:
            session.add(instance)
            session.flush()
            for row in outcome.new_tasks:
                row.instance_id = instance.id
        if not defer_task_rows:
            # The unit of work flushes these after the instance's versioned UPDATE, so a
            # concurrent change of the instance loses on the version, not on a task id.
            session.add_all(TaskRecord(**vars(row)) for row in outcome.new_tasks)
        if outcome.closed_task_ids:
            session.execute(update(TaskRecord).where(
                TaskRecord.id.in_(outcome.closed_task_ids), TaskRecord.state == "ready",
            ).values(state="cancelled", completed_at=utcnow()).execution_options(synchronize_session="fetch"))
        if outcome.subscriptions is not None:
            self._write_subscriptions(session, instance, *outcome.subscriptions)
        if outcome.outbox:
            session.info["anjian_outbox"] = True
        for entry in outcome.outbox:
            entry.payload["instance_id"] = instance.id
            if entry.kind == "service_task":
                entry.dedupe_key = f"svc:{instance.id}:{entry.payload['task_id']}:{entry.payload['attempt']}"
            session.add(entry)
        if outcome.incident is not None:
            outcome.incident.instance_id = instance.id
            session.add(outcome.incident)
        self.remember_after_commit(session, instance, wf)

    def remember(self, instance, wf: BpmnWorkflow) -> None:
        """After a commit: keep ``wf`` for the instance's next step (see engine/workflow_cache.py),
        and tell the timer runner when the instance's next timer is due."""
        if instance.status in ACTIVE_STATUSES:
            self.workflow_cache.put(instance.id, instance.state, wf)
            if self.timer_set is not None and instance.next_timer_at is not None:
                self.timer_set(instance.next_timer_at)

    @staticmethod
    def remember_after_commit(session, instance, wf: BpmnWorkflow) -> None:
        """Ask the platform to :meth:`remember` ``wf`` once ``session`` has committed."""
        session.info.setdefault("anjian_remember", []).append((instance, wf))

    @staticmethod
    def insert_instance_row(connection, instance) -> int:
        """INSERT a new instance row from ``instance``'s attributes; sets and returns its id."""
        values = {c.key: getattr(instance, c.key, None) for c in INSTANCE_TABLE.c if c.key != "id"}
        instance.id = _INSERT_INSTANCE.first(connection, values)[0]
        return instance.id

    @staticmethod
    def ready_task_ids(wf: BpmnWorkflow) -> set[str]:
        """Ids of the READY human tasks (the ones that have ready rows).

        Call it on a workflow as loaded, before changing it: one that comes from the
        workflow cache answers with what its last step found, without a walk of the tree.
        """
        remembered = getattr(wf, _READY_ROWS, None)
        if remembered is not None:
            return set(remembered)
        return {str(t.id) for t in wf.get_tasks(state=TaskState.READY, manual=True)}

    def save(self, instance: ProcessInstance, wf: BpmnWorkflow, status: str, *, error: str | None = None,
             live: list | None = None) -> None:
        """Write serialized state, status, variables and next timer due onto the row
        (``live``: the workflow's tasks in ``LIVE_STATES``, when the caller has them)."""
        variables = self.variables(wf, live)
        value_domain.check(variables, max_depth=self.value_max_depth)
        try:
            text = jsoncodec.dumps(variables, default=str)
            value_domain.check_size(len(text), max_bytes=self.value_max_bytes)
            state = spiff.dumps(wf)
        except (TypeError, ValueError, OverflowError, RecursionError) as exc:
            if isinstance(exc, ValueRejected):
                raise
            # A value the variables do not show (data of a finished task) that JSON cannot hold.
            raise ValueRejected("(state)", f"the workflow state cannot be written as JSON: {exc}") from None
        instance.state = state
        instance.status = status
        instance.variables = jsoncodec.loads(text)
        # A permit keeps its register row current in the same write (engine/permits.py).
        register = permits.workflow_snapshot(instance.process_key, wf, status, live,
                                             getattr(instance, "register", None))
        instance.register = register
        instance.register_status = register["status"] if register is not None else None
        instance.next_timer_at = self.next_timer_due(wf) if status in ACTIVE_STATUSES else None
        if status in ("completed", "cancelled", "error"):
            instance.ended_at = utcnow() if status != "error" else None
        if status in ("completed", "cancelled"):
            instance.active_business_key = None
        instance.error = error

    @staticmethod
    def variables(wf: BpmnWorkflow, live: list | None = None) -> dict:
        """The process variables as people think of them (data of the live tasks, in tree order)."""
        if wf.is_completed():
            return dict(wf.data)
        merged: dict = dict(wf.data)
        for task in wf.get_tasks(state=LIVE_STATES) if live is None else live:
            merged.update(task.data)
        return merged

    @staticmethod
    def next_timer_due(wf: BpmnWorkflow) -> datetime | None:
        """Earliest due time of any waiting timer (drives the indexed poller)."""
        due = None
        for pending in wf.waiting_events():
            if pending.event_type not in TIMER_EVENT_TYPES or pending.value is None:
                continue
            value = pending.value
            try:
                if isinstance(value, dict):
                    if value.get("cycles", 1) == 0:
                        continue
                    when = datetime.fromisoformat(value["next"])
                else:
                    when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            except (ValueError, KeyError, TypeError):
                continue
            if when.tzinfo is None:
                when = when.replace(tzinfo=timezone.utc)
            due = when if due is None or when < due else due
        return due

    # ------------------------------------------------------------------ waiting and throwing

    def subscriptions(self, instance: ProcessInstance, wf: BpmnWorkflow) -> list[tuple[str, str, dict]]:
        """(task id, message name, correlation values) of every task waiting for a message."""
        out = []
        for task in wf.event_manager.tasks.values():
            definition = getattr(task.task_spec, "event_definition", None)
            if not isinstance(definition, MessageEventDefinition):
                continue
            corr = {}
            for key in CORRELATION_KEYS:
                value = task.data.get(key) if key != "business_key" else instance.business_key
                if value is None and key in ("area", "department"):
                    value = getattr(instance, key)
                if value not in (None, ""):
                    corr[key] = str(value)
            props = (getattr(task.task_spec, "extensions", None) or {}).get("properties", {})
            for key in filter(None, (k.strip() for k in props.get("correlation", "").split(","))):
                if task.data.get(key) not in (None, ""):
                    corr[key] = str(task.data[key])
            out.append((str(task.id), definition.name, corr))
        return sorted(out, key=lambda x: (x[0], x[1]))

    def sync_subscriptions(self, session, instance, wf) -> None:
        """Rewrite the instance's message subscriptions if the waiting catch events changed."""
        change = self._subscriptions_change(instance, wf)
        if change is not None:
            self._write_subscriptions(session, instance, *change)

    def _subscriptions_change(self, instance, wf) -> tuple[bool, list] | None:
        """(old rows to delete?, new subscriptions) when they changed, else None; sets the fingerprint."""
        subs = self.subscriptions(instance, wf) if instance.status in ACTIVE_STATUSES else []
        fp = hashlib.sha256(json.dumps(subs, sort_keys=True).encode()).hexdigest() if subs else None
        if fp == instance.subscriptions_fp:
            return None
        had_rows = instance.subscriptions_fp is not None
        instance.subscriptions_fp = fp
        return had_rows, subs

    @staticmethod
    def _write_subscriptions(session, instance, had_rows: bool, subs: list) -> None:
        if had_rows:
            session.execute(delete(MessageSubscription).where(MessageSubscription.instance_id == instance.id))
        rows = []
        for task_id, name, corr in subs:
            rows.append(MessageSubscription(instance_id=instance.id, task_id=task_id, message_name=name,
                                            corr_key="*", corr_value="*"))
            for key, value in corr.items():
                rows.append(MessageSubscription(instance_id=instance.id, task_id=task_id, message_name=name,
                                                corr_key=key, corr_value=value[:300]))
        session.add_all(rows)

    @staticmethod
    def _service_jobs(live: list) -> list[OutboxEntry]:
        """One outbox entry per service task that started and is not queued yet."""
        entries = []
        for task in live:
            if task.state != TaskState.STARTED or not isinstance(task.task_spec, DeferredServiceTask):
                continue
            attempt = task.internal_data.get("anjian_attempt", 1)
            if task.internal_data.get("anjian_queued") == attempt:
                continue
            task.internal_data["anjian_queued"] = attempt
            entries.append(OutboxEntry(kind="service_task", payload={
                "task_id": str(task.id), "bpmn_id": task.task_spec.bpmn_id,
                "operator": task.task_spec.operation_name, "attempt": attempt}))
        return entries

    @staticmethod
    def _thrown_messages(instance, wf: BpmnWorkflow) -> list[OutboxEntry]:
        """Messages a process threw that no task of its own caught: delivered after commit."""
        entries = []
        for event in wf.get_events():
            definition = event.event_definition
            if not isinstance(definition, MessageEventDefinition):
                continue
            payload = event.payload if isinstance(event.payload, dict) else {"value": event.payload}
            payload = json_data(payload)
            correlation = dict(payload.get("correlation") or {})
            for key in ("area", "department"):
                if key in payload and key not in correlation:
                    correlation[key] = payload[key]
            entries.append(OutboxEntry(kind="message", payload={
                "name": definition.name, "payload": payload, "correlation": correlation,
                "source_instance": instance.id}))
        return entries

    # ------------------------------------------------------------------ guards

    def _guard_depth(self, task) -> None:
        budget.check(task.task_spec.bpmn_id or task.task_spec.name)
        depth = task.depth
        if depth >= self.max_task_depth:
            raise DepthExceeded(
                f"task tree depth {depth} at '{task.task_spec.bpmn_id or task.task_spec.name}' reached the "
                f"limit {self.max_task_depth} (SpiffWorkflow stops iterating at 1000 and would report the "
                f"instance completed while work remains). Model periodic work as timer-started instances "
                f"or bounded loops.")

    @staticmethod
    def _guard_hidden_completion(wf: BpmnWorkflow) -> None:
        if not wf.is_completed():
            return
        for task in wf.tasks.values():
            if task.state & TaskState.NOT_FINISHED_MASK:
                raise DepthExceeded(
                    f"instance reports completed but task '{task.task_spec.name}' is {TaskState.get_name(task.state)}"
                    f" at depth {task.depth}: the task tree exceeded SpiffWorkflow's iteration depth")

    @staticmethod
    def _incident(instance, kind, message, details) -> Incident:
        return Incident(kind=kind, message=message, details=details, task_id=details.get("task_id"))

    # ------------------------------------------------------------------ tasks

    def _sync_tasks(self, instance, wf, model, ready_before: set[str], live: list):
        outcome = StepOutcome(status="")
        now = utcnow()
        ready_now = set()
        for task in live:
            if task.state != TaskState.READY or not task.task_spec.manual:
                continue
            tid = str(task.id)
            ready_now.add(tid)
            if tid not in ready_before:
                outcome.new_tasks.append(self._task_row(instance, task, model, now))
        outcome.closed_task_ids = sorted(ready_before - ready_now)
        return outcome, ready_now

    def _task_row(self, instance, task, model: ProcessModel, now) -> SimpleNamespace:
        spec = task.task_spec
        info = model.tasks.get((task.workflow.spec.name, spec.bpmn_id))
        props = dict(info.properties) if info else dict((getattr(spec, "extensions", {}) or {}).get("properties", {}))
        lane = info.lane if info else spec.lane
        role = self._candidate_role(task, props, info.role if info else None)
        return SimpleNamespace(
            id=str(task.id), instance_id=instance.id, bpmn_id=spec.bpmn_id,
            name=spec.bpmn_name or spec.bpmn_id, process_key=instance.process_key,
            business_key=instance.business_key, lane=lane, candidate_role=role,
            department=text_or_none(task.data.get("department")) or instance.department,
            area=text_or_none(task.data.get("area")) or instance.area,
            assignee=self._assignee(task, props), state="ready", form=props.get("formJsonSchemaFilename"),
            ui_form=props.get("formUiSchemaFilename"), properties=props,
            due_at=self._due(task, props, now), priority=self._priority(task, props), created_at=now,
            completed_at=None, completed_by=None,
        )

    def _due(self, task, props, now) -> datetime | None:
        expr = (props.get("due") or "").strip()
        if not expr:
            return None
        try:
            if expr.startswith("P"):
                parsed = TimerEventDefinition.parse_iso_duration(expr)
                return now + TimerEventDefinition.get_timedelta_from_start(parsed, now)
            value = self.script_engine.environment.evaluate(expr, dict(task.data))
        except Exception as exc:  # a bad due expression must not block the process
            log.warning("due expression %r of %s failed: %s", expr, task.task_spec.bpmn_id, exc)
            return None
        if isinstance(value, timedelta):
            return now + value
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        if isinstance(value, str):
            try:
                dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
                return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
            except ValueError:
                return None
        return None

    def _property_value(self, task, props, name: str):
        """The value of the task's ``name`` property expression in its data, or ``_UNSET`` when the
        property is absent or its expression fails (logged: a bad expression must not block the process)."""
        expr = (props.get(name) or "").strip()
        if not expr:
            return _UNSET
        try:
            return self.script_engine.environment.evaluate(expr, dict(task.data))
        except Exception as exc:
            log.warning("%s expression %r of %s failed: %s", name, expr, task.task_spec.bpmn_id, exc)
            return _UNSET

    def _candidate_role(self, task, props, lane_role: str | None) -> str | None:
        """The role a task is for: its lane's, unless the task's ``candidate_role`` expression names
        another known role when the task is created (a duty owned by a maintenance department is
        for its maintenance post). Anything else (an error, an unknown role) keeps the lane's role."""
        value = self._property_value(task, props, "candidate_role")
        if value is _UNSET:
            return lane_role
        if value in ROLES:
            return value
        log.warning("candidate_role %r of %s is not a role; the lane's role %s applies", value,
                    task.task_spec.bpmn_id, lane_role)
        return lane_role

    def _assignee(self, task, props) -> str | None:
        """The user named by the task's ``assignee`` expression, evaluated when the task is created.

        Anything but the name of an active user (no property, an empty value, an error, an unknown
        user) leaves the task unassigned, so the lane's role can still claim it.
        """
        value = self._property_value(task, props, "assignee")
        if not isinstance(value, str) or not value.strip():
            return None
        value = value.strip()
        if self.user_exists is not None and not self.user_exists(value):
            log.warning("assignee %r of %s is not an active user; left unassigned", value, task.task_spec.bpmn_id)
            return None
        return value

    def _priority(self, task, props) -> int:
        raw = (props.get("priority") or "").strip()
        if not raw:
            return 50
        if raw.lstrip("-").isdigit():
            return int(raw)
        try:
            return int(self.script_engine.environment.evaluate(raw, dict(task.data)))
        except Exception:
            return 50


def _producer(wf: BpmnWorkflow, variable: str) -> str | None:
    """The element that set ``variable`` last: the latest finished task holding it whose parent
    does not hold the same value (only asked on the failure path)."""
    best = None
    for task in wf.get_tasks():
        if variable not in task.data or not task.task_spec.bpmn_id:
            continue
        parent = task.parent
        if parent is not None and variable in parent.data and _same(parent.data[variable], task.data[variable]):
            continue
        if best is None or task.last_state_change >= best.last_state_change:
            best = task
    return best.task_spec.bpmn_id if best is not None else None


def _same(a, b) -> bool:
    try:
        return a is b or bool(a == b)
    except Exception:
        return False


def _error_text(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    notes = getattr(exc, "__notes__", None) or getattr(exc, "notes", None)
    if notes:
        text += " (" + "; ".join(str(n) for n in notes) + ")"
    return text
