"""The permit register: one row per work permit, whatever its type (issue 14 §2, issue 13's board).

Which processes are permits is declared in one place, :data:`PERMIT_TYPES`: a new permit diagram
joins the register by adding its :class:`PermitType` (its key, its type code, which of its user
tasks are the application and the review, where its variables keep grade, location and gas log).

The register is kept by the engine: on every step of a permit instance (start, completion, timer,
message, job, cancel) ``Runner.save`` calls :func:`workflow_snapshot`, and the permit's status and
snapshot (type, grade, location, validity end, latest gas sample, the cross-work its review recorded)
are written in the same versioned UPDATE as the state (``process_instances.register_status`` and
``register``, migration 0013). The snapshot is read from the workflow itself: the data of the live
tasks, leaving out side branches that carry a stale copy (a confined-space permit whose failed
reading sent people out while the overdue-reading escalation still carried ``active``), and the ready
tasks (an application or review task says ``applied``/``in_review`` whatever ``permit_status`` says).
The one rule is :func:`snapshot_from`; what depends on the clock (validity left, gas sample age, a
live permit whose validity ran out is ``expired``) is applied when the register is read
(:func:`register_status`). Permits that have not stepped since the migration are derived the same
way from their stored state.

Statuses (:data:`STATUSES`): ``applied`` (the application is with the applicant, first time or sent
back), ``in_review`` (with a reviewer or approver), ``issued`` (approved, before the work starts:
gas analysis and site check), ``working``, ``paused`` (the crew interrupted the work, or a new work
day needs a new analysis), ``suspended`` (gas alarm, stop-work, failed reading: only a re-test and,
for hot work, supervision's approval let the work go on), ``expired``, ``closed`` (accepted after
completion), ``cancelled`` (rejected, ended by supervision, or the instance was cancelled).
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import exists, func, or_, select

from engine import simops
from engine.db import Database
from engine.errors import Invalid
from engine.models import Area, ProcessDefinition, ProcessInstance, TaskRecord, utcnow
from engine.principal import Principal
from engine.values import json_data

STATUSES = ("applied", "in_review", "issued", "working", "paused", "suspended", "expired", "closed", "cancelled")
# Statuses in which the permit still lets (or may soon let) people work: cross-work with these counts.
LIVE_STATUSES = ("issued", "working", "paused", "suspended")
OPEN_STATUSES = ("applied", "in_review") + LIVE_STATUSES
DEFAULT_GAS_WINDOW_MINUTES = 30  # DOMAIN.md: a sample is good for 30 min before the start (DMN overrides)
ACTIVE_INSTANCE = ("running", "waiting", "error")


@dataclass(frozen=True)
class PermitType:
    """How the register reads one permit process."""

    process_key: str
    type: str                             # hot_work, confined_space, … (GB 30871's eight kinds)
    name: str                             # shown to people
    apply_tasks: frozenset[str]           # ready → ``applied``
    review_tasks: frozenset[str]          # ready → ``in_review``
    # Ready tasks that mean the permit is suspended whatever a parallel branch's data says;
    # ``expired`` still wins when the process recorded it (the expiry path shares the task).
    suspend_tasks: frozenset[str] = frozenset()
    # Side branches (escalations) that carry a stale copy of the permit's data: while one of them is
    # ready, the permit's variables are read from the other live tasks' data (see _main_branch_variables).
    side_tasks: frozenset[str] = frozenset()
    location_fields: tuple[str, ...] = ()  # first non-empty variable names the location
    gas_log: str | None = None             # list variable of samples, each with ``at``
    # The decision table of its cross-work rules (engine/simops.py), read from its deployed bundle;
    # the library's generic table has an input ``permit_type`` and rows for every type.
    simops_table: str = "simops_matrix.dmn"


PERMIT_TYPES: tuple[PermitType, ...] = (
    PermitType("hot_work_permit", "hot_work", "动火", frozenset({"hw_apply"}),
               frozenset({"hw_unit_review", "hw_safety_review", "hw_safety_approval", "hw_leader_approval"}),
               location_fields=("location_detail", "work_content"), gas_log="gas_results",
               simops_table="simops_permits.dmn"),
    PermitType("confined_space_permit", "confined_space", "受限空间", frozenset({"cs_apply"}),
               frozenset({"cs_isolation", "cs_approval"}), suspend_tasks=frozenset({"cs_evacuate"}),
               side_tasks=frozenset({"cs_reading_overdue"}),
               location_fields=("space_name", "purpose"), gas_log="readings",
               simops_table="simops_confined_space.dmn"),
)
BY_KEY = {t.process_key: t for t in PERMIT_TYPES}
BY_TYPE = {t.type: t for t in PERMIT_TYPES}
# What each ``permit_status`` value the diagrams set means in the register.
_FROM_VARIABLE = {"applying": "applied", "issued": "issued", "active": "working", "paused": "paused",
                  "suspended": "suspended", "expired": "expired", "closed": "closed", "cancelled": "cancelled",
                  "rejected": "cancelled"}
_LIVE_TASK_STATES = 8 | 16 | 32 | 128  # SpiffWorkflow TaskState WAITING | READY | STARTED | ERROR (engine/runner.py)


def _main_branch_variables(state: str, side_tasks: frozenset[str]) -> dict | None:
    """The variables as the engine merges them (engine/runner.py ``Runner.variables``: workflow data,
    then each live task's data in order), leaving out the live tasks of side branches. Read from the
    serialized state without building the workflow (SpiffWorkflow stores each task's data as a delta
    on its parent's); None when the state cannot be read."""
    from engine import jsoncodec

    try:
        dct = jsoncodec.loads(state)
        tasks = dct.get("tasks") or {}
        cache: dict[str, dict] = {}

        def data_of(tid: str) -> dict:
            chain = []
            while tid is not None and tid not in cache:
                chain.append(tid)
                tid = tasks[tid].get("parent")
            data = cache[tid] if tid is not None else {}
            for t in reversed(chain):
                node = tasks[t]
                delta = node.get("delta")
                if delta and node.get("parent") is not None:
                    data = {**data, **(delta.get("updates") or {})}
                    for key in delta.get("deletions") or ():
                        data.pop(key, None)
                else:
                    data = dict(node.get("data") or {})
                cache[t] = data
            return data

        merged = dict(dct.get("data") or {})
        for tid, task in tasks.items():
            if task.get("state", 0) & _LIVE_TASK_STATES and task.get("task_spec") not in side_tasks:
                merged.update(data_of(tid))
        return merged
    except (ValueError, TypeError, AttributeError, KeyError):
        return None


def register_status(snapshot: dict, now: datetime) -> str:
    """The status the register shows: the snapshot's, except that a live permit whose validity
    has run out at ``now`` is ``expired`` even where the diagram has not noticed yet (its expiry
    timer watches the work task only, so a permit paused or waiting for a re-analysis would
    otherwise stay usable)."""
    status = snapshot.get("status") or "applied"
    if status in LIVE_STATUSES:
        expires = _parse_time(snapshot.get("validity_end"))
        if expires is not None and expires <= now:
            return "expired"
    return status


def snapshot_from(ptype: PermitType, instance_status: str, variables: dict, ready: set[str]) -> dict:
    """A permit's register snapshot from its instance status, its variables (the main branch's)
    and the bpmn ids of its ready human tasks: the one rule of the register."""
    v = variables
    sampled, passed = latest_gas_sample(ptype, v)
    window = v.get("sample_max_age_minutes")
    window = window if isinstance(window, (int, float)) and not isinstance(window, bool) \
        else DEFAULT_GAS_WINDOW_MINUTES
    grade = v.get("grade") if isinstance(v.get("grade"), str) else None
    expires = _parse_time(v.get("permit_expires_at"))
    return {
        "status": _status_from_state(ptype, instance_status, v, ready),
        "type": ptype.type, "permit_status": str(v.get("permit_status") or "") or None,
        "grade": grade, "grade_name": v.get("grade_name") if grade else None,
        "location": next((str(v[f]) for f in ptype.location_fields if v.get(f)), None),
        "suspended_by": v.get("suspended_by") or None,
        "issued_at": v.get("issued_at") or None, "work_started_at": v.get("work_started_at") or None,
        "validity_end": _iso(expires), "gas_sampled_at": _iso(sampled), "gas_sample_pass": passed,
        "gas_window_minutes": window, "simops_recorded": _recorded_conflicts(v),
        "simops_facts": simops.facts_of(v),
    }


def workflow_snapshot(process_key: str, wf, instance_status: str, live: list | None,
                      previous: dict | None = None) -> dict | None:
    """The register snapshot of a permit workflow after a step (None for other processes).

    Called by ``Runner.save`` with the workflow's live tasks; reads their data as
    ``Runner.variables`` merges it, without the side branches of :attr:`PermitType.side_tasks`.
    A workflow that ended without handing its data on (a cancelled instance keeps none in
    ``wf.data``) keeps the facts of its ``previous`` snapshot; only the status changes.
    """
    ptype = BY_KEY.get(process_key)
    if ptype is None:
        return None
    from SpiffWorkflow.util.task import TaskState  # the engine's dependency; not needed by readers

    merged = dict(wf.data)
    ready = set()
    if not wf.is_completed():
        for task in live if live is not None else wf.get_tasks(state=_LIVE_TASK_STATES):
            bpmn_id = getattr(task.task_spec, "bpmn_id", None)
            if bpmn_id in ptype.side_tasks:
                continue
            merged.update(task.data)
            if task.state == TaskState.READY and task.task_spec.manual:
                ready.add(bpmn_id)
    snapshot = json_data(snapshot_from(ptype, instance_status, merged, ready))
    if wf.is_completed() and "permit_status" not in merged and isinstance(previous, dict):
        snapshot = {**previous, "status": snapshot["status"]}
    return snapshot


def _status_from_state(ptype: PermitType, instance_status: str, variables: dict, ready: set[str]) -> str:
    recorded = str(variables.get("permit_status") or "")
    if instance_status == "cancelled":
        return "cancelled"
    if instance_status == "completed":
        return {"expired": "expired", "cancelled": "cancelled", "rejected": "cancelled"}.get(recorded, "closed")
    if ready & ptype.suspend_tasks:
        return "expired" if "expired" in (recorded, variables.get("suspended_by")) else "suspended"
    if ready & ptype.apply_tasks:
        return "applied"
    if ready & ptype.review_tasks:
        return "in_review"
    if recorded == "applying":
        # Approved (no application or review task left) but not yet in work: the pre-entry test
        # and site check of a confined space, which the diagram does not mark with its own value.
        return "issued" if ready or instance_status == "waiting" else "applied"
    return _FROM_VARIABLE.get(recorded, "applied")


def _parse_time(value) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None


def latest_gas_sample(ptype: PermitType, variables: dict) -> tuple[datetime | None, bool | None]:
    """Time and pass/fail of the permit's latest gas sample (its gas log, else ``sampled_at``)."""
    best, passed = None, None
    log = variables.get(ptype.gas_log) if ptype.gas_log else None
    for sample in log if isinstance(log, list) else []:
        at = _parse_time(sample.get("at")) if isinstance(sample, dict) else None
        if at is not None and (best is None or at >= best):
            best, passed = at, sample.get("pass")
    if best is None:
        best = _parse_time(variables.get("sampled_at"))
        passed = variables.get("gas_pass") if best else None
    return best, (bool(passed) if passed is not None else None)


def _recorded_conflicts(variables: dict) -> list[dict]:
    """What the permit's own review recorded (hot work: reported nearby operations within the
    DMN distances, and permits active in the area at review time)."""
    out = []
    for c in variables.get("simops_conflicts") or []:
        if not isinstance(c, dict):
            continue
        if c.get("kind") == "active_permit":
            out.append({"source": "review", "kind": "permit", "process_key": c.get("process_key"),
                        "instance_id": c.get("instance_id"), "business_key": c.get("business_key"),
                        "distance_m": None, "reason": c.get("reason"), "forbidden": bool(c.get("forbidden")),
                        "clause": c.get("clause") or None, "refusal": c.get("refusal") or None})
        else:
            out.append({"source": "review", "kind": c.get("kind"), "process_key": None, "instance_id": None,
                        "business_key": c.get("permit_ref") or None, "distance_m": c.get("distance_m"),
                        "reason": c.get("reason"), "forbidden": bool(c.get("forbidden")),
                        "clause": c.get("clause") or None, "refusal": None})
    return out


class PermitRegister:
    """Reads the register; knows nothing of HTTP."""

    def __init__(self, db: Database):
        self.db = db
        self._simops_cache: dict[int, dict] = {}

    # ------------------------------------------------------------------ queries

    def list(self, principal: Principal, *, area: str | None = None, status: str | None = None,
             type: str | None = None, mine: bool = False, page: int = 1, page_size: int = 50,
             now: datetime | None = None) -> dict:
        """Permits visible to ``principal``, newest first, with the filters of GET /permits.

        ``status`` is one status or a comma-separated list; ``type`` a permit type code.
        Plant-wide roles see every department's permits, everyone else their own department's
        (as instances are scoped). ``mine``: permits the caller applied for or holds a ready task of.
        """
        now = now or utcnow()
        errors = []
        wanted = None
        if status:
            wanted = {s.strip() for s in status.split(",") if s.strip()}
            bad = sorted(wanted - set(STATUSES))
            if bad or not wanted:
                errors.append({"field": "status", "message": f"unknown {bad}; each one of {list(STATUSES)}"})
        if type and type not in BY_TYPE:
            errors.append({"field": "type", "message": f"one of {sorted(BY_TYPE)}"})
        if errors:
            raise Invalid("invalid filter", errors=errors)
        keys = [BY_TYPE[type].process_key] if type else [t.process_key for t in PERMIT_TYPES]
        conds = [ProcessInstance.process_key.in_(keys)]
        if area:
            conds.append(ProcessInstance.area == area)
        if not principal.sees_all_departments:
            conds.append(or_(ProcessInstance.department == principal.department,
                             ProcessInstance.department.is_(None)))
        if mine:
            holds = exists().where(TaskRecord.instance_id == ProcessInstance.id, TaskRecord.state == "ready",
                                   TaskRecord.assignee == principal.username)
            conds.append(or_(ProcessInstance.started_by == principal.username, holds))
        if wanted is not None:
            # The stored status narrows the candidates (index ix_instance_register); a live permit may
            # have expired by the clock since its last step, and rows from before 0013 have none yet.
            stored = wanted | (set(LIVE_STATUSES) if "expired" in wanted else set())
            conds.append(or_(ProcessInstance.register_status.in_(sorted(stored)),
                             ProcessInstance.register_status.is_(None)))
        order = ProcessInstance.id.desc()
        with self.db.session(write=False) as s:
            if wanted is None:
                total = s.scalar(select(func.count()).select_from(ProcessInstance).where(*conds))
                rows = s.execute(select(*_ROW_COLUMNS).where(*conds).order_by(order)
                                 .offset((page - 1) * page_size).limit(page_size)).all()
                items = self._rows(s, rows, now)
            else:
                rows = s.execute(select(*_ROW_COLUMNS).where(*conds).order_by(order)).all()
                snaps = self._snapshots(s, rows)
                rows = [r for r in rows if register_status(snaps[r.id], now) in wanted]
                total = len(rows)
                page_rows = rows[(page - 1) * page_size:page * page_size]
                items = self._rows(s, page_rows, now, {r.id: snaps[r.id] for r in page_rows})
            areas = {a.code: {"code": a.code, "name": a.name, "department": a.department,
                              "classification": a.classification}
                     for a in s.execute(select(Area.code, Area.name, Area.department, Area.classification))}
        for item in items:
            a = areas.get(item["area"]) or {}
            item["area_name"] = a.get("name")
            item["area_department"] = a.get("department")
        # Every area, for the board's stop-work buttons (an area may have alerts but no permit).
        return {"items": items, "total": total, "page": page, "page_size": page_size,
                "areas": [areas[k] for k in sorted(areas)]}

    # ------------------------------------------------------------------ rows

    def _snapshots(self, s, rows) -> dict[int, dict]:
        """Each row's snapshot: the one the engine wrote, or derived from the stored state for a
        permit that has not stepped since migration 0013."""
        out = {r.id: r.register for r in rows if isinstance(r.register, dict)}
        missing = [r for r in rows if r.id not in out]
        if missing:
            ids = [r.id for r in missing]
            found = {x.id: x for x in s.execute(select(ProcessInstance.id, ProcessInstance.variables,
                                                       ProcessInstance.state).where(ProcessInstance.id.in_(ids)))}
            ready = self._ready_tasks(s, ids)
            for r in missing:
                ptype = BY_KEY[r.process_key]
                bpmn_ids = {t.bpmn_id for t in ready.get(r.id, [])}
                v = None
                if bpmn_ids & ptype.side_tasks:
                    v = _main_branch_variables(found[r.id].state, ptype.side_tasks)
                if v is None:
                    v = found[r.id].variables if isinstance(found[r.id].variables, dict) else {}
                out[r.id] = snapshot_from(ptype, r.status, v, bpmn_ids)
        return out

    def _rows(self, s, rows, now: datetime, snaps: dict | None = None) -> list[dict]:
        if not rows:
            return []
        snaps = snaps if snaps is not None else self._snapshots(s, rows)
        tasks = self._ready_tasks(s, [r.id for r in rows])
        items = [{**self._row(r, snaps[r.id], tasks.get(r.id, []), now),
                  "_facts": snaps[r.id].get("simops_facts") or {}} for r in rows]
        self._add_live_conflicts(s, items, now)
        for item in items:
            item.pop("_facts", None)
        return items

    @staticmethod
    def _ready_tasks(s, instance_ids) -> dict[int, list]:
        out: dict[int, list] = {}
        for t in s.execute(select(TaskRecord.id, TaskRecord.instance_id, TaskRecord.bpmn_id, TaskRecord.name,
                                  TaskRecord.candidate_role, TaskRecord.assignee, TaskRecord.due_at,
                                  TaskRecord.department)
                           .where(TaskRecord.instance_id.in_(instance_ids), TaskRecord.state == "ready")
                           .order_by(TaskRecord.created_at, TaskRecord.id)):
            out.setdefault(t.instance_id, []).append(t)
        return out

    @staticmethod
    def _row(r, snap: dict, tasks, now: datetime) -> dict:
        """A register row: the snapshot, with what depends on the clock worked out at ``now``."""
        ptype = BY_KEY[r.process_key]
        expires = _parse_time(snap.get("validity_end"))
        sampled = _parse_time(snap.get("gas_sampled_at"))
        age = int((now - sampled).total_seconds()) if sampled else None
        window = snap.get("gas_window_minutes") or DEFAULT_GAS_WINDOW_MINUTES
        return {
            "id": r.id, "business_key": r.business_key, "process_key": r.process_key, "type": ptype.type,
            "type_name": ptype.name, "grade": snap.get("grade"), "grade_name": snap.get("grade_name"),
            "area": r.area, "location": snap.get("location"), "department": r.department,
            "status": register_status(snap, now), "instance_status": r.status,
            "suspended_by": snap.get("suspended_by"),
            "applicant": r.started_by, "applied_at": _iso(r.started_at),
            "issued_at": snap.get("issued_at"), "work_started_at": snap.get("work_started_at"),
            "ended_at": _iso(r.ended_at), "validity_end": snap.get("validity_end"),
            "validity_seconds_left": int((expires - now).total_seconds()) if expires else None,
            "gas_sampled_at": snap.get("gas_sampled_at"), "gas_sample_age_seconds": age,
            "gas_sample_pass": snap.get("gas_sample_pass"), "gas_window_minutes": window,
            "gas_sample_stale": age is not None and age > window * 60,
            "simops_conflicts": [dict(c) for c in snap.get("simops_recorded") or []],
            "current_tasks": [{"id": t.id, "bpmn_id": t.bpmn_id, "name": t.name,
                               "candidate_role": t.candidate_role, "assignee": t.assignee,
                               "department": t.department, "due_at": _iso(t.due_at)} for t in tasks],
        }

    # ------------------------------------------------------------------ SIMOPS

    def _add_live_conflicts(self, s, items: list[dict], now: datetime, areas: dict | None = None) -> None:
        """Add, both ways, the other live permits of the same area that a SIMOPS table pairs with each
        open permit (engine/simops.py: the permit's own table and the other's, so the answer does not
        depend on which came first), each with ``forbidden`` when the standard forbids the pair."""
        todo = [i for i in items if i["status"] in OPEN_STATUSES and i["area"]]
        if not todo:
            return
        classes = areas if areas is not None else self._area_classes(s)
        live_by_area: dict[str, list[dict]] = {}
        for area in sorted({i["area"] for i in todo}):
            live_by_area[area] = self._live_in_area(s, area, now)
        for item in todo:
            own = {**(item.pop("_facts", None) or {}), "instance_id": item["id"],
                   "business_key": item["business_key"], "process_key": item["process_key"]}
            found = self._conflicts(s, own, live_by_area[item["area"]], classes.get(item["area"]))
            recorded = {c.get("instance_id"): c for c in item["simops_conflicts"] if c.get("instance_id")}
            for c in found:
                if c["instance_id"] in recorded:  # the review listed it: say how it stands now
                    recorded[c["instance_id"]].update(status=c["status"], forbidden=c["forbidden"],
                                                      clause=c["clause"], refusal=c["refusal"])
                    continue
                item["simops_conflicts"].append({
                    "source": "register", "kind": "permit", "process_key": c["process_key"],
                    "instance_id": c["instance_id"], "business_key": c["business_key"], "distance_m": None,
                    "reason": c["reason"], "status": c["status"], "forbidden": c["forbidden"],
                    "clause": c["clause"], "refusal": c["refusal"]})

    def _conflicts(self, s, own: dict, live: list[dict], area_class: str | None,
                   own_rules: list[dict] | None = None) -> list[dict]:
        """``own``'s conflicts with ``live`` under its own table's rules (``own_rules``: the ones its
        review evaluated, else its deployed table's) and, the other way round, under each other's."""
        key = own["process_key"]
        rules = own_rules if own_rules is not None else self.simops_rules(s, key)
        out = []
        for other in live:
            if other["instance_id"] == own.get("instance_id"):
                continue
            mine = simops.conflicts(own, [other], rules, area_class)
            theirs = simops.conflicts(other, [own], self.simops_rules(s, other["process_key"]), area_class)
            if not mine and not theirs:
                continue
            c = mine[0] if mine else {**theirs[0], "process_key": other["process_key"],
                                      "instance_id": other["instance_id"], "business_key": other["business_key"],
                                      "permit_status": other["permit_status"], "status": other["status"],
                                      "equipment_id": other.get("equipment_id")}
            if theirs and theirs[0]["forbidden"] and not c["forbidden"]:
                c = {**c, "forbidden": True, "refusal": theirs[0]["refusal"], "reason": theirs[0]["reason"],
                     "clause": theirs[0]["clause"]}
            out.append(c)
        return out

    def _live_in_area(self, s, area: str, now: datetime) -> list[dict]:
        """The live permits of ``area`` as the SIMOPS rules read them (facts from their snapshots)."""
        rows = s.execute(select(*_ROW_COLUMNS)
                         .where(ProcessInstance.process_key.in_(list(BY_KEY)), ProcessInstance.area == area,
                                ProcessInstance.status.in_(ACTIVE_INSTANCE),
                                or_(ProcessInstance.register_status.in_(LIVE_STATUSES),
                                    ProcessInstance.register_status.is_(None)))
                         .order_by(ProcessInstance.id)).all()
        snaps = self._snapshots(s, rows) if rows else {}
        out = []
        for r in rows:
            status = register_status(snaps[r.id], now)
            if status in LIVE_STATUSES:
                facts = snaps[r.id].get("simops_facts") or {}
                out.append({**facts, "instance_id": r.id, "business_key": r.business_key,
                            "process_key": r.process_key, "status": status,
                            "permit_status": snaps[r.id].get("permit_status")})
        return out

    @staticmethod
    def _area_classes(s) -> dict[str, str | None]:
        return {a.code: a.classification for a in s.execute(select(Area.code, Area.classification))}

    def simops_rules(self, s, process_key: str) -> list[dict]:
        """The cross-work rules of a permit process: its SIMOPS table in its latest deployed version
        (read once per version); none when the process is not deployed."""
        ptype = BY_KEY.get(process_key)
        if ptype is None:
            return []
        found = s.execute(select(ProcessDefinition.id).where(ProcessDefinition.key == process_key)
                          .order_by(ProcessDefinition.version.desc()).limit(1)).scalar()
        if found is None:
            return []
        if found not in self._simops_cache:
            bundle = s.execute(select(ProcessDefinition.bundle).where(ProcessDefinition.id == found)).scalar()
            xml = ((bundle or {}).get("dmn") or {}).get(ptype.simops_table)
            self._simops_cache[found] = simops.rules_from_dmn(xml, ptype.type) if xml else []
        return self._simops_cache[found]

    def conflicts_for(self, process_key: str, area: str, facts: dict, rules: list[dict] | None = None,
                      now: datetime | None = None) -> list[dict]:
        """The cross-work a permit of ``process_key`` with ``facts`` (engine/simops.py) would have
        with the live permits of ``area`` now: what a permit's review shows (script helper
        ``permit_conflicts``). ``rules``: the permit's own rows as its diagram evaluated them."""
        now = now or utcnow()
        with self.db.session(write=False) as s:
            area_class = s.scalar(select(Area.classification).where(Area.code == area))
            own = {**facts, "process_key": process_key, "instance_id": facts.get("instance_id")}
            return self._conflicts(s, own, self._live_in_area(s, area, now), area_class, rules)


_ROW_COLUMNS = (ProcessInstance.id, ProcessInstance.process_key, ProcessInstance.business_key,
                ProcessInstance.status, ProcessInstance.department, ProcessInstance.area,
                ProcessInstance.started_at, ProcessInstance.started_by, ProcessInstance.ended_at,
                ProcessInstance.register_status, ProcessInstance.register)
