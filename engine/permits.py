"""The permit register: one row per work permit, whatever its type (issue 14 §2, issue 13's board).

Which processes are permits is declared in one place, :data:`PERMIT_TYPES`: a new permit diagram
joins the register by adding its :class:`PermitType` (its key, its type code, which of its user
tasks are the application and the review, where its variables keep grade, location and gas log).

A permit's register status is worked out by one function, :func:`register_status`, from the
instance's state as stored after every engine step (its status, its ready task rows and its
variables). It is derived on read, not kept in a table of its own: the processes' ``permit_status``
variable is the input, and the ready task rows overrule it where the variables of parallel branches
disagree (a confined-space permit whose failed reading sent people out while the overdue-reading
escalation branch still carries ``active``: the ready evacuation task says ``suspended``).

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

from sqlalchemy import and_, exists, func, or_, select

from engine.db import Database
from engine.errors import Invalid
from engine.models import Area, ProcessDefinition, ProcessInstance, TaskRecord, utcnow
from engine.principal import Principal

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


PERMIT_TYPES: tuple[PermitType, ...] = (
    PermitType("hot_work_permit", "hot_work", "动火", frozenset({"hw_apply"}),
               frozenset({"hw_unit_review", "hw_safety_review", "hw_safety_approval", "hw_leader_approval"}),
               location_fields=("location_detail", "work_content"), gas_log="gas_results"),
    PermitType("confined_space_permit", "confined_space", "受限空间", frozenset({"cs_apply"}),
               frozenset({"cs_isolation", "cs_approval"}), suspend_tasks=frozenset({"cs_evacuate"}),
               side_tasks=frozenset({"cs_reading_overdue"}),
               location_fields=("space_name", "purpose"), gas_log="readings"),
)
BY_KEY = {t.process_key: t for t in PERMIT_TYPES}
BY_TYPE = {t.type: t for t in PERMIT_TYPES}
# What each ``permit_status`` value the diagrams set means in the register.
_FROM_VARIABLE = {"applying": "applied", "issued": "issued", "active": "working", "paused": "paused",
                  "suspended": "suspended", "expired": "expired", "closed": "closed", "cancelled": "cancelled",
                  "rejected": "cancelled"}
SIMOPS_TABLE = "simops_permits.dmn"
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


def register_status(ptype: PermitType, instance_status: str, variables: dict, ready: set[str],
                    now: datetime | None = None) -> str:
    """The register status of one permit (see the module docstring): the one rule, in one place.

    ``ready``: bpmn ids of the instance's ready task rows; ``variables``: its stored variables.
    A live permit whose validity (``permit_expires_at``) has run out at ``now`` is ``expired``
    even where the diagram has not noticed yet (its expiry timer watches the work task only, so a
    permit paused or waiting for a re-analysis would otherwise stay usable).
    """
    status = _status_from_state(ptype, instance_status, variables, ready)
    if status in LIVE_STATUSES and now is not None:
        expires = _parse_time(variables.get("permit_expires_at"))
        if expires is not None and expires <= now:
            return "expired"
    return status


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
                        "distance_m": None, "reason": c.get("reason")})
        else:
            out.append({"source": "review", "kind": c.get("kind"), "process_key": None, "instance_id": None,
                        "business_key": c.get("permit_ref") or None, "distance_m": c.get("distance_m"),
                        "reason": None})
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
        if wanted is not None and wanted <= set(OPEN_STATUSES):
            conds.append(ProcessInstance.status.in_(ACTIVE_INSTANCE))  # open permits are live instances
        cols = (ProcessInstance.id, ProcessInstance.process_key, ProcessInstance.business_key,
                ProcessInstance.status, ProcessInstance.department, ProcessInstance.area,
                ProcessInstance.started_at, ProcessInstance.started_by, ProcessInstance.ended_at,
                ProcessInstance.variables)
        order = ProcessInstance.id.desc()
        with self.db.session(write=False) as s:
            if wanted is None:
                # No status filter: page in the database, derive the page only.
                total = s.scalar(select(func.count()).select_from(ProcessInstance).where(*conds))
                rows = s.execute(select(*cols).where(*conds).order_by(order)
                                 .offset((page - 1) * page_size).limit(page_size)).all()
                items = self._rows(s, rows, now)
            else:
                # The status is derived: derive every candidate, then page.
                rows = s.execute(select(*cols).where(*conds).order_by(order)).all()
                items = [i for i in self._rows(s, rows, now, conflicts=False) if i["status"] in wanted]
                total = len(items)
                page_ids = {i["id"] for i in items[(page - 1) * page_size:page * page_size]}
                items = self._rows(s, [r for r in rows if r.id in page_ids], now)
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

    def _rows(self, s, rows, now: datetime, conflicts: bool = True) -> list[dict]:
        if not rows:
            return []
        tasks = self._ready_tasks(s, [r.id for r in rows])
        main = self._main_variables(s, rows, tasks)
        items = [self._row(r, tasks.get(r.id, []), now, main.get(r.id)) for r in rows]
        if conflicts:
            self._add_live_conflicts(s, items, now)
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
    def _main_variables(s, rows, tasks) -> dict[int, dict]:
        """Variables without the side branches' stale data, for the instances with a side task ready."""
        ids = [r.id for r in rows if {t.bpmn_id for t in tasks.get(r.id, [])} & BY_KEY[r.process_key].side_tasks]
        out = {}
        if ids:
            for iid, key, state in s.execute(select(ProcessInstance.id, ProcessInstance.process_key,
                                                    ProcessInstance.state).where(ProcessInstance.id.in_(ids))):
                found = _main_branch_variables(state, BY_KEY[key].side_tasks)
                if found is not None:
                    out[iid] = found
        return out

    @staticmethod
    def _row(r, tasks, now: datetime, variables: dict | None = None) -> dict:
        ptype = BY_KEY[r.process_key]
        v = variables if variables is not None else (r.variables if isinstance(r.variables, dict) else {})
        status = register_status(ptype, r.status, v, {t.bpmn_id for t in tasks}, now)
        location = next((str(v[f]) for f in ptype.location_fields if v.get(f)), None)
        expires = _parse_time(v.get("permit_expires_at"))
        sampled, passed = latest_gas_sample(ptype, v)
        window = v.get("sample_max_age_minutes")
        window = window if isinstance(window, (int, float)) and not isinstance(window, bool) \
            else DEFAULT_GAS_WINDOW_MINUTES
        age = int((now - sampled).total_seconds()) if sampled else None
        grade = v.get("grade") if isinstance(v.get("grade"), str) else None
        return {
            "id": r.id, "business_key": r.business_key, "process_key": r.process_key, "type": ptype.type,
            "type_name": ptype.name, "grade": grade, "grade_name": v.get("grade_name") if grade else None,
            "area": r.area, "location": location, "department": r.department, "status": status,
            "instance_status": r.status, "suspended_by": v.get("suspended_by") or None,
            "applicant": r.started_by, "applied_at": _iso(r.started_at),
            "issued_at": v.get("issued_at") or None, "work_started_at": v.get("work_started_at") or None,
            "ended_at": _iso(r.ended_at),
            "validity_end": _iso(expires),
            "validity_seconds_left": int((expires - now).total_seconds()) if expires else None,
            "gas_sampled_at": _iso(sampled), "gas_sample_age_seconds": age, "gas_sample_pass": passed,
            "gas_window_minutes": window,
            "gas_sample_stale": age is not None and age > window * 60,
            "simops_conflicts": _recorded_conflicts(v),
            "current_tasks": [{"id": t.id, "bpmn_id": t.bpmn_id, "name": t.name,
                               "candidate_role": t.candidate_role, "assignee": t.assignee,
                               "department": t.department, "due_at": _iso(t.due_at)} for t in tasks],
        }

    # ------------------------------------------------------------------ SIMOPS

    def _add_live_conflicts(self, s, items: list[dict], now: datetime) -> None:
        """Add, both ways, the other open permits of the same area that the SIMOPS table pairs
        with each open permit (today simops_permits.dmn: hot work with hot work and with confined
        space; the table's input is the hot-work grade, so the pair is hot work × each output)."""
        pairs = self._simops_pairs(s)
        todo = [i for i in items if i["status"] in OPEN_STATUSES and i["area"]]
        if not pairs or not todo:
            return
        areas = sorted({i["area"] for i in todo})
        rows = s.execute(select(ProcessInstance.id, ProcessInstance.process_key, ProcessInstance.business_key,
                                ProcessInstance.status, ProcessInstance.department, ProcessInstance.area,
                                ProcessInstance.started_at, ProcessInstance.started_by, ProcessInstance.ended_at,
                                ProcessInstance.variables)
                         .where(ProcessInstance.process_key.in_(list(BY_KEY)), ProcessInstance.area.in_(areas),
                                ProcessInstance.status.in_(ACTIVE_INSTANCE))).all()
        ready = self._ready_tasks(s, [r.id for r in rows]) if rows else {}
        main = self._main_variables(s, rows, ready)
        live = []
        for r in rows:
            ptype = BY_KEY[r.process_key]
            v = main.get(r.id) or (r.variables if isinstance(r.variables, dict) else {})
            st = register_status(ptype, r.status, v, {t.bpmn_id for t in ready.get(r.id, [])}, now)
            if st in LIVE_STATUSES:
                live.append((r, st))
        for item in todo:
            seen = {c.get("instance_id") for c in item["simops_conflicts"] if c.get("instance_id")}
            for r, st in live:
                if r.id == item["id"] or r.area != item["area"]:
                    continue
                reason = pairs.get((item["process_key"], r.process_key))
                if reason is None:
                    continue
                entry = {"source": "register", "kind": "permit", "process_key": r.process_key,
                         "instance_id": r.id, "business_key": r.business_key, "distance_m": None,
                         "reason": reason, "status": st}
                if r.id in seen:
                    for c in item["simops_conflicts"]:
                        if c.get("instance_id") == r.id:
                            c["status"] = st
                    continue
                item["simops_conflicts"].append(entry)

    def _simops_pairs(self, s) -> dict[tuple[str, str], str]:
        """{(permit process, other permit process): reason}, both directions, from the latest
        deployed simops_permits.dmn (read once per deployed version)."""
        found = s.execute(select(ProcessDefinition.id).where(ProcessDefinition.key == "hot_work_permit")
                          .order_by(ProcessDefinition.version.desc()).limit(1)).scalar()
        if found is None:
            return {}
        if found not in self._simops_cache:
            bundle = s.execute(select(ProcessDefinition.bundle).where(ProcessDefinition.id == found)).scalar()
            xml = ((bundle or {}).get("dmn") or {}).get(SIMOPS_TABLE)
            self._simops_cache[found] = _pairs_from_dmn("hot_work_permit", xml) if xml else {}
        return self._simops_cache[found]


def _pairs_from_dmn(deciding: str, xml: str) -> dict[tuple[str, str], str]:
    """Pairs from the rules of simops_permits.dmn: output 1 = the other process, output 2 = why."""
    pairs: dict[tuple[str, str], str] = {}
    try:
        root = ET.fromstring(xml.encode() if isinstance(xml, str) else xml)
    except ET.ParseError:
        return pairs
    for rule in root.iter():
        if not rule.tag.endswith("}rule"):
            continue
        outs = [e for e in rule if e.tag.endswith("}outputEntry")]
        texts = [((o.findtext("{*}text") or "").strip().strip('"')) for o in outs]
        if texts and texts[0]:
            reason = texts[1] if len(texts) > 1 else ""
            pairs[(deciding, texts[0])] = reason
            pairs.setdefault((texts[0], deciding), reason)
    return pairs
