"""Who is acting: the authenticated user as the engine sees it."""
from __future__ import annotations

from dataclasses import dataclass

from engine.roles import GLOBAL_SCOPE_ROLES


@dataclass(frozen=True)
class Principal:
    """An authenticated user: name, roles and department."""

    username: str
    roles: frozenset[str]
    department: str | None = None

    @property
    def sees_all_departments(self) -> bool:
        """Supervision, plant leaders, emergency and admins work across departments."""
        return bool(self.roles & GLOBAL_SCOPE_ROLES)

    def has_any(self, roles) -> bool:
        """True when the user holds at least one of ``roles``."""
        return bool(self.roles & set(roles))

    def in_scope(self, department: str | None) -> bool:
        """True when a record of ``department`` is inside this user's scope."""
        return department is None or self.sees_all_departments or department == self.department


SYSTEM = Principal("system", frozenset({"admin"}), None)
