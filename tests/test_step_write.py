"""The writes of one step: all or nothing, on the combined PostgreSQL statement and one by one."""
import uuid
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from engine import audit
from engine.models import AuditEvent, ProcessInstance, TaskRecord, utcnow
from engine.principal import Principal
from engine.step_write import INSTANCE_WRITTEN, MAX_COMBINED_EVENTS, MAX_COMBINED_TASKS, TASK_COLUMNS, write_step
from tests.processes import permit_files

PROD = Principal("prod1", frozenset({"production"}), "workshop-1")


def _started(platform):
    platform.deployments.deploy({k: v.encode() for k, v in permit_files().items()}, "designer1")
    inst = platform.instances.start(PROD, "permit", f"step-{uuid.uuid4().hex[:6]}")
    return inst["id"]


def _stored(platform, inst_id):
    """Everything a step could change, as stored."""
    with platform.db.session(write=False) as s:
        inst = s.get(ProcessInstance, inst_id)
        tasks = s.scalars(select(TaskRecord).where(TaskRecord.instance_id == inst_id)).all()
        return {
            "instance": {f: getattr(inst, f) for f in ("row_version", *INSTANCE_WRITTEN)},
            "tasks": sorted((t.id, t.bpmn_id, t.state, t.completed_by) for t in tasks),
            "events": s.scalar(select(func.count()).select_from(AuditEvent)),
        }


def _loaded(s, inst_id):
    inst = s.get(ProcessInstance, inst_id)
    ready = s.scalars(select(TaskRecord).where(TaskRecord.instance_id == inst_id,
                                               TaskRecord.state == "ready")).one()
    row = SimpleNamespace(**{f: getattr(inst, f) for f in ("id", "row_version", *INSTANCE_WRITTEN)})
    return row, ready


def _new_rows(inst_id, template, n):
    rows = []
    for i in range(n):
        row = {c: getattr(template, c) for c in TASK_COLUMNS}
        row.update(id=str(uuid.uuid4()), bpmn_id=f"extra_{i}", name=f"并行任务 {i}", created_at=utcnow())
        rows.append(row)
    return rows


def _changed(row):
    row.state = row.state + " "           # a visible change of the big column
    row.variables = {**(row.variables or {}), "step_write_test": True}


def test_a_step_that_lost_the_version_race_writes_nothing_even_when_committed(platform):
    inst_id = _started(platform)
    before = _stored(platform, inst_id)
    with platform.db.session() as s:        # committed on exit: only the guard keeps the rows out
        row, ready = _loaded(s, inst_id)
        _changed(row)
        events = [audit.prepare(row, actor="prod1", kind="complete", task_id=ready.id)]
        written = write_step(s.connection(), row, row.row_version - 1, new_tasks=_new_rows(inst_id, ready, 2),
                             events=events, close_task={"id": ready.id, "completed_at": utcnow(),
                                                        "completed_by": "prod1"})
    assert (written.instance_saved, written.task_closed) == (False, False)
    assert _stored(platform, inst_id) == before


def test_a_step_whose_task_is_no_longer_ready_says_so_and_the_caller_rolls_it_back(platform):
    inst_id = _started(platform)
    before = _stored(platform, inst_id)
    with pytest.raises(RuntimeError):
        with platform.db.session() as s:
            row, ready = _loaded(s, inst_id)
            _changed(row)
            written = write_step(s.connection(), row, row.row_version, new_tasks=_new_rows(inst_id, ready, 1),
                                 events=[audit.prepare(row, actor="prod1", kind="complete")],
                                 close_task={"id": str(uuid.uuid4()), "completed_at": utcnow(),
                                             "completed_by": "prod1"})
            assert not written.task_was_ready and not written.task_closed
            raise RuntimeError("roll back, as TaskService.complete does with a 409")
    assert _stored(platform, inst_id) == before


