"""Users, roles and departments; password checks and bearer tokens."""
from __future__ import annotations

import time
from datetime import timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

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


class UserService:
    """Creates users and turns credentials into signed bearer tokens."""

    def __init__(self, db: Database, secret_key: str, token_ttl_seconds: int):
        self.db = db
        self.secret_key = secret_key
        self.token_ttl = token_ttl_seconds
        # token -> (Principal, exp): a client sends the same token with every request, and an
        # HMAC check plus claim parsing was 4 % of a request's CPU. Only verified tokens are kept.
        self._verified: dict[str, tuple[Principal, int]] = {}

    def add_user(self, username: str, password: str, roles: list[str], department: str | None = None,
                 display_name: str = "", *, replace: bool = False) -> User:
        """Create (or with ``replace`` update) a user with the given roles."""
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
                user = User(username=username)
                s.add(user)
            user.password_hash = _HASHER.hash(password)
            user.department = department
            user.display_name = display_name or username
            user.active = True
            s.flush()
            s.query(UserRole).filter(UserRole.user_id == user.id).delete()
            for role in sorted(set(roles)):
                s.add(UserRole(user_id=user.id, role=role))
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
            claims = {
                "sub": user.username, "roles": roles, "dept": user.department,
                "iat": int(now.timestamp()), "exp": int((now + timedelta(seconds=self.token_ttl)).timestamp()),
            }
        token = jwt.encode(claims, self.secret_key, algorithm=TOKEN_ALGORITHM)
        return {"access_token": token, "token_type": "bearer", "expires_in": self.token_ttl}

    def principal_from_token(self, token: str) -> Principal:
        """Verify a bearer token; roles and department travel in its claims.

        A token verified before is answered from memory until its ``exp``; tokens are
        immutable, so the answer is the one a fresh verification would give.
        """
        known = self._verified.get(token)
        if known is not None and time.time() < known[1]:
            return known[0]
        try:
            claims = jwt.decode(token, self.secret_key, algorithms=[TOKEN_ALGORITHM],
                                options={"require": ["sub", "exp"]})
        except jwt.ExpiredSignatureError:
            raise Unauthorized("token expired; log in again")
        except jwt.PyJWTError:
            raise Unauthorized("invalid bearer token")
        found = Principal(claims["sub"], frozenset(claims.get("roles") or ()), claims.get("dept"))
        if len(self._verified) >= _VERIFIED_TOKENS_KEPT:
            self._verified.clear()  # bounded; the next requests simply verify again
        self._verified[token] = (found, claims["exp"])
        return found

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
