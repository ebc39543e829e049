"""Timer start events: one instance per occurrence, started by the scheduler.

A process whose start event has a timer (``timeDate``, ``timeDuration`` or
``timeCycle`` such as ``R/2026-12-01T08:00:00+08:00/P1D`` for daily rounds) gets
a ``timer_starts`` row when its version is deployed. The scheduler finds due
rows by an indexed time and starts one instance per occurrence (business key
``<process>@<due time>``), moving the row to the next occurrence in the same
transaction, so two schedulers never start the same occurrence twice. Missed
occurrences (the plant was down) are not replayed: the next one is the first
due after now. Periodic work stays bounded this way instead of looping inside
one instance (DESIGN.md, depth hazard).
"""
from __future__ import annotations

import ast
import logging
from datetime import datetime, timedelta, timezone

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from sqlalchemy import delete, select, update

from engine.models import ProcessDefinition, TimerStart, utcnow
from engine.principal import SYSTEM

log = logging.getLogger(__name__)


def first_occurrence(kind: str, expression: str, now: datetime) -> tuple[datetime | None, int, float | None]:
    """(next due, remaining occurrences (-1 forever), interval seconds) of a timer expression."""
    value = ast.literal_eval(expression.strip())
    if kind == "date":
        return TimerEventDefinition.get_datetime(value), 1, None
    if kind == "duration":
        parsed = TimerEventDefinition.parse_iso_duration(value)
        return now + TimerEventDefinition.get_timedelta_from_start(parsed, now), 1, None
    cycles, start, duration = TimerEventDefinition.parse_iso_recurring_interval(value)
    if start.tzinfo is None:
        start = start.replace(tzinfo=timezone.utc)
    seconds = duration.total_seconds()
    if seconds <= 0:
        raise ValueError("a timer cycle needs a positive interval")
    due, remaining = start, cycles
    if due < now:
        skipped = int((now - due).total_seconds() // seconds) + 1
        due = due + timedelta(seconds=seconds * skipped)
        if remaining > 0:
            remaining = max(remaining - skipped, 0)
    return (due if remaining != 0 else None), remaining, seconds


def register(session, definition: ProcessDefinition, starts: list[tuple[str, str, str]]) -> None:
    """Point the process key's schedule at a newly deployed version (or drop it)."""
    session.execute(delete(TimerStart).where(TimerStart.process_key == definition.key))
    if not starts:
        return
    event_id, kind, expression = starts[0]  # one timer start per process is what the modelers draw
    due, remaining, interval = first_occurrence(kind, expression, utcnow())
    session.add(TimerStart(process_key=definition.key, definition_id=definition.id, start_event_id=event_id,
                           kind=kind, expression=expression, next_due_at=due, remaining=remaining,
                           interval_seconds=interval))


class TimerStartService:
    """Finds due timer starts and starts their instances exactly once."""

    def __init__(self, db, instances):
        self.db = db
        self.instances = instances

    def due(self, now: datetime | None = None, limit: int = 100) -> list[tuple[int, datetime]]:
        """(schedule id, due time) of every timer start that is due."""
        now = now or utcnow()
        with self.db.session(write=False) as s:
            return [(r[0], r[1]) for r in s.execute(select(TimerStart.id, TimerStart.next_due_at).where(
                TimerStart.next_due_at <= now).order_by(TimerStart.next_due_at).limit(limit))]

    def fire(self, schedule_id: int, due: datetime) -> dict | None:
        """Start the occurrence ``due`` of a schedule; None if it was already started."""
        with self.db.session() as s:
            row = s.get(TimerStart, schedule_id)
            if row is None or row.next_due_at is None or row.next_due_at != due:
                return None
            remaining = row.remaining - 1 if row.remaining > 0 else row.remaining
            next_due = None
            if row.kind == "cycle" and remaining != 0 and row.interval_seconds:
                next_due = due + timedelta(seconds=row.interval_seconds)
                now = utcnow()
                while next_due <= now:  # do not replay occurrences missed while down
                    next_due += timedelta(seconds=row.interval_seconds)
            res = s.execute(update(TimerStart).where(TimerStart.id == schedule_id, TimerStart.next_due_at == due)
                            .values(next_due_at=next_due, remaining=remaining, last_fired_at=utcnow()))
            if res.rowcount != 1:
                return None
            definition = s.get(ProcessDefinition, row.definition_id)
            business_key = f"{definition.key}@{due.isoformat(timespec='minutes')}"
            # scheduled_at is the engine's value (the occurrence), not starter input: no declaration needed.
            return self.instances.start_in(s, SYSTEM, definition, business_key, None, start_timer=True,
                                           engine_variables={"scheduled_at": due.isoformat()})

    def fire_due(self, now: datetime | None = None) -> int:
        """Fire every due occurrence (embedded mode and tests); returns how many started."""
        started = 0
        for schedule_id, due in self.due(now):
            try:
                if self.fire(schedule_id, due) is not None:
                    started += 1
            except Exception:  # one broken schedule must not stop the others (it stays due; logged)
                log.exception("timer start %s due %s failed", schedule_id, due)
        return started