def test_on_postgresql_a_step_needs_no_transaction_to_write_all_or_nothing(platform):
    # TaskService.complete writes on an autocommit connection on PostgreSQL: a step
    # whose task is no longer ready must leave the instance row as it was, with no
    # rollback to help. SQLite has no such connection.
    if not platform.db.has_atomic_step_writes:
        with pytest.raises(RuntimeError):
            with platform.db.autocommit():
                pass
        return
    inst_id = _started(platform)
    before = _stored(platform, inst_id)
    with platform.db.autocommit() as conn:
        with platform.db.session(write=False) as s:
            row, ready = _loaded(s, inst_id)
            new_rows = _new_rows(inst_id, ready, 1)
        _changed(row)
        written = write_step(conn, row, row.row_version, new_tasks=new_rows,
                             events=[audit.prepare(row, actor="prod1", kind="complete")],
                             close_task={"id": str(uuid.uuid4()), "completed_at": utcnow(), "completed_by": "prod1"})
    assert (written.instance_saved, written.task_closed, written.task_was_ready) == (False, False, False)
    assert _stored(platform, inst_id) == before


@pytest.mark.parametrize("n_tasks, n_events", [(0, 1), (2, 2), (MAX_COMBINED_TASKS + 2, MAX_COMBINED_EVENTS + 1)])
def test_a_step_writes_every_row_whatever_its_width(platform, n_tasks, n_events):
    # Up to the bounds PostgreSQL gets one combined statement; wider steps (a parallel
    # gateway opening six tasks) run statement by statement, with the same result.
    inst_id = _started(platform)
    before = _stored(platform, inst_id)
    now = utcnow()
    with platform.db.session() as s:
        row, ready = _loaded(s, inst_id)
        _changed(row)
        new_rows = _new_rows(inst_id, ready, n_tasks)
        events = [audit.prepare(row, actor="prod1", kind="complete", task_id=ready.id, data={"i": i})
                  for i in range(n_events)]
        written = write_step(s.connection(), row, row.row_version, new_tasks=new_rows, events=events,
                             close_task={"id": ready.id, "completed_at": now, "completed_by": "prod1"})
        assert (written.instance_saved, written.task_closed) == (True, True)
        assert row.row_version == before["instance"]["row_version"] + 1
    after = _stored(platform, inst_id)
    assert after["instance"]["row_version"] == before["instance"]["row_version"] + 1
    assert after["instance"]["state"] == row.state and after["instance"]["variables"]["step_write_test"] is True
    assert after["instance"]["audit_seq"] == before["instance"]["audit_seq"] + n_events
    assert after["events"] == before["events"] + n_events
    expected = [t if t[0] != ready.id else (t[0], t[1], "completed", "prod1") for t in before["tasks"]]
    expected += [(r["id"], r["bpmn_id"], "ready", None) for r in new_rows]
    assert after["tasks"] == sorted(expected)
    assert platform.audit.verify().ok         # the events joined the instance's chain in order


def test_every_combined_step_write_stays_on_the_drivers_statement_cache():
    """psycopg re-parses a statement beyond its cache bounds on every execution (about 1.5 ms of a
    completion's CPU once the audit key id made the common shape 51 parameters): every shape the
    combined write can take must fit the bounds engine.prepared sets."""
    from psycopg import _queries
    from sqlalchemy.dialects import postgresql

    from engine import step_write

    dialect = postgresql.psycopg.dialect()
    for tasks in range(step_write.MAX_COMBINED_TASKS + 1):
        for events in range(1, step_write.MAX_COMBINED_EVENTS + 1):
            for closes in (False, True):
                p = step_write._combined(tasks, events, closes)
                c = p.statement.compile(dialect=dialect, column_keys=p.column_keys)
                assert len(c.bind_names) <= _queries.MAX_CACHED_STATEMENT_PARAMS, (tasks, events, closes)
                assert len(c.string) <= _queries.MAX_CACHED_STATEMENT_LENGTH, (tasks, events, closes)
