"""Message delivery: correlate by indexed values, catch, advance.

A message reaches every instance waiting for it (message catch event, receive
task, message boundary event) whose correlation values all match, and starts
an instance of every process whose start event catches it. Correlation values
``area``, ``department`` and ``business_key`` are always indexed; a catching
event may add keys with the property ``correlation`` (see bpmn/README.md).
The same function serves ``POST /api/v1/messages``, messages thrown by
processes (relayed through the outbox) and connectors such as IoT alerts.
The payload lands in the catching event's message variable only (its
``spiffworkflow:messageVariable``, default the message name; engine/spiff.py);
a started instance takes its declared correlation values as start variables
(engine/start_contract.py).
"""
from __future__ import annotations

import json
import time

from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from engine import audit
from engine.db import Database
from engine.errors import Conflict, Invalid, NotFound
from engine.models import (
    MessageDelivery,
    MessageStartEvent,
    MessageSubscription,
    ProcessDefinition,
    ProcessInstance,
)
from engine.principal import Principal
from engine.runner import ACTIVE_STATUSES, Runner

MAX_ATTEMPTS = 8


class MessageService:
    """Delivers named messages to waiting instances and message start events."""

    def __init__(self, db: Database, runner: Runner, instances):
        self.db = db
        self.runner = runner
        self.instances = instances

    def deliver(self, principal: Principal, name: str, *, correlation: dict | None = None,
                business_key: str | None = None, payload: dict | None = None,
                message_id: str | None = None, instances=None) -> dict:
        """Deliver ``name``; answer ``{name, instances: [...]}`` or raise NotFound when nothing waits.

        ``instances``: only these waiting instances (the alarm path tells the permits a decision table
        names, not every process of the area), and no process is started by it."""
        correlation = dict(correlation or {})
        payload = dict(payload or {})
        self._validate(name, correlation, payload)
        if message_id:
            previous = self._claim_message_id(message_id, name)
            if previous is not None:
                return {**previous, "duplicate": True}
        try:
            result = self._deliver(principal, name, correlation, business_key, payload,
                                   None if instances is None else {int(i) for i in instances})
        except Exception:
            if message_id:
                self._release_message_id(message_id)
            raise
        if message_id:
            with self.db.session() as s:
                row = s.get(MessageDelivery, message_id)
                row.result = result
        return result

    # ------------------------------------------------------------------ internals

    @staticmethod
    def _validate(name, correlation, payload) -> None:
        errors = []
        if not isinstance(name, str) or not name.strip():
            errors.append({"field": "name", "message": "a message name is required"})
        for key, value in correlation.items():
            if not isinstance(value, (str, int, float, bool)):
                errors.append({"field": f"correlation.{key}", "message": "must be a string or number"})
        try:
            json.dumps(payload)
        except (TypeError, ValueError):
            errors.append({"field": "payload", "message": "must be JSON"})
        if errors:
            raise Invalid("invalid message", errors=errors)

    def _claim_message_id(self, message_id: str, name: str) -> dict | None:
        for _ in range(50):
            try:
                with self.db.session() as s:
                    s.add(MessageDelivery(message_id=message_id, name=name, result=None))
                return None
            except IntegrityError:
                with self.db.session(write=False) as s:
                    row = s.get(MessageDelivery, message_id)
                    if row is not None and row.result is not None:
                        return row.result
                time.sleep(0.1)  # the first delivery is still running
        raise Conflict(f"message {message_id} is being delivered; retry", retryable=True)

    def _release_message_id(self, message_id: str) -> None:
        with self.db.session() as s:
            row = s.get(MessageDelivery, message_id)
            if row is not None and row.result is None:
                s.delete(row)

    def _deliver(self, principal, name, correlation, business_key, payload, only=None) -> dict:
        keys = {k: str(v) for k, v in correlation.items()}
        if business_key:
            keys["business_key"] = str(business_key)
        targets = self._waiting(name, keys)
        if only is not None:
            targets = {i: t for i, t in targets.items() if i in only}
        reached = []
        for instance_id, task_ids in sorted(targets.items()):
            entry = self._deliver_to_instance(principal, instance_id, task_ids, name, payload, keys)
            if entry is not None:
                reached.append(entry)
        for definition_id, key in (self._start_definitions(name) if only is None else ()):
            # The payload lands in the start event's message variable; the correlation values the
            # process declares as start variables (its scope, area/department) are its start variables.
            started = self.instances.start(principal, key, business_key, None, start_message=(name, payload),
                                           definition_id=definition_id, correlation=correlation)
            reached.append({"id": started["id"], "process_key": key, "status": started["status"], "started": True})
        if not reached:
            raise NotFound(f"no instance is waiting for message '{name}' with correlation {keys or '{}'} "
                           f"and no process starts with it")
        return {"name": name, "correlation": keys, "instances": reached}

    def _waiting(self, name: str, keys: dict[str, str]) -> dict[int, set[str]]:
        with self.db.session(write=False) as s:
            if not keys:
                rows = s.execute(select(MessageSubscription.instance_id, MessageSubscription.task_id).where(
                    MessageSubscription.message_name == name, MessageSubscription.corr_key == "*")).all()
                pairs = {(r[0], r[1]) for r in rows}
            else:
                pairs = None
                for key, value in keys.items():
                    rows = s.execute(select(MessageSubscription.instance_id, MessageSubscription.task_id).where(
                        MessageSubscription.message_name == name, MessageSubscription.corr_key == key,
                        MessageSubscription.corr_value == value)).all()
                    found = {(r[0], r[1]) for r in rows}
                    pairs = found if pairs is None else pairs & found
                    if not pairs:
                        break
        out: dict[int, set[str]] = {}
        for instance_id, task_id in pairs or ():
            out.setdefault(instance_id, set()).add(task_id)
        return out

    def _deliver_to_instance(self, principal, instance_id, task_ids, name, payload, keys) -> dict | None:
        for attempt in range(MAX_ATTEMPTS):
            try:
                with self.db.session() as s:
                    inst = s.get(ProcessInstance, instance_id)
                    if inst is None or inst.status not in ACTIVE_STATUSES:
                        return None
                    model = self.runner.model_for(s, inst.definition_id)
                    wf = self.runner.load(inst)
                    waiting = [t for t in self.runner.message_catchers(wf, name, task_ids)
                               if t.state == TaskState.WAITING]
                    if not waiting:
                        return None
                    ready_before = self.runner.ready_task_ids(wf)
                    # The payload lands in the catching event's message variable (engine/spiff.py),
                    # never merged over the instance's variables.
                    wf.catch(BpmnEvent(waiting[0].task_spec.event_definition, payload=dict(payload)))
                    outcome = self.runner.advance(s, inst, wf, model, ready_before=ready_before)
                    audit.append(s, actor=principal.username, kind="message", instance_id=inst.id,
                                 data={"name": name, "correlation": keys, "payload": payload})
                    return {"id": inst.id, "process_key": inst.process_key, "status": outcome.status,
                            "started": False}
            except StaleDataError:
                time.sleep(0.01 * (attempt + 1))
        raise Conflict(f"instance {instance_id} kept changing while delivering '{name}'; retry", retryable=True)

    def _start_definitions(self, name: str) -> list[tuple[int, str]]:
        with self.db.session(write=False) as s:
            latest = select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("v")) \
                .group_by(ProcessDefinition.key).subquery()
            rows = s.execute(select(ProcessDefinition.id, ProcessDefinition.key)
                             .join(MessageStartEvent, MessageStartEvent.definition_id == ProcessDefinition.id)
                             .join(latest, (ProcessDefinition.key == latest.c.key)
                                   & (ProcessDefinition.version == latest.c.v))
                             .where(MessageStartEvent.message_name == name)).all()
        return [(r[0], r[1]) for r in rows]
