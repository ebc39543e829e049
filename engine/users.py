"""Users, roles and departments; password checks and bearer tokens."""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, select

from engine.db import Database
from engine.errors import Conflict, Invalid, NotFound, Unauthorized
from engine.models import Area, Department, User, UserRole, utcnow
from engine.principal import Principal
from engine.roles import ROLES

_HASHER = PasswordHasher()
# Verifying against a dummy hash for unknown users keeps login timing uniform.
_DUMMY_HASH = _HASHER.hash("anjian-dummy-password")
TOKEN_ALGORITHM = "HS256"
_VERIFIED_TOKENS_KEPT = 4096
_FACTS_KEPT = 4096
# One indexed read (users.username is unique) per user and refresh period: a row per role.
_FACTS = (select(User.active, User.department, User.token_epoch, UserRole.role)
          .select_from(User).outerjoin(UserRole, UserRole.user_id == User.id)
          .where(User.username == bindparam("p_username")))


def password_matches(password_hash: str | None, password: str) -> bool:
    """True when ``password`` is the one ``password_hash`` was made from."""
    try:
        return bool(password_hash) and _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def hash_password(password: str) -> str:
    """An argon2 hash of ``password``."""
    return _HASHER.hash(password)


@dataclass(frozen=True)
class _Facts:
    """What authorization needs to know about a user now, and when it was read."""

    principal: Principal | None  # None: no such user, or deactivated
    epoch: int
    read_at: float


