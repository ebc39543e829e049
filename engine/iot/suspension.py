"""Which live permits an alarm suspends, read from the ``alarm_permit_suspension`` DMN table.

The table (bpmn/alarm_permit_suspension.dmn) answers, for an alarm kind (``gas``, ``wind``), a permit
type (GB 30871's eight, :data:`engine.permits.PERMIT_TYPES`) and the area's class, the message to send
the permit (``gas_alarm``, ``wind_alarm``, or none) and the reading at or above which it goes
(``alarm_limit``: wind in m/s; 0 = the alert's grading decides). The table in force is the newest
deployed bundle that carries it, else the library's file (none: no permit is concerned); it is re-read
every :data:`engine.decision_tables.REFRESH_SECONDS` (engine/decision_tables.py, as for
engine/iot/policy.py).
"""
from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace

from lxml import etree

from engine.decision_tables import DeployedTable
from engine.organisation import AREA_CLASSIFICATIONS

DECISION_ID = "alarm_permit_suspension"
ALARM_KINDS = ("gas", "wind")
AREA_CLASSES = AREA_CLASSIFICATIONS


def permit_kinds() -> tuple[str, ...]:
    """The permit types the table is asked about: those of the register (engine/permits.py)."""
    from engine.permits import PERMIT_TYPES

    return tuple(t.type for t in PERMIT_TYPES)


def permit_kind(process_key: str) -> str | None:
    """The permit type of a process as the register knows it (engine/permits.py); None for a
    process outside it (a plant's own permit process)."""
    from engine.permits import BY_KEY

    return BY_KEY[process_key].type if process_key in BY_KEY else None


class AlarmSuspension:
    """``decide(alarm_kind, permit_type, area_class)`` → (message or None, limit)."""

    def __init__(self, db, library_dir: Path | None = None):
        self.db = db
        self.table = DeployedTable(db, DECISION_ID, lambda text, source: _engine_of(text) if text else None,
                                   library_dir=library_dir,
                                   missing=lambda exc: None)
        self._lock = threading.Lock()
        self._answers_of = None   # the engine the answers below came from
        self._answers: dict[tuple, tuple[str | None, float]] = {}

    def invalidate(self) -> None:
        """Look for the table in force again at the next use (tests; after a deployment)."""
        self.table.invalidate()

    def decide(self, alarm_kind: str, permit_type: str | None, area_class: str | None) -> tuple[str | None, float]:
        """The message an alarm of ``alarm_kind`` sends a live permit of ``permit_type`` in an area of
        ``area_class`` (None: not concerned), and the reading limit at or above which it does."""
        engine = self.table.current()
        key = (alarm_kind, permit_type, area_class)
        with self._lock:
            if self._answers_of is not engine:
                self._answers_of, self._answers = engine, {}
            if key in self._answers:
                return self._answers[key]
        from engine.scripting import RestrictedScriptEngine

        task = SimpleNamespace(data={"alarm_kind": alarm_kind, "permit_type": permit_type or "",
                                     "area_class": area_class or ""},
                               workflow=SimpleNamespace(script_engine=RestrictedScriptEngine()))
        result = dict(engine.result(task)) if engine is not None else {}
        message = result.get("suspend_message") or None
        limit = result.get("alarm_limit")
        answer = (message, float(limit) if isinstance(limit, (int, float)) and not isinstance(limit, bool) else 0.0)
        with self._lock:
            if self._answers_of is engine:
                self._answers[key] = answer
        return answer

    def lowest_limit(self, alarm_kind: str, permit_types, area_classes) -> float | None:
        """The lowest limit at which an alarm of ``alarm_kind`` concerns any of the permit types in
        any of the area classes (None: it concerns none) — what a wind reading is compared with."""
        limits = [limit for t in permit_types for c in area_classes
                  for message, limit in [self.decide(alarm_kind, t, c)] if message]
        return min(limits) if limits else None


def _engine_of(xml: str):
    from engine.spiff import AnjianParser

    parser = AnjianParser()
    safe = etree.XMLParser(resolve_entities=False, no_network=True)
    parser.add_dmn_xml(etree.fromstring(xml.encode("utf-8"), safe), filename=f"{DECISION_ID}.dmn")
    return parser.get_engine(DECISION_ID, None)
