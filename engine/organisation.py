"""The plant's organisation: departments, areas (with their hazard class) and users.

Admin work, through REST (api/blueprints/organisation.py), the CLI and a file import.
Every change is one event of the global audit chain (actor: the admin; data: what
changed, old and new, never a password or its hash). A refused change stores nothing.

Import file (CSV or Excel, first row the column names, one ``record`` column saying what a
row is; the columns a record does not use are left empty):

==============  ====================  =====================  ===========================
column          department            area                   user
==============  ====================  =====================  ===========================
record          ``department``        ``area``               ``user``
code            department code       area code              username
name            name (required)       name (required)        display name (default: code)
kind            DEPARTMENT_KINDS
department                            owning department      the user's department
classification                        AREA_CLASSIFICATIONS
roles                                                        role codes, ``;`` or ``,``
active                                                       true/false (empty: true)
password                                                     only to create a user
==============  ====================  =====================  ===========================

A row states the whole record: importing the same file again changes nothing. A
password is used only to create a user (resets go through ``reset_password``), so a
file never silently changes one. Rows are applied departments first, then areas,
then users, whatever their order in the file.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import func, select

from engine import audit
from engine.db import Database
from engine.errors import Conflict, Invalid, NotFound
from engine.models import Area, Department, User, UserRole
from engine.roles import ROLES
from engine.users import UserService, hash_password, password_matches

DEPARTMENT_KINDS = ("production", "supervision", "maintenance", "emergency", "leadership", "other")
# Hazard classes of an area (bpmn/area_classification.dmn decides the same classes for the library).
AREA_CLASSIFICATIONS = ("fire_explosion", "major_hazard_tank_farm", "pipe_rack", "general")
RECORDS = ("department", "area", "user")
IMPORT_COLUMNS = ("record", "code", "name", "kind", "department", "classification", "roles", "active", "password")
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 1000
MAX_NAME = 200
_TRUE = {"true", "1", "yes", "y", "on", "是"}
_FALSE = {"false", "0", "no", "n", "off", "否"}


@dataclass
class ImportReport:
    """Per-row outcome of an organisation import."""

    rows: list[dict] = field(default_factory=list)

    def add(self, row: int, record: str, code, result: str, errors: list[dict] | None = None,
            changes: dict | None = None) -> None:
        entry = {"row": row, "record": record, "code": code, "result": result}
        if errors:
            entry["errors"] = errors
        if changes:
            entry["changes"] = sorted(changes)
        self.rows.append(entry)

    def as_dict(self) -> dict:
        counts = {k: sum(1 for r in self.rows if r["result"] == k)
                  for k in ("created", "updated", "unchanged", "rejected")}
        return {**counts, "rows": sorted(self.rows, key=lambda r: r["row"])}


class OrganisationService:
    """Departments, areas and users, changed by an admin; knows nothing of HTTP."""

    def __init__(self, db: Database, users: UserService, *, max_import_bytes: int, max_import_rows: int,
                 max_import_new_users: int = 200):
        self.db = db
        self.users = users
        self.max_import_bytes = max_import_bytes
        self.max_import_rows = max_import_rows
        # Each new user costs one argon2 hash (0.05 to 0.5 s of CPU): this bounds an import's time.
        self.max_import_new_users = max_import_new_users

    # ------------------------------------------------------------------ reading

    def departments(self) -> list[dict]:
        """Every department, by code."""
        with self.db.session(write=False) as s:
            return [_department(d) for d in s.scalars(select(Department).order_by(Department.code))]

    def directory(self) -> dict:
        """Names for the codes every screen shows (users, departments, areas), for anyone signed in.

        Only code → name: a worker reads "张工" and "备件仓库" where a row holds worker1 and warehouse;
        roles, classifications and who is active stay with the admin endpoints.
        """
        with self.db.session(write=False) as s:
            return {
                "users": [{"username": u, "display_name": n or u}
                          for u, n in s.execute(select(User.username, User.display_name).order_by(User.username))],
                "departments": [{"code": c, "name": n}
                                for c, n in s.execute(select(Department.code, Department.name).order_by(Department.code))],
                "areas": [{"code": c, "name": n}
                          for c, n in s.execute(select(Area.code, Area.name).order_by(Area.code))],
            }

    def department(self, code: str) -> dict:
        """One department (404 when unknown)."""
        with self.db.session(write=False) as s:
            return _department(self._department_row(s, code))

    def areas(self) -> list[dict]:
        """Every area, by code."""
        with self.db.session(write=False) as s:
            return [_area(a) for a in s.scalars(select(Area).order_by(Area.code))]

    def area(self, code: str) -> dict:
        """One area (404 when unknown)."""
        with self.db.session(write=False) as s:
            return _area(self._area_row(s, code))

    def list_users(self, *, department: str | None = None, active: bool | None = None) -> list[dict]:
        """Users (optionally of one department, or only (in)active ones), by username."""
        with self.db.session(write=False) as s:
            q = select(User).order_by(User.username)
            if department is not None:
                q = q.where(User.department == department)
            if active is not None:
                q = q.where(User.active.is_(active))
            users = s.scalars(q).all()
            roles = _roles_of(s, [u.id for u in users])
            return [_user(u, roles.get(u.id, [])) for u in users]

    def page_users(self, *, department: str | None = None, active: bool | None = None, role: str | None = None,
                   q: str | None = None, page: int = 1, page_size: int = 50) -> dict:
        """A page of users by username, ``{items, total, page, page_size}``: optionally of one department,
        holding one role, only (in)active ones, or whose username or display name contains ``q``
        (case-insensitive; ``%`` and ``_`` are literal)."""
        conds = []
        if department is not None:
            conds.append(User.department == department)
        if active is not None:
            conds.append(User.active.is_(active))
        if role is not None:
            conds.append(User.id.in_(select(UserRole.user_id).where(UserRole.role == role)))
        if q:
            pattern = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            conds.append(func.lower(User.username).like(pattern, escape="\\")
                         | func.lower(User.display_name).like(pattern, escape="\\"))
        with self.db.session(write=False) as s:
            total = s.scalar(select(func.count()).select_from(User).where(*conds))
            users = s.scalars(select(User).where(*conds).order_by(User.username)
                              .offset((page - 1) * page_size).limit(page_size)).all()
            roles = _roles_of(s, [u.id for u in users])
            return {"items": [_user(u, roles.get(u.id, [])) for u in users], "total": total, "page": page,
                    "page_size": page_size}

    @staticmethod
    def vocabulary() -> dict:
        """The codes a user, department or area form chooses from: roles (with their Chinese names),
        department kinds and area hazard classifications."""
        return {"roles": [{"code": code, "name": name} for code, name in ROLES.items()],
                "department_kinds": list(DEPARTMENT_KINDS), "area_classifications": list(AREA_CLASSIFICATIONS)}

    def user(self, username: str) -> dict:
        """One user with roles and whether active (404 when unknown)."""
        with self.db.session(write=False) as s:
            u = self._user_row(s, username)
            return _user(u, _roles_of(s, [u.id]).get(u.id, []))

    # ------------------------------------------------------------------ departments and areas

    def add_department(self, actor: str, code: str, name: str, kind: str = "production") -> dict:
        """Create a department (409 when the code exists)."""
        values = self._check_department({"code": code, "name": name, "kind": kind}, create=True)
        with self.db.session() as s:
            if s.scalar(select(Department.id).where(Department.code == values["code"])) is not None:
                raise Conflict(f"department '{code}' exists")
            s.add(Department(**values))
            audit.append(s, actor=actor, kind="org_department_created", data={"department": values})
        return values

    def update_department(self, actor: str, code: str, **changes) -> dict:
        """Change a department's name or kind (the code is its identity and stays)."""
        with self.db.session() as s:
            row = self._department_row(s, code)
            current = _department(row)
            values = self._check_department({**current, **_given(changes, ("name", "kind"))}, create=False)
            diff = _diff(current, values)
            if diff:
                row.name, row.kind = values["name"], values["kind"]
                audit.append(s, actor=actor, kind="org_department_updated", data={"code": code, "changes": diff})
            return values

    def add_area(self, actor: str, code: str, name: str, department: str | None, classification: str) -> dict:
        """Create an area of a department with its hazard classification."""
        with self.db.session() as s:
            values = self._check_area(s, {"code": code, "name": name, "department": department or None,
                                          "classification": classification})
            if s.scalar(select(Area.id).where(Area.code == values["code"])) is not None:
                raise Conflict(f"area '{code}' exists")
            s.add(Area(**values))
            audit.append(s, actor=actor, kind="org_area_created", data={"area": values})
            return values

    def update_area(self, actor: str, code: str, **changes) -> dict:
        """Change an area's name, department or hazard classification."""
        with self.db.session() as s:
            row = self._area_row(s, code)
            current = _area(row)
            values = self._check_area(s, {**current, **_given(changes, ("name", "department", "classification"))})
            diff = _diff(current, values)
            if diff:
                row.name, row.department, row.classification = (values["name"], values["department"],
                                                                values["classification"])
                audit.append(s, actor=actor, kind="org_area_updated", data={"code": code, "changes": diff})
            return values

    # ------------------------------------------------------------------ users

    def add_user(self, actor: str, username: str, password: str, roles, department: str | None = None,
                 display_name: str = "", active: bool = True) -> dict:
        """Create a user (409 when the username exists)."""
        errors = _password_errors(password)
        # Hashed before the write transaction: argon2 takes 0.05-0.5 s, too long to hold SQLite's write lock.
        password_hash = None if errors else hash_password(password)
        with self.db.session() as s:
            values = self._check_user(s, {"username": username, "display_name": display_name or username,
                                          "department": department or None, "roles": roles, "active": active})
            if errors:
                raise Invalid("invalid user", errors=errors)
            if s.scalar(select(User.id).where(User.username == values["username"])) is not None:
                raise Conflict(f"user '{username}' exists")
            self._insert_user(s, values, password_hash)
            audit.append(s, actor=actor, kind="org_user_created", data={"user": values})
        self.users.forget(values["username"])
        return values

    def update_user(self, actor: str, username: str, **changes) -> dict:
        """Change a user's roles, department, display name or whether active.

        Deactivating revokes every token of the user (its epoch moves on); a role or
        department change reaches every server process within the auth refresh period.
        """
        with self.db.session() as s:
            row = self._user_row(s, username)
            current = _user(row, _roles_of(s, [row.id]).get(row.id, []))
            given = _given(changes, ("display_name", "department", "roles", "active"))
            values = self._check_user(s, {**current, **given})
            diff = self._apply_user(s, row, current, values)
            if diff:
                audit.append(s, actor=actor, kind="org_user_updated", data={"username": username, "changes": diff})
        self.users.forget(username)
        return values

    def put_user(self, actor: str, username: str, password: str, roles, department: str | None = None,
                 display_name: str = "") -> dict:
        """Create the user, or bring an existing one to these roles, department and name,
        active, with this password (reset, revoking tokens, only when it differs)."""
        with self.db.session(write=False) as s:
            row = s.scalar(select(User).where(User.username == username))
            exists, same_password = row is not None, row is not None and password_matches(row.password_hash, password)
        if not exists:
            return self.add_user(actor, username, password, roles, department, display_name)
        values = self.update_user(actor, username, roles=list(roles), department=department or None,
                                  display_name=display_name or username, active=True)
        if not same_password:
            values = self.reset_password(actor, username, password)
        return values

    def reset_password(self, actor: str, username: str, password: str) -> dict:
        """Set a new password; every token issued before stops working."""
        errors = _password_errors(password)
        if errors:
            raise Invalid("invalid password", errors=errors)
        password_hash = hash_password(password)  # outside the write transaction (see add_user)
        with self.db.session() as s:
            row = self._user_row(s, username)
            row.password_hash = password_hash
            row.token_epoch = (row.token_epoch or 0) + 1
            audit.append(s, actor=actor, kind="org_user_password_reset", data={"username": username})
        self.users.forget(username)
        return self.user(username)

    # ------------------------------------------------------------------ import

    def import_file(self, actor: str, filename: str, data: bytes, *, sheet: str | None = None,
                    max_new_users: int | None = None) -> dict:
        """Import departments, areas and users from CSV or Excel (see the module docstring).

        Valid rows are stored in one transaction, each change an audit event; a bad row is
        rejected with its row number, field and message and stores nothing. 422 for an
        unreadable file or one past the size, row or new-user limits (``max_new_users``
        overrides the last for this call).
        """
        from engine.hub.importer import detect_format, read_rows

        if len(data) > self.max_import_bytes:
            raise Invalid("file too large", errors=[{"field": "file", "message": f"{len(data)} bytes; at most "
                                                     f"{self.max_import_bytes} (ANJIAN_ORG_IMPORT_MAX_BYTES)"}])
        fmt = detect_format(filename)
        if fmt not in ("csv", "xlsx"):
            raise Invalid(f"cannot import '{filename}'", errors=[{"field": "file",
                                                                  "message": "use a .csv or .xlsx file"}])
        rows, total = read_rows(data, fmt, sheet=sheet)
        if total > self.max_import_rows:
            raise Invalid("too many rows", errors=[{"field": "file", "message": f"{total} rows; at most "
                                                    f"{self.max_import_rows} (ANJIAN_ORG_IMPORT_MAX_ROWS)"}])
        if rows:
            unknown = sorted({k for _, r in rows for k in r if k not in IMPORT_COLUMNS and k})
            if unknown:
                raise Invalid("unknown columns", errors=[{"field": c, "message": f"not a column; the columns are "
                                                          f"{list(IMPORT_COLUMNS)}"} for c in unknown])
        hashes = self._hash_new_passwords(rows, self.max_import_new_users if max_new_users is None else max_new_users)
        report = ImportReport()
        order = {name: i for i, name in enumerate(RECORDS)}
        keyed = sorted(rows, key=lambda nr: order.get(_cell(nr[1].get("record")).lower(), len(RECORDS)))
        seen: dict[tuple[str, str], int] = {}
        with self.db.session() as s:
            for number, raw in keyed:
                record = _cell(raw.get("record")).lower()
                code = _cell(raw.get("code"))
                if record not in RECORDS:
                    report.add(number, record, code or None, "rejected",
                               [{"field": "record", "message": f"one of {list(RECORDS)}"}])
                    continue
                if (record, code) in seen:
                    report.add(number, record, code, "rejected", [{"field": "code", "message":
                               f"{record} '{code}' is already in row {seen[(record, code)]}"}])
                    continue
                try:
                    # A savepoint per row: a row the database refuses leaves the others stored.
                    with s.begin_nested():
                        result, changes = getattr(self, f"_import_{record}")(s, actor, number, raw, hashes)
                except (Invalid, Conflict) as err:
                    report.add(number, record, code or None, "rejected", err.errors or [
                        {"field": "(row)", "message": err.detail}])
                    continue
                seen[(record, code)] = number
                report.add(number, record, code, result, changes=changes)
        for entry in report.rows:
            if entry["record"] == "user" and entry["result"] == "updated":
                self.users.forget(entry["code"])
        return report.as_dict()

    def _hash_new_passwords(self, rows, limit: int) -> dict[str, str]:
        """Password hashes of the users the file creates, worked out before the write
        transaction (argon2 is slow by design); 422 past ``limit`` new users."""
        wanted = {}
        for _, r in rows:
            name, password = _cell(r.get("code")), _cell(r.get("password"))
            if _cell(r.get("record")).lower() == "user" and name not in wanted:
                wanted[name] = password
        known = set()
        with self.db.session(write=False) as s:
            names = sorted(wanted)
            for i in range(0, len(names), 500):
                known.update(s.scalars(select(User.username).where(User.username.in_(names[i:i + 500]))))
        new = {name: pw for name, pw in wanted.items() if name not in known}
        if len(new) > limit:
            raise Invalid("too many new users", errors=[{"field": "file", "message": (
                f"{len(new)} new users; at most {limit} per import (ANJIAN_ORG_IMPORT_MAX_NEW_USERS): each costs "
                "a password hash. Split the file, or raise the limit for a first load from the CLI")}])
        return {name: hash_password(pw) for name, pw in new.items() if not _password_errors(pw)}

    def _import_department(self, s, actor, number, raw, hashes):
        values = self._check_department({"code": _cell(raw.get("code")), "name": _cell(raw.get("name")),
                                         "kind": _cell(raw.get("kind")) or "production"}, create=True)
        row = s.scalar(select(Department).where(Department.code == values["code"]))
        if row is None:
            s.add(Department(**values))
            s.flush()
            audit.append(s, actor=actor, kind="org_department_created",
                         data={"department": values, "import_row": number})
            return "created", None
        diff = _diff(_department(row), values)
        if not diff:
            return "unchanged", None
        row.name, row.kind = values["name"], values["kind"]
        audit.append(s, actor=actor, kind="org_department_updated",
                     data={"code": values["code"], "changes": diff, "import_row": number})
        return "updated", diff

    def _import_area(self, s, actor, number, raw, hashes):
        values = self._check_area(s, {"code": _cell(raw.get("code")), "name": _cell(raw.get("name")),
                                      "department": _cell(raw.get("department")) or None,
                                      "classification": _cell(raw.get("classification"))})
        row = s.scalar(select(Area).where(Area.code == values["code"]))
        if row is None:
            s.add(Area(**values))
            s.flush()
            audit.append(s, actor=actor, kind="org_area_created", data={"area": values, "import_row": number})
            return "created", None
        diff = _diff(_area(row), values)
        if not diff:
            return "unchanged", None
        row.name, row.department, row.classification = values["name"], values["department"], values["classification"]
        audit.append(s, actor=actor, kind="org_area_updated",
                     data={"code": values["code"], "changes": diff, "import_row": number})
        return "updated", diff

    def _import_user(self, s, actor, number, raw, hashes):
        username = _cell(raw.get("code"))
        active = _bool(raw.get("active"), "active", default=True)
        values = self._check_user(s, {"username": username, "display_name": _cell(raw.get("name")) or username,
                                      "department": _cell(raw.get("department")) or None,
                                      "roles": _split_roles(raw.get("roles")), "active": active})
        row = s.scalar(select(User).where(User.username == values["username"]))
        if row is None:
            errors = _password_errors(_cell(raw.get("password")))
            if errors or values["username"] not in hashes:
                raise Invalid("invalid user", errors=[{**e, "message": e["message"] + " (needed to create a user)"}
                                                      for e in errors or _password_errors(None)])
            self._insert_user(s, values, hashes[values["username"]])
            audit.append(s, actor=actor, kind="org_user_created", data={"user": values, "import_row": number})
            return "created", None
        current = _user(row, _roles_of(s, [row.id]).get(row.id, []))
        diff = self._apply_user(s, row, current, values)
        if not diff:
            return "unchanged", None
        audit.append(s, actor=actor, kind="org_user_updated",
                     data={"username": username, "changes": diff, "import_row": number})
        return "updated", diff

    # ------------------------------------------------------------------ checks and writes

    @staticmethod
    def _check_department(values: dict, *, create: bool) -> dict:
        errors = []
        code, name, kind = values.get("code"), values.get("name"), values.get("kind")
        if create and (not isinstance(code, str) or not CODE.match(code)):
            errors.append({"field": "code", "message": "1 to 64 letters, digits, '.', '_' or '-'"})
        errors += _name_errors(name, "name", required=True)
        if kind not in DEPARTMENT_KINDS:
            errors.append({"field": "kind", "message": f"one of {list(DEPARTMENT_KINDS)}"})
        if errors:
            raise Invalid("invalid department", errors=errors)
        return {"code": code, "name": name.strip(), "kind": kind}

    @staticmethod
    def _check_area(s, values: dict) -> dict:
        errors = []
        code, dept = values.get("code"), values.get("department")
        if not isinstance(code, str) or not CODE.match(code):
            errors.append({"field": "code", "message": "1 to 64 letters, digits, '.', '_' or '-'"})
        errors += _name_errors(values.get("name"), "name", required=True)
        if values.get("classification") not in AREA_CLASSIFICATIONS:
            errors.append({"field": "classification", "message": f"one of {list(AREA_CLASSIFICATIONS)}"})
        errors += _department_errors(s, dept)
        if errors:
            raise Invalid("invalid area", errors=errors)
        return {"code": code, "name": values["name"].strip(), "department": dept,
                "classification": values["classification"]}

    @staticmethod
    def _check_user(s, values: dict) -> dict:
        errors = []
        username, roles, active = values.get("username"), values.get("roles"), values.get("active")
        if not isinstance(username, str) or not USERNAME.match(username):
            errors.append({"field": "username", "message": "1 to 100 letters, digits, '.', '_', '@' or '-'"})
        errors += _name_errors(values.get("display_name"), "display_name", required=True)
        if not isinstance(roles, (list, tuple)) or not roles or not all(isinstance(r, str) for r in roles):
            errors.append({"field": "roles", "message": f"one or more of {list(ROLES)}"})
        else:
            unknown = sorted({r for r in roles if r not in ROLES})
            if unknown:
                errors.append({"field": "roles", "message": f"unknown role(s) {unknown}; known: {list(ROLES)}"})
        if not isinstance(active, bool):
            errors.append({"field": "active", "message": "true or false"})
        errors += _department_errors(s, values.get("department"))
        if errors:
            raise Invalid("invalid user", errors=errors)
        return {"username": username, "display_name": values["display_name"].strip(),
                "department": values.get("department"), "roles": sorted(set(roles)), "active": active}

    @staticmethod
    def _insert_user(s, values: dict, password_hash: str) -> None:
        user = User(username=values["username"], display_name=values["display_name"],
                    department=values["department"], active=values["active"], token_epoch=0,
                    password_hash=password_hash)
        s.add(user)
        s.flush()
        for role in values["roles"]:
            s.add(UserRole(user_id=user.id, role=role))

    @staticmethod
    def _apply_user(s, row: User, current: dict, values: dict) -> dict:
        diff = _diff(current, values)
        if not diff:
            return diff
        if current["active"] and "admin" in current["roles"] and not (values["active"] and "admin" in values["roles"]):
            others = s.scalar(select(func.count()).select_from(User).join(UserRole, UserRole.user_id == User.id)
                              .where(UserRole.role == "admin", User.active.is_(True), User.id != row.id))
            if not others:
                raise Conflict(f"'{row.username}' is the last active admin; make someone else admin first")
        row.display_name, row.department = values["display_name"], values["department"]
        if current["active"] and not values["active"]:
            row.token_epoch = (row.token_epoch or 0) + 1  # every token out stops working
        row.active = values["active"]
        if "roles" in diff:
            s.query(UserRole).filter(UserRole.user_id == row.id).delete()
            for role in values["roles"]:
                s.add(UserRole(user_id=row.id, role=role))
        return diff

    @staticmethod
    def _department_row(s, code: str) -> Department:
        return _row(s, Department, Department.code, code, "department")

    @staticmethod
    def _area_row(s, code: str) -> Area:
        return _row(s, Area, Area.code, code, "area")

    @staticmethod
    def _user_row(s, username: str) -> User:
        return _row(s, User, User.username, username, "user")


