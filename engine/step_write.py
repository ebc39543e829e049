"""The writes that commit one step of an instance, in one statement on PostgreSQL.

A step (a start, a task completion) writes the instance row under its version
check, closes the completed task row, inserts the new task rows and appends the
audit events. As four statements that is four round trips, four executions in
the driver and four in PostgreSQL, and on a completion the driver's share alone
was a fifth of the request's CPU (bench/README.md, round 5).

On PostgreSQL the four are one statement of data-modifying CTEs. Every part but
the instance UPDATE is guarded by ``EXISTS (the updated instance)``, so a step
that lost the version race writes nothing at all, and the instance row is locked
first, as before: concurrent completions of one task queue on that row lock and
lose with a 409 before any task row or event of theirs exists. Elsewhere (SQLite)
and for steps that open many tasks at once (a wide parallel gateway, a
multi-instance task) the statements run one by one, with the same outcome.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from sqlalchemy import bindparam, func, insert, select, true, union_all, update
from sqlalchemy.engine import Connection

from engine.models import AuditEvent, ProcessInstance, TaskRecord
from engine.prepared import Prepared

INSTANCE_TABLE = ProcessInstance.__table__
TASK_TABLE = TaskRecord.__table__
EVENT_TABLE = AuditEvent.__table__
# What the runner and the audit chain write on every change of an instance.
INSTANCE_WRITTEN = ("state", "status", "variables", "next_timer_at", "ended_at", "active_business_key", "error",
                    "subscriptions_fp", "audit_hash", "audit_seq", "register_status", "register")
TASK_COLUMNS = tuple(c.key for c in TASK_TABLE.c)
EVENT_COLUMNS = ("chain", "chain_seq", "at", "actor", "kind", "instance_id", "task_id", "data", "data_digest",
                 "prev_hash", "hash", "key_id")
CLOSE_COLUMNS = ("state", "completed_at", "completed_by")
# Statement shapes kept per (new tasks, events, closes a task): a step beyond these
# bounds is rare and runs statement by statement rather than growing the cache.
MAX_COMBINED_TASKS = 4
MAX_COMBINED_EVENTS = 3

_UPDATE_INSTANCE = Prepared(update(INSTANCE_TABLE).where(INSTANCE_TABLE.c.id == bindparam("p_id"),
                                                         INSTANCE_TABLE.c.row_version == bindparam("p_version")),
                            column_keys=("row_version", *INSTANCE_WRITTEN))
_CLOSE_READY_TASK = Prepared(update(TASK_TABLE).where(TASK_TABLE.c.id == bindparam("p_id"),
                                                      TASK_TABLE.c.state == "ready"),
                             column_keys=CLOSE_COLUMNS)
_INSERT_TASKS = Prepared(insert(TASK_TABLE), column_keys=TASK_COLUMNS)
_INSERT_EVENTS = Prepared(insert(EVENT_TABLE), column_keys=EVENT_COLUMNS)


@dataclass(frozen=True)
class StepWritten:
    """What a step's write found: whether its version check won and the task it closes
    was still ready (then both are written), or which of the two failed."""

    instance_saved: bool
    task_closed: bool
    task_was_ready: bool = True


def write_step(connection: Connection, instance: Any, expected_version: int, *,
               new_tasks: Sequence[dict] = (), events: Sequence[dict] = (),
               close_task: dict | None = None) -> StepWritten:
    """Write one step of ``instance`` in the caller's transaction.

    ``instance`` carries the columns in ``INSTANCE_WRITTEN``; its row is updated only
    if its ``row_version`` is still ``expected_version`` (then ``instance.row_version``
    becomes ``expected_version + 1``). ``close_task`` is ``{"id", "completed_at",
    "completed_by"}`` of a task that must still be ready; ``new_tasks`` are full task
    rows and ``events`` prepared audit events (:func:`engine.audit.prepare`).

    When the answer is not ``instance_saved and task_closed`` (for a step that closes a
    task) the caller must roll back: on the one-by-one path earlier statements of the
    step may have run. The combined statement writes nothing at all then, also when
    the task is no longer ready (the instance update requires it), so on PostgreSQL the
    step may run on an autocommit connection (:meth:`engine.db.Database.autocommit`).
    """
    if (connection.dialect.name == "postgresql" and len(new_tasks) <= MAX_COMBINED_TASKS
            and len(events) <= MAX_COMBINED_EVENTS):
        statement = _combined(len(new_tasks), len(events), close_task is not None)
        params = dict(zip(_INSTANCE_NAMES, (instance.id, expected_version, expected_version + 1,
                                            *[getattr(instance, f) for f in INSTANCE_WRITTEN])))
        if close_task is not None:
            params.update(c_id=close_task["id"], c_state="completed", c_completed_at=close_task["completed_at"],
                          c_completed_by=close_task["completed_by"])
        for names, row in zip(_TASK_NAMES, new_tasks):
            params.update(zip(names, [row[k] for k in TASK_COLUMNS]))
        for names, event in zip(_EVENT_NAMES, events):
            params.update(zip(names, [event[k] for k in EVENT_COLUMNS]))
        saved, closed, was_ready = statement.first(connection, params)
        written = StepWritten(saved == 1, close_task is None or closed == 1, bool(was_ready))
    else:
        params = {"p_id": instance.id, "p_version": expected_version, "row_version": expected_version + 1,
                  **{f: getattr(instance, f) for f in INSTANCE_WRITTEN}}
        written = _one_by_one(connection, params, new_tasks, events, close_task)
    if written.instance_saved:
        instance.row_version = expected_version + 1
    return written


def _one_by_one(connection, params, new_tasks, events, close_task) -> StepWritten:
    if _UPDATE_INSTANCE.execute(connection, params) != 1:
        return StepWritten(False, False)
    if close_task is not None and _CLOSE_READY_TASK.execute(connection, {
            "p_id": close_task["id"], "state": "completed", "completed_at": close_task["completed_at"],
            "completed_by": close_task["completed_by"]}) != 1:
        return StepWritten(True, False, False)
    _INSERT_TASKS.executemany(connection, list(new_tasks))
    _INSERT_EVENTS.executemany(connection, list(events))
    return StepWritten(True, True)


_COMBINED: dict[tuple[int, int, bool], Prepared] = {}
# Parameter names of the combined statement, built once.
_INSTANCE_NAMES = ("i_p_id", "i_p_version", "i_row_version", *[f"i_{f}" for f in INSTANCE_WRITTEN])
_TASK_NAMES = [[f"t{i}_{c}" for c in TASK_COLUMNS] for i in range(MAX_COMBINED_TASKS)]
_EVENT_NAMES = [[f"e{i}_{c}" for c in EVENT_COLUMNS] for i in range(MAX_COMBINED_EVENTS)]


def _combined(n_tasks: int, n_events: int, closes: bool) -> Prepared:
    key = (n_tasks, n_events, closes)
    found = _COMBINED.get(key)
    if found is None:
        found = _COMBINED[key] = Prepared(_build_combined(n_tasks, n_events, closes))
    return found


def _build_combined(n_tasks: int, n_events: int, closes: bool):
    conditions = [INSTANCE_TABLE.c.id == bindparam("i_p_id"), INSTANCE_TABLE.c.row_version == bindparam("i_p_version")]
    task_ready = (select(TASK_TABLE.c.id).where(TASK_TABLE.c.id == bindparam("c_id"), TASK_TABLE.c.state == "ready")
                  .exists())
    if closes:
        # A task that is no longer ready stops the whole step, instance row included.
        conditions.append(task_ready)
    written = (update(INSTANCE_TABLE)
               .where(*conditions)
               .values({name: bindparam(f"i_{name}") for name in ("row_version", *INSTANCE_WRITTEN)})
               .returning(INSTANCE_TABLE.c.id)
               .cte("written_instance"))
    guard = select(written.c.id).exists()
    counts = [select(func.count()).select_from(written).scalar_subquery()]
    if closes:
        closed = (update(TASK_TABLE)
                  .where(TASK_TABLE.c.id == bindparam("c_id"), TASK_TABLE.c.state == "ready", guard)
                  .values({name: bindparam(f"c_{name}") for name in CLOSE_COLUMNS})
                  .returning(TASK_TABLE.c.id)
                  .cte("closed_task"))
        counts += [select(func.count()).select_from(closed).scalar_subquery(), task_ready]
    else:
        counts += [select(func.count()).select_from(written).scalar_subquery(), true()]
    inserts = []
    for table, columns, prefix, n in ((TASK_TABLE, TASK_COLUMNS, "t", n_tasks),
                                      (EVENT_TABLE, EVENT_COLUMNS, "e", n_events)):
        if not n:
            continue
        # The psycopg dialect casts each parameter to its column's type without a
        # length (``::VARCHAR``), so an over-long value fails as in a plain INSERT.
        rows = [select(*[bindparam(f"{prefix}{i}_{c}", type_=table.c[c].type) for c in columns]).where(guard)
                for i in range(n)]
        inserts.append(insert(table).from_select(list(columns), rows[0] if n == 1 else union_all(*rows))
                       .cte(f"new_{table.name}"))
    statement = select(*counts)
    return statement.add_cte(*inserts) if inserts else statement
