"""User tasks: list, claim, assign, complete — with role, scope and SoD checks.

Lists read the ``tasks`` table only; completing a task is the life of a
request in DESIGN.md: check → validate the form → load → run → one transaction.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from uuid import UUID

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.orm.exc import StaleDataError

from engine import audit, form_schema, form_validation, submission
from engine.computed_fields import split_list
from engine.db import Database
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.instances import task_summary
from engine.models import ProcessInstance, TaskRecord, User, UserRole, utcnow
from engine.prepared import Prepared, csv_agg
from engine.principal import Principal
from engine.roles import ASSIGNER_ROLES, GLOBAL_SCOPE_ROLES
from engine.runner import Runner
from engine.step_write import INSTANCE_WRITTEN, write_step
from engine.values import json_data

TASK_STATES = ("ready", "completed", "cancelled")
TASK_TABLE = TaskRecord.__table__
INSTANCE_TABLE = ProcessInstance.__table__
INSTANCE_READ_COLUMNS = tuple(INSTANCE_TABLE.c[name] for name in ("id", "definition_id", "process_key", "definition_version",
                                           "business_key", "department", "area", "row_version", "started_at")
                                                                       + INSTANCE_WRITTEN)
SUMMARY_TABLE_COLUMNS = tuple(TASK_TABLE.c[name] for name in (
    "id", "bpmn_id", "name", "instance_id", "process_key", "business_key", "candidate_role", "assignee", "state",
    "department", "area", "due_at", "priority", "created_at", "completed_at", "completed_by"))
SORTS = {"created": TaskRecord.created_at, "due": TaskRecord.due_at, "priority": TaskRecord.priority}

# The completion's statements run through engine.prepared (compiled once, executed on the
# DBAPI cursor; bench/README.md "Round 3"). The first one reads the task, its instance, and
# which tasks of the instance the caller already completed (segregation of duties) in one
# round trip.
_DONE = TASK_TABLE.alias("done")
_DONE_BY_CALLER = (select(csv_agg(_DONE.c.bpmn_id))
                   .where(_DONE.c.instance_id == TASK_TABLE.c.instance_id, _DONE.c.state == "completed",
                          _DONE.c.completed_by == bindparam("p_user"))
                   .scalar_subquery())
_LOAD_FOR_COMPLETE = Prepared(select(*TASK_TABLE.c, *INSTANCE_READ_COLUMNS, _DONE_BY_CALLER)
                              .join(INSTANCE_TABLE, INSTANCE_TABLE.c.id == TASK_TABLE.c.instance_id)
                              .where(TASK_TABLE.c.id == bindparam("p_task_id")))
_TASK_COLUMN_NAMES = tuple(c.name for c in TASK_TABLE.c)
_INSTANCE_READ_NAMES = tuple(c.name for c in INSTANCE_READ_COLUMNS)


class TaskService:
    """Everything an employee does with a task."""

    def __init__(self, db: Database, runner: Runner, user_exists):
        self.db = db
        self.runner = runner
        self._user_exists = user_exists
        self._validators: dict[int, object] = {}
        self._list_statements: dict[tuple, tuple] = {}

    # ------------------------------------------------------------------ queries

    def list(self, principal: Principal, *, assignee=None, candidate_role=None, mine=False, process_key=None,
             instance_id=None, business_key=None, state=None, due_before: datetime | None = None,
             due_after: datetime | None = None, sort="created", order="asc", page=1, page_size=50) -> dict:
        """Tasks visible to ``principal`` matching the filters, with the total."""
        errors = []
        if state is not None and state not in TASK_STATES:
            errors.append({"field": "state", "message": f"one of {list(TASK_STATES)}"})
        if sort not in SORTS:
            errors.append({"field": "sort", "message": f"one of {list(SORTS)}"})
        if order not in ("asc", "desc"):
            errors.append({"field": "order", "message": "asc or desc"})
        if errors:
            raise Invalid("invalid filter", errors=errors)
        filters = {"assignee": (principal.username if assignee == "me" else assignee) or None,
                   "candidate_role": candidate_role or None, "process_key": process_key or None,
                   "instance_id": instance_id, "business_key": business_key or None, "state": state or None,
                   "due_before": due_before, "due_after": due_after}
        used = tuple(k for k, v in filters.items() if v is not None)
        scope = self._scope_kind(principal, mine)
        shape = (scope, principal.department is None, used, sort, order)
        stmt, count_stmt = self._list_statements.get(shape) or self._build_list_statements(shape)
        params = {f"p_{k}": filters[k] for k in used}
        params.update(p_user=principal.username, p_roles=sorted(principal.roles), p_dept=principal.department,
                      p_offset=(page - 1) * page_size, p_limit=page_size)
        with self.db.reader() as conn:
            rows = conn.execute(stmt, params).all()
            if rows:
                total = rows[0].total
            else:  # an empty page: the window count had no row to ride on (a second snapshot is fine)
                total = conn.execute(count_stmt, params).scalar() if page > 1 else 0
            return {"items": [task_summary(r) for r in rows], "total": total, "page": page, "page_size": page_size}

    @staticmethod
    def _scope_kind(principal: Principal, mine: bool) -> str:
        if mine:
            return "mine-all" if principal.sees_all_departments else "mine"
        if principal.sees_all_departments:
            return "all"
        return "assigner" if principal.has_any(ASSIGNER_ROLES) else "member"

    def _build_list_statements(self, shape):
        # Lists are built once per shape (which filters, whose scope, which order) with bind
        # parameters: building and compiling a select per request cost more than running it.
        scope, no_dept, used, sort, order = shape
        c = TASK_TABLE.c
        in_dept = c.department.is_(None) if no_dept else or_(c.department == bindparam("p_dept"), c.department.is_(None))
        roles = c.candidate_role.in_(bindparam("p_roles", expanding=True))
        me = c.assignee == bindparam("p_user")
        conds = []
        if scope in ("mine", "mine-all"):
            conds.append(c.state == "ready")
            claimable = [c.assignee.is_(None), roles] + ([in_dept] if scope == "mine" else [])
            conds.append(or_(me, and_(*claimable)))
        elif scope == "assigner":
            conds.append(or_(me, in_dept))
        elif scope == "member":
            conds.append(or_(me, and_(roles, in_dept)))
        for key in used:
            param = bindparam(f"p_{key}")
            if key == "due_before":
                conds.append(c.due_at < param)
            elif key == "due_after":
                conds.append(c.due_at >= param)
            else:
                conds.append(c[key] == param)
        col = c[SORTS[sort].key]

        def direction(expr):
            # Only due_at can be NULL: a task without a deadline is the least urgent either way, so it
            # comes last in both orders (SQLite and PostgreSQL put NULLs at opposite ends by default).
            expr = expr.asc() if order == "asc" else expr.desc()
            return expr.nulls_last() if sort == "due" else expr

        # Equal deadlines (and none at all) in the order the tasks came, not by their random ids.
        ties = [c.created_at] if sort == "due" else []
        ordering = [direction(col), *ties, c.id]
        # The page is chosen on narrow rows (id, sort key, window count) and only its rows are
        # read in full: sorting and counting thousands of matches (a supervisor's queue) with
        # every summary column was half of the statement's time (bench/README.md, round 4).
        page = (select(c.id.label("page_id"), col.label("page_key"), func.count().over().label("total"))
                .where(*conds).order_by(*ordering)
                .offset(bindparam("p_offset")).limit(bindparam("p_limit")).subquery("page"))
        key = page.c.page_key
        stmt = (select(*SUMMARY_TABLE_COLUMNS, page.c.total).join(page, c.id == page.c.page_id)
                .order_by(direction(key), *ties, page.c.page_id))
        count_stmt = select(func.count()).select_from(TASK_TABLE).where(*conds)
        self._list_statements[shape] = (stmt, count_stmt)
        return stmt, count_stmt

    def get(self, principal: Principal, task_id: str) -> dict:
        """One task with its form (JSON Schema) and the current data."""
        with self.db.session(write=False) as s:
            row = self._visible_row(s, principal, task_id)
            inst = s.get(ProcessInstance, row.instance_id)
            model = self.runner.model_for(s, inst.definition_id)
            out = task_summary(row)
            out["form"] = model.forms.get(row.form) if row.form else None
            out["ui_schema"] = model.forms.get(row.ui_form) if row.ui_form else None
            out["properties"] = row.properties or {}
            data = {}
            if row.state == "ready":
                wf = self.runner.load(inst)
                task = wf.get_task_from_id(UUID(row.id))
                if task is not None:
                    data = task.data
            out["data"] = json_data(data)
            return out

    # ------------------------------------------------------------------ claiming

    def claim(self, principal: Principal, task_id: str) -> dict:
        """Take a ready task; 409 if someone else holds it."""
        with _conflict_on_stale(), self.db.session() as s:
            row = self._visible_row(s, principal, task_id)
            self._check_can_work(principal, row)
            if row.assignee == principal.username:
                return task_summary(row)
            res = s.execute(update(TaskRecord).where(TaskRecord.id == task_id, TaskRecord.state == "ready",
                                                     TaskRecord.assignee.is_(None))
                            .values(assignee=principal.username))
            if res.rowcount != 1:
                s.refresh(row)
                raise Conflict(f"task is claimed by {row.assignee}" if row.assignee else "task is no longer ready")
            row.assignee = principal.username
            audit.append(s, actor=principal.username, kind="claim", instance_id=row.instance_id, task_id=task_id)
            return task_summary(row)

    def unclaim(self, principal: Principal, task_id: str) -> dict:
        """Give a claimed task back to its candidate role."""
        with _conflict_on_stale(), self.db.session() as s:
            row = self._visible_row(s, principal, task_id)
            if row.state != "ready":
                raise Conflict(f"task is {row.state}")
            if row.assignee is None:
                return task_summary(row)
            if row.assignee != principal.username and not principal.has_any(ASSIGNER_ROLES):
                raise Forbidden(f"task is claimed by {row.assignee}; only they or an assigner may release it")
            row.assignee = None
            audit.append(s, actor=principal.username, kind="unclaim", instance_id=row.instance_id, task_id=task_id)
            return task_summary(row)

    def assign(self, principal: Principal, task_id: str, username: str) -> dict:
        """Department heads and supervisors hand a task to someone who may work on it.

        The assignee must be an active user who holds the task's lane role, is inside its
        department (or holds a plant-wide role), and is not barred by segregation of duties
        from this instance's tasks they completed; otherwise 403 with ``reason`` ``role``,
        ``department`` or ``segregation_of_duties``. A department head assigns only tasks
        of their own department.
        """
        if not principal.has_any(ASSIGNER_ROLES):
            raise Forbidden(f"assigning needs one of the roles {sorted(ASSIGNER_ROLES)}")
        if not username or not self._user_exists(username):
            raise Invalid("unknown user", errors=[{"field": "user", "message": f"no active user '{username}'"}])
        with _conflict_on_stale(), self.db.session() as s:
            row = s.get(TaskRecord, task_id) if _is_uuid(task_id) else None
            if row is None:
                raise NotFound(f"no task {task_id}")
            if not principal.in_scope(row.department):
                # Also when it is assigned to them (and so visible): not theirs to hand on.
                raise Forbidden(f"task '{row.name}' belongs to department '{row.department}'; you assign only "
                                f"tasks of '{principal.department}'", reason="department")
            self._check_visible(principal, row)
            if row.state != "ready":
                raise Conflict(f"task is {row.state}")
            self._check_assignee(s, row, username)
            row.assignee = username
            audit.append(s, actor=principal.username, kind="assign", instance_id=row.instance_id,
                         task_id=task_id, data={"assignee": username})
            return task_summary(row)

    @staticmethod
    def _check_assignee(s, row: TaskRecord, username: str) -> None:
        """403 unless ``username`` (its current roles and department) may work on ``row``."""
        facts = s.execute(select(User.id, User.department, User.active)
                          .where(User.username == username)).one_or_none()
        if facts is None or not facts.active:
            raise Invalid("unknown user", errors=[{"field": "user", "message": f"no active user '{username}'"}])
        roles = set(s.scalars(select(UserRole.role).where(UserRole.user_id == facts.id)))
        if row.candidate_role and row.candidate_role not in roles:
            raise Forbidden(f"{username} does not hold the role '{row.candidate_role}' task '{row.name}' is for",
                            reason="role")
        if row.department is not None and facts.department != row.department and not roles & GLOBAL_SCOPE_ROLES:
            raise Forbidden(f"{username} belongs to department '{facts.department}', task '{row.name}' to "
                            f"'{row.department}'", reason="department")
        refs = _not_completed_by(row)
        if refs:
            done = set(s.scalars(select(TaskRecord.bpmn_id).where(
                TaskRecord.instance_id == row.instance_id, TaskRecord.state == "completed",
                TaskRecord.completed_by == username, TaskRecord.bpmn_id.in_(refs))))
            TaskService._check_segregation(row, done, who=username)

    # ------------------------------------------------------------------ completing

    def complete(self, principal: Principal, task_id: str, data: dict | None) -> dict:
        """Complete a task with form data; the instance advances exactly once."""
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise Invalid("data must be an object", errors=[{"field": "data", "message": "must be an object"}])
        if not _is_uuid(task_id):
            raise NotFound(f"no task {task_id}")
        if self.db.has_atomic_step_writes:
            # PostgreSQL: read, step and write on a connection without a transaction.
            # The write is one statement guarded by the instance version, so it commits
            # all or nothing by itself; only a step that also cancels tasks, rewrites
            # message subscriptions, queues jobs or opens an incident needs a transaction.
            with self.db.autocommit() as conn:
                done = self._step(conn, principal, task_id, data)
                if done.outcome.only_step_write:
                    self._write(conn, done)
                    self.runner.remember(done.inst, done.wf)
                    return done.result()
            with self.db.session() as s:
                result = self._write_in(s, done)
        else:
            with self.db.session() as s:
                done = self._step(s.connection(), principal, task_id, data)
                result = self._write_in(s, done)
        if done.outcome.discarded:
            _refuse_discarded(done)
        return result

    def _write_in(self, s, done: "_Completion") -> dict:
        """The step write and everything else the step changed, in the transaction of ``s``."""
        self._write(s.connection(), done)
        self.runner.persist(s, done.inst, done.wf, done.outcome, defer_task_rows=True)
        return done.result()

    def _step(self, conn, principal: Principal, task_id: str, data: dict) -> "_Completion":
        """Read the task and its instance, check who may complete it, validate the form,
        run the task and the engine steps after it; nothing is written."""
        # The hot path of the platform: prebuilt Core statements, no ORM unit of work
        # (one SELECT with a join, one versioned write; bench/README.md).
        found = _LOAD_FOR_COMPLETE.first(conn, {"p_task_id": task_id, "p_user": principal.username})
        if found is None:
            raise NotFound(f"no task {task_id}")
        split = len(_TASK_COLUMN_NAMES)
        row = SimpleNamespace(**dict(zip(_TASK_COLUMN_NAMES, found[:split])))
        inst = SimpleNamespace(**dict(zip(_INSTANCE_READ_NAMES, found[split:-1])))
        done_by_caller = set(found[-1].split(",")) if found[-1] else set()
        self._check_visible(principal, row)
        if row.state != "ready":
            raise Conflict(f"task is {row.state}, no longer ready", retryable=False)
        self._check_can_work(principal, row)
        if row.assignee and row.assignee != principal.username:
            raise Conflict(f"task is claimed by {row.assignee}")
        self._check_segregation(row, done_by_caller)
        model = self.runner.model_for(conn, inst.definition_id)
        schema = model.forms.get(row.form) if row.form else None
        submission.check_declared(row.form, schema, data)
        if row.form:
            self._validate_form(inst.definition_id, row.form, schema, data, model.forms)
        if inst.status not in ("running", "waiting"):
            raise Conflict(f"instance {inst.id} is {inst.status}")
        wf = self.runner.load(inst, model)
        task = wf.get_task_from_id(UUID(row.id))
        if task is None or task.state != TaskState.READY:
            raise Conflict("task is no longer ready", retryable=False)
        ready_before = self.runner.ready_task_ids(wf) - {row.id}
        version = inst.row_version
        data, overrides = submission.written_data(principal, row.form, schema, row.properties, task.data, data)
        task.data.update(data)
        task.run()
        outcome = self.runner.step(inst, wf, model, ready_before=ready_before)
        completed = {"bpmn_id": row.bpmn_id, "data": json_data(data)}
        if overrides:
            completed["overrides"] = overrides
        events = [] if outcome.discarded else [audit.prepare(
            inst, actor=principal.username, kind="complete", task_id=row.id, data=completed)]
        if outcome.incident is not None:
            events.append(audit.prepare(inst, actor="engine", kind="incident", data={
                "kind": outcome.incident.kind, "message": outcome.incident.message}))
        return _Completion(row, inst, wf, outcome, events, version, utcnow(), principal.username)

    @staticmethod
    def _write(conn, done: "_Completion") -> None:
        # The versioned UPDATE of the instance is the first write: concurrent
        # completions of one task queue on its row lock and lose with a 409,
        # before any task row or audit event of theirs is written.
        # A discarded step (engine.runner.StepOutcome.discarded) leaves the task ready.
        close = None if done.outcome.discarded else {"id": done.row.id, "completed_at": done.now,
                                                     "completed_by": done.user}
        written = write_step(conn, done.inst, done.version, new_tasks=[vars(t) for t in done.outcome.new_tasks],
                             events=done.events, close_task=close)
        if not written.task_was_ready or (written.instance_saved and not written.task_closed):
            raise Conflict("task is no longer ready", retryable=False)
        if not written.instance_saved:
            raise Conflict("the instance changed meanwhile; reload the task and retry", retryable=True)
        if close is not None:
            done.row.state, done.row.completed_at, done.row.completed_by = "completed", done.now, done.user

    # ------------------------------------------------------------------ checks

    def _visible_row(self, s, principal: Principal, task_id: str) -> TaskRecord:
        row = s.get(TaskRecord, task_id) if _is_uuid(task_id) else None
        if row is None:
            raise NotFound(f"no task {task_id}")
        self._check_visible(principal, row)
        return row

    @staticmethod
    def _check_visible(principal: Principal, row) -> None:
        if principal.sees_all_departments or row.assignee == principal.username:
            return
        if row.candidate_role in principal.roles and principal.in_scope(row.department):
            return
        if principal.has_any(ASSIGNER_ROLES) and principal.in_scope(row.department):
            return  # department heads oversee (and assign) every task of their department
        if row.candidate_role not in principal.roles:
            raise Forbidden(f"task '{row.name}' is for role '{row.candidate_role}', which you do not hold")
        raise Forbidden(f"task '{row.name}' belongs to department '{row.department}'")

    @staticmethod
    def _check_can_work(principal: Principal, row: TaskRecord) -> None:
        # Being the assignee is not enough: the role and department are read now (a user assigned
        # before a demotion or a move, or by an assignee expression, must still hold both).
        if row.candidate_role and row.candidate_role not in principal.roles:
            raise Forbidden(f"task '{row.name}' is for role '{row.candidate_role}', which you do not hold")
        if not principal.in_scope(row.department):
            raise Forbidden(f"task '{row.name}' belongs to department '{row.department}'")

    @staticmethod
    def _check_segregation(row, done_by: set[str], who: str = "you") -> None:
        """403 when ``who`` completed (``done_by``: bpmn ids) a task this one's ``not_completed_by`` names."""
        done = [r for r in _not_completed_by(row) if r in done_by]
        if done:
            raise Forbidden(f"segregation of duties: {who} completed '{', '.join(done)}' of this "
                            f"instance and may not also complete '{row.bpmn_id}'",
                            reason="segregation_of_duties")

    def _validate_form(self, definition_id: int, form_name: str, schema: dict | None, data: dict,
                       forms: dict | None = None) -> None:
        if schema is None:
            return
        key = (definition_id, form_name)
        validator = self._validators.get(key)
        if validator is None:
            # RE2 patterns, $ref only inside the deployment (engine/form_schema.py)
            validator = self._validators[key] = form_schema.validator(schema, forms or {})
        errors = form_validation.errors(validator, data)
        if errors:
            raise Invalid(f"form '{form_name}' rejected the data", errors=errors)