def _row(s, model, column, value: str, what: str):
    """The row of ``model`` whose ``column`` is ``value``; 404 naming ``what`` otherwise."""
    row = s.scalar(select(model).where(column == value))
    if row is None:
        raise NotFound(f"no {what} '{value}'")
    return row


def _department(d: Department) -> dict:
    return {"code": d.code, "name": d.name, "kind": d.kind}


def _area(a: Area) -> dict:
    return {"code": a.code, "name": a.name, "department": a.department, "classification": a.classification}


def _user(u: User, roles: list[str]) -> dict:
    return {"username": u.username, "display_name": u.display_name, "department": u.department,
            "roles": sorted(roles), "active": bool(u.active)}


def _roles_of(s, user_ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    if user_ids:
        for uid, role in s.execute(select(UserRole.user_id, UserRole.role).where(UserRole.user_id.in_(user_ids))):
            out.setdefault(uid, []).append(role)
    return out


def _given(changes: dict, allowed: tuple[str, ...]) -> dict:
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise Invalid("unknown fields", errors=[{"field": f, "message": f"cannot be changed; changeable: "
                                                 f"{list(allowed)}"} for f in unknown])
    return dict(changes)


def _diff(old: dict, new: dict) -> dict:
    """``{field: {"old", "new"}}`` of what differs (what the audit event records)."""
    return {k: {"old": old.get(k), "new": v} for k, v in new.items() if old.get(k) != v}


def _name_errors(value, name: str, *, required: bool) -> list[dict]:
    if value is None or (isinstance(value, str) and not value.strip()):
        return [{"field": name, "message": "required"}] if required else []
    if not isinstance(value, str) or len(value) > MAX_NAME:
        return [{"field": name, "message": f"text of at most {MAX_NAME} characters"}]
    return []


def _department_errors(s, code) -> list[dict]:
    if code is None:
        return []
    if not isinstance(code, str) or s.scalar(select(Department.id).where(Department.code == code)) is None:
        return [{"field": "department", "message": f"no department '{code}'"}]
    return []


def _password_errors(password) -> list[dict]:
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        return [{"field": "password", "message": f"{MIN_PASSWORD} to {MAX_PASSWORD} characters"}]
    return []


def _cell(value) -> str:
    """A file cell as trimmed text (Excel gives numbers and None)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _bool(value, name: str, *, default: bool) -> bool:
    if isinstance(value, bool):
        return value
    text = _cell(value).lower()
    if not text:
        return default
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise Invalid("invalid value", errors=[{"field": name, "message": "true or false"}])


def _split_roles(value) -> list[str]:
    return [r for r in re.split(r"[;,\s]+", _cell(value)) if r]
