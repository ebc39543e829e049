"""Responsibility lists: versions, "my duties with my open tasks", and BPMN lanes ↔ duties."""
from __future__ import annotations

from fnmatch import fnmatchcase

from lxml import etree
from sqlalchemy import func, or_, select

from engine.db import Database
from engine.errors import Forbidden, Invalid, NotFound
from engine.instances import task_summary
from engine.models import ProcessDefinition, TaskRecord
from engine.principal import Principal
from engine.responsibility.defaults import DEFAULT_LISTS
from engine.responsibility.models import Duty, DutyList
from engine.roles import ROLES, role_for_lane

EDITOR_ROLES = frozenset({"admin", "supervision"})
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
HUMAN = ("userTask", "manualTask")


def matches(duty_tasks: list[dict], process_key: str, bpmn_id: str) -> bool:
    """True when a task ``(process_key, bpmn_id)`` fulfils a duty with these patterns."""
    return any(fnmatchcase(process_key, p.get("process_key", "*")) and fnmatchcase(bpmn_id, p.get("bpmn_id", "*"))
               for p in duty_tasks or [])


class ResponsibilityService:
    """Versioned duty lists per post (and per department), linked to tasks and lanes."""

    def __init__(self, db: Database):
        self.db = db

    # ------------------------------------------------------------------ versions

    def ensure_defaults(self) -> None:
        """Store version 1 of every default list that has no version yet (idempotent)."""
        with self.db.session() as s:
            have = set(s.scalars(select(DutyList.role).where(DutyList.scope == "*")))
            for role, spec in DEFAULT_LISTS.items():
                if role in have:
                    continue
                lst = DutyList(role=role, scope="*", version=1, title=spec["title"], note="默认清单（使命文本）",
                               created_by="system")
                s.add(lst)
                s.flush()
                for i, (code, title, desc, tasks) in enumerate(spec["duties"]):
                    s.add(Duty(list_id=lst.id, code=code, title=title, description=desc, tasks=tasks, position=i))

    def publish(self, principal: Principal, role: str, body: dict, department: str | None = None) -> dict:
        """Store a new version of a post's list (plant-wide or for ``department``)."""
        if not principal.has_any(EDITOR_ROLES):
            raise Forbidden(f"publishing a responsibility list needs one of the roles {sorted(EDITOR_ROLES)}")
        errors = []
        if role not in ROLES:
            errors.append({"field": "role", "message": f"one of {sorted(ROLES)}"})
        title = body.get("title")
        if not isinstance(title, str) or not title.strip():
            errors.append({"field": "title", "message": "required"})
        duties = body.get("duties")
        if not isinstance(duties, list) or not duties:
            errors.append({"field": "duties", "message": "a non-empty list"})
            duties = []
        seen = set()
        for i, d in enumerate(duties):
            if not isinstance(d, dict):
                errors.append({"field": f"duties.{i}", "message": "must be an object"})
                continue
            code = d.get("code")
            if not isinstance(code, str) or not code.strip() or len(code) > 64:
                errors.append({"field": f"duties.{i}.code", "message": "required, at most 64 characters"})
            elif code in seen:
                errors.append({"field": f"duties.{i}.code", "message": f"duplicate code '{code}'"})
            seen.add(code)
            if not isinstance(d.get("title"), str) or not d["title"].strip():
                errors.append({"field": f"duties.{i}.title", "message": "required"})
            tasks = d.get("tasks", [])
            if not isinstance(tasks, list) or not all(isinstance(t, dict) and isinstance(t.get("process_key", "*"), str)
                                                      and isinstance(t.get("bpmn_id", "*"), str) for t in tasks):
                errors.append({"field": f"duties.{i}.tasks",
                               "message": "a list of {process_key, bpmn_id} patterns ('*' matches all)"})
        if errors:
            raise Invalid("invalid responsibility list", errors=errors)
        scope = department or "*"
        with self.db.session() as s:
            version = (s.scalar(select(func.max(DutyList.version)).where(DutyList.role == role,
                                                                         DutyList.scope == scope)) or 0) + 1
            lst = DutyList(role=role, scope=scope, version=version, title=title.strip(),
                           note=str(body.get("note") or ""), created_by=principal.username)
            s.add(lst)
            s.flush()
            for i, d in enumerate(duties):
                s.add(Duty(list_id=lst.id, code=d["code"].strip(), title=d["title"].strip(),
                           description=str(d.get("description") or ""), position=i,
                           tasks=[{"process_key": t.get("process_key", "*"), "bpmn_id": t.get("bpmn_id", "*")}
                                  for t in d.get("tasks", [])]))
            s.flush()
            return self._list_json(s, lst)

    def current(self, role: str, department: str | None = None, version: int | None = None) -> dict:
        """The list of a post in force for a department (its own list, else the plant-wide one)."""
        self.ensure_defaults()
        with self.db.session(write=False) as s:
            lst = self._current(s, role, department, version)
            if lst is None:
                raise NotFound(f"no responsibility list for role '{role}'" + (f" version {version}" if version else ""))
            return self._list_json(s, lst)

    def versions(self, role: str) -> list[dict]:
        """Every version of a post's lists (newest first)."""
        self.ensure_defaults()
        with self.db.session(write=False) as s:
            return [{"id": x.id, "role": x.role, "scope": x.scope, "version": x.version, "title": x.title,
                     "note": x.note, "created_at": x.created_at.isoformat(), "created_by": x.created_by}
                    for x in s.scalars(select(DutyList).where(DutyList.role == role)
                                       .order_by(DutyList.scope, DutyList.version.desc()))]

    @staticmethod
    def _current(s, role, department, version=None):
        for scope in ([department] if department else []) + ["*"]:
            q = select(DutyList).where(DutyList.role == role, DutyList.scope == scope)
            q = q.where(DutyList.version == version) if version else q.order_by(DutyList.version.desc())
            lst = s.scalar(q.limit(1))
            if lst is not None:
                return lst
        return None

    @staticmethod
    def _list_json(s, lst: DutyList) -> dict:
        duties = s.scalars(select(Duty).where(Duty.list_id == lst.id).order_by(Duty.position)).all()
        return {"id": lst.id, "role": lst.role, "role_name": ROLES.get(lst.role, lst.role), "scope": lst.scope,
                "version": lst.version, "title": lst.title, "note": lst.note,
                "created_at": lst.created_at.isoformat(), "created_by": lst.created_by,
                "duties": [{"code": d.code, "title": d.title, "description": d.description, "tasks": d.tasks}
                           for d in duties]}

    # ------------------------------------------------------------------ my duties

    def my_duties(self, principal: Principal) -> dict:
        """For each of my posts: its duties in force, each with the open tasks that fulfil it."""
        self.ensure_defaults()
        with self.db.session(write=False) as s:
            lists = [self._list_json(s, x) for x in
                     (self._current(s, role, principal.department) for role in sorted(principal.roles)) if x]
            conds = [TaskRecord.state == "ready"]
            claimable = [TaskRecord.candidate_role.in_(sorted(principal.roles))]
            if not principal.sees_all_departments:
                claimable.append(or_(TaskRecord.department == principal.department, TaskRecord.department.is_(None)))
            from sqlalchemy import and_

            conds.append(or_(TaskRecord.assignee == principal.username,
                             and_(TaskRecord.assignee.is_(None), *claimable)))
            tasks = [(t.id, t.candidate_role, t.process_key, t.bpmn_id, task_summary(t)) for t in
                     s.scalars(select(TaskRecord).where(*conds).order_by(TaskRecord.due_at.is_(None),
                                                                         TaskRecord.due_at, TaskRecord.created_at)
                               .limit(2000))]
        placed = set()
        for lst in lists:
            for duty in lst["duties"]:
                duty["open_tasks"] = []
                for tid, role, key, bpmn_id, summary in tasks:
                    if role == lst["role"] and matches(duty["tasks"], key, bpmn_id):
                        duty["open_tasks"].append(summary)
                        placed.add(tid)
                duty["open_count"] = len(duty["open_tasks"])
        other = [t[4] for t in tasks if t[0] not in placed]
        return {"user": principal.username, "department": principal.department, "roles": sorted(principal.roles),
                "lists": lists, "unassigned_tasks": other,
                "open_total": len(tasks)}

    # ------------------------------------------------------------------ lanes

    def lanes(self, process_key: str | None = None) -> list[dict]:
        """Each deployed process (latest version): its lanes, their role, tasks, and the duties they fulfil."""
        self.ensure_defaults()
        with self.db.session(write=False) as s:
            latest = select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("v")) \
                .group_by(ProcessDefinition.key).subquery()
            q = select(ProcessDefinition).join(latest, (ProcessDefinition.key == latest.c.key)
                                               & (ProcessDefinition.version == latest.c.v))
            if process_key:
                q = q.where(ProcessDefinition.key == process_key)
            defs = s.scalars(q.order_by(ProcessDefinition.key)).all()
            if process_key and not defs:
                raise NotFound(f"no process definition '{process_key}'")
            lists = {}
            out = []
            for d in defs:
                lanes_out = []
                for lane_name, tasks in _lanes_of(d.bundle, d.key):
                    role = role_for_lane(lane_name)
                    if role not in lists:
                        lst = self._current(s, role, None) if role else None
                        lists[role] = self._list_json(s, lst) if lst else None
                    lst = lists[role]
                    duty_map = []
                    for bpmn_id, name in tasks:
                        fulfils = [{"code": du["code"], "title": du["title"]} for du in (lst or {}).get("duties", [])
                                   if matches(du["tasks"], d.key, bpmn_id)]
                        duty_map.append({"bpmn_id": bpmn_id, "name": name, "duties": fulfils})
                    codes = sorted({x["code"] for t in duty_map for x in t["duties"]})
                    lanes_out.append({"lane": lane_name, "role": role,
                                      "list_version": lst["version"] if lst else None,
                                      "duties": [du for du in (lst or {}).get("duties", []) if du["code"] in codes],
                                      "tasks": duty_map})
                out.append({"process_key": d.key, "version": d.version, "name": d.name, "lanes": lanes_out})
            return out


def _lanes_of(bundle: dict, key: str):
    for text in (bundle or {}).get("bpmn", {}).values():
        root = etree.fromstring(text.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
        for proc in root.iter(f"{BPMN}process"):
            if proc.get("id") != key:
                continue
            names = {}
            for kind in HUMAN:
                for el in proc.iter(f"{BPMN}{kind}"):
                    names[el.get("id")] = el.get("name") or el.get("id")
            for lane in proc.iter(f"{BPMN}lane"):
                refs = [r.text.strip() for r in lane.findall(f"{BPMN}flowNodeRef") if r.text]
                yield lane.get("name") or lane.get("id"), [(r, names[r]) for r in refs if r in names]