@contextmanager
def _conflict_on_stale():
    # Claims append to the instance's audit chain, so they race with completions.
    try:
        yield
    except StaleDataError:
        raise Conflict("the instance changed meanwhile; reload the task and retry", retryable=True) from None


def _refuse_discarded(done: "_Completion") -> None:
    """The step after the completion was thrown away (and its incident committed): say so."""
    incident = done.outcome.incident
    raise Conflict(f"the submission was not stored: {incident.message}. The instance is in error "
                   f"(incident {incident.id}); the task stays ready once the incident is retried",
                   retryable=False, incident_id=incident.id, incident_kind=incident.kind,
                   element_id=(incident.details or {}).get("bpmn_id"))


def _not_completed_by(row) -> list[str]:
    """The tasks whose completer may not complete ``row`` (its ``not_completed_by`` property), sorted."""
    return sorted(set(split_list((row.properties or {}).get("not_completed_by"))))


def _is_uuid(value: str) -> bool:
    try:
        UUID(value)
        return True
    except (ValueError, TypeError, AttributeError):
        return False


@dataclass
class _Completion:
    """A task completion worked out in memory, waiting to be written."""

    row: SimpleNamespace
    inst: SimpleNamespace
    wf: object
    outcome: object
    events: list
    version: int
    now: datetime
    user: str

    def result(self) -> dict:
        return {"task": task_summary(self.row), "instance": {"id": self.inst.id, "status": self.inst.status},
                "next_tasks": [task_summary(t) for t in self.outcome.new_tasks]}
