"""Which permits are live in an area (the 'sensors bound to live permits' rule).

A permit is *active in an area* when a process instance whose key matches the
rules file's ``permits.process_key_like`` (default ``%permit%``) is running or
waiting and its ``area`` variable is that area. People are *inside a confined
space* when such an instance's key also matches ``confined_space_like``
(default ``%confined%``). The query runs only for areas where a reading
breaches a pass threshold (or reaches level 2), never per reading.
"""
from __future__ import annotations

from sqlalchemy import select

from engine.db import Database
from engine.models import ProcessInstance
from engine.runner import ACTIVE_STATUSES


class PermitWatch:
    """Looks up live permit instances by area."""

    def __init__(self, db: Database, process_key_like: str, confined_space_like: str | None):
        self.db = db
        self.process_key_like = process_key_like
        self.confined_space_like = confined_space_like

    def active(self, areas) -> dict[str, list[dict]]:
        """``{area: [{id, process_key}]}`` of active permits in ``areas`` (areas without one are left out)."""
        areas = sorted(set(areas))
        if not areas:
            return {}
        with self.db.session(write=False) as s:
            rows = s.execute(select(ProcessInstance.id, ProcessInstance.process_key, ProcessInstance.area).where(
                ProcessInstance.area.in_(areas), ProcessInstance.status.in_(ACTIVE_STATUSES),
                ProcessInstance.process_key.like(self.process_key_like))).all()
        out: dict[str, list[dict]] = {}
        for r in rows:
            out.setdefault(r.area, []).append({"id": r.id, "process_key": r.process_key})
        return out

    def confined_space_areas(self, areas) -> set[str]:
        """Areas among ``areas`` with an active confined-space permit."""
        if not self.confined_space_like:
            return set()
        areas = sorted(set(areas))
        if not areas:
            return set()
        with self.db.session(write=False) as s:
            rows = s.execute(select(ProcessInstance.area).where(
                ProcessInstance.area.in_(areas), ProcessInstance.status.in_(ACTIVE_STATUSES),
                ProcessInstance.process_key.like(self.confined_space_like))).all()
        return {r.area for r in rows}