class UserService:
    """Creates users and turns credentials into signed bearer tokens.

    A token proves who signed in, not what they may do: every request's Principal is
    built from the user's current facts (active, roles, department, token epoch), which
    each process keeps for at most ``refresh_seconds`` (``ANJIAN_AUTH_REFRESH_SECONDS``).
    A deactivated or demoted user, or a token issued before a password reset, stops
    working on every process within that time, whatever tokens are out.
    """

    def __init__(self, db: Database, secret_key: str, token_ttl_seconds: int, refresh_seconds: float = 5.0):
        self.db = db
        self.secret_key = secret_key
        self.token_ttl = token_ttl_seconds
        self.refresh_seconds = refresh_seconds
        # token -> (username, epoch, exp): a client sends the same token with every request, and an
        # HMAC check plus claim parsing was 4 % of a request's CPU. Only verified tokens are kept.
        self._verified: dict[str, tuple[str, int, int]] = {}
        # username -> _Facts: one indexed query per user and refresh period in this process.
        self._facts: dict[str, _Facts] = {}

    def add_user(self, username: str, password: str, roles: list[str], department: str | None = None,
                 display_name: str = "", *, replace: bool = False) -> User:
        """Create (or with ``replace`` update) a user with the given roles.

        Replacing with another password (or reactivating) revokes the user's tokens.
        """
        errors = []
        if not username or len(username) > 100:
            errors.append({"field": "username", "message": "1 to 100 characters"})
        if not password or len(password) < 8:
            errors.append({"field": "password", "message": "at least 8 characters"})
        unknown = [r for r in roles if r not in ROLES]
        if not roles or unknown:
            errors.append({"field": "role", "message": f"unknown role(s) {unknown}; known: {list(ROLES)}"})
        if errors:
            raise Invalid("invalid user", errors=errors)
        with self.db.session() as s:
            if department and s.scalar(select(Department.id).where(Department.code == department)) is None:
                raise Invalid("unknown department", errors=[{"field": "department",
                                                             "message": f"no department '{department}'"}])
            user = s.scalar(select(User).where(User.username == username))
            if user is not None and not replace:
                raise Conflict(f"user '{username}' exists")
            if user is None:
                user = User(username=username, token_epoch=0)
                s.add(user)
                user.password_hash = _HASHER.hash(password)
            elif not password_matches(user.password_hash, password) or not user.active:
                user.password_hash = _HASHER.hash(password)
                user.token_epoch = (user.token_epoch or 0) + 1
            user.department = department
            user.display_name = display_name or username
            user.active = True
            s.flush()
            s.query(UserRole).filter(UserRole.user_id == user.id).delete()
            for role in sorted(set(roles)):
                s.add(UserRole(user_id=user.id, role=role))
        self.forget(username)
        return user

    def ensure_department(self, code: str, name: str, kind: str = "production") -> None:
        """Create a department if it does not exist."""
        with self.db.session() as s:
            if s.scalar(select(Department).where(Department.code == code)) is None:
                s.add(Department(code=code, name=name, kind=kind))

    def ensure_area(self, code: str, name: str, department: str | None, classification: str) -> None:
        """Create an area if it does not exist."""
        with self.db.session() as s:
            if s.scalar(select(Area).where(Area.code == code)) is None:
                s.add(Area(code=code, name=name, department=department, classification=classification))

    def login(self, username: str, password: str) -> dict:
        """Check credentials and return ``{access_token, token_type, expires_in}``."""
        with self.db.session(write=False) as s:
            user = s.scalar(select(User).where(User.username == username))
            pw_hash = user.password_hash if user is not None and user.active else _DUMMY_HASH
            try:
                _HASHER.verify(pw_hash, password)
                ok = user is not None and user.active
            except (VerificationError, InvalidHashError):
                ok = False
            if not ok:
                raise Unauthorized("wrong username or password")
            roles = sorted(s.scalars(select(UserRole.role).where(UserRole.user_id == user.id)))
            now = utcnow()
            # roles and dept are for the client's information; the server reads current facts.
            claims = {
                "sub": user.username, "roles": roles, "dept": user.department, "ep": user.token_epoch or 0,
                "iat": int(now.timestamp()), "exp": int((now + timedelta(seconds=self.token_ttl)).timestamp()),
            }
        token = jwt.encode(claims, self.secret_key, algorithm=TOKEN_ALGORITHM)
        return {"access_token": token, "token_type": "bearer", "expires_in": self.token_ttl}

    def principal_from_token(self, token: str) -> Principal:
        """Verify a bearer token and answer who is acting, with their current roles and department.

        The signature is checked once per token (then remembered until its ``exp``); the
        user's facts come from :meth:`facts`, at most ``refresh_seconds`` old. 401 when the
        user is gone or deactivated, or the token predates a password reset (its epoch).
        """
        now = time.time()
        known = self._verified.get(token)
        if known is None or now >= known[2]:
            try:
                claims = jwt.decode(token, self.secret_key, algorithms=[TOKEN_ALGORITHM],
                                    options={"require": ["sub", "exp"]})
                known = (str(claims["sub"]), int(claims.get("ep") or 0), int(claims["exp"]))
            except jwt.ExpiredSignatureError:
                raise Unauthorized("token expired; log in again")
            except (jwt.PyJWTError, TypeError, ValueError):
                raise Unauthorized("invalid bearer token")
            if len(self._verified) >= _VERIFIED_TOKENS_KEPT:
                self._verified.clear()  # bounded; the next requests simply verify again
            self._verified[token] = known
        username, epoch, _ = known
        facts = self.facts(username, now)
        if facts.principal is None:
            raise Unauthorized(f"user '{username}' is deactivated or no longer exists")
        if epoch != facts.epoch:
            raise Unauthorized("token revoked (password reset or deactivation since it was issued); log in again")
        return facts.principal

    def seconds_left(self, token: str) -> int:
        """Seconds until a valid token expires (401 as :meth:`principal_from_token` for an invalid one)."""
        self.principal_from_token(token)
        claims = jwt.decode(token, self.secret_key, algorithms=[TOKEN_ALGORITHM])
        return max(0, int(claims["exp"]) - int(time.time()))

    def facts(self, username: str, now: float | None = None) -> _Facts:
        """The user's current facts, read at most ``refresh_seconds`` ago in this process."""
        now = time.time() if now is None else now
        known = self._facts.get(username)
        if known is not None and now - known.read_at < self.refresh_seconds:
            return known
        with self.db.reader() as conn:
            rows = conn.execute(_FACTS, {"p_username": username}).all()
        if not rows or not rows[0].active:
            fresh = _Facts(None, rows[0].token_epoch if rows else -1, now)
        else:
            first = rows[0]
            roles = frozenset(r.role for r in rows if r.role is not None)
            fresh = _Facts(Principal(username, roles, first.department), first.token_epoch or 0, now)
        if len(self._facts) >= _FACTS_KEPT:
            self._facts.clear()
        self._facts[username] = fresh
        return fresh

    def forget(self, username: str) -> None:
        """Drop this process's facts of a user it just changed (others refresh within the period)."""
        self._facts.pop(username, None)

    def get(self, username: str) -> dict:
        """A user's public profile."""
        with self.db.session(write=False) as s:
            user = s.scalar(select(User).where(User.username == username))
            if user is None:
                raise NotFound(f"no user '{username}'")
            roles = sorted(s.scalars(select(UserRole.role).where(UserRole.user_id == user.id)))
            return {"username": user.username, "display_name": user.display_name,
                    "department": user.department, "roles": roles}

    def exists(self, username: str) -> bool:
        """True when an active user of that name exists."""
        with self.db.session(write=False) as s:
            return s.scalar(select(User.id).where(User.username == username, User.active.is_(True))) is not None
