"""Which live permits an alarm suspends, read from the ``alarm_permit_suspension`` DMN table.

The table (bpmn/alarm_permit_suspension.dmn) answers, for an alarm kind (``gas``, ``wind``), a permit
type (GB 30871's eight) and the area's class, the message to send the permit (``gas_alarm``,
``wind_alarm``, or none) and the reading at or above which it goes (``alarm_limit``: wind in m/s; 0 =
the alert's grading decides). The table in force is the newest deployed bundle that carries it,
else the library's file; it is re-read every :data:`REFRESH_SECONDS` (like engine/iot/policy.py).
"""
from __future__ import annotations

import threading
import time
from pathlib import Path
from types import SimpleNamespace

from lxml import etree
from sqlalchemy import select

from engine.models import ProcessDefinition
from engine.organisation import AREA_CLASSIFICATIONS

DECISION_ID = "alarm_permit_suspension"
REFRESH_SECONDS = 30.0
ALARM_KINDS = ("gas", "wind")
# GB 30871-2022's eight special operations, by the type code of engine/permits.py.
PERMIT_KINDS = ("hot_work", "confined_space", "blinding", "height", "lifting", "temp_power", "excavation",
                "road_closure")
AREA_CLASSES = AREA_CLASSIFICATIONS


def permit_kind(process_key: str) -> str | None:
    """The permit type of a process: its register type, else the kind its key ends with
    (``<kind>_permit``); None for a permit process outside the eight."""
    from engine.permits import BY_KEY

    if process_key in BY_KEY:
        return BY_KEY[process_key].type
    return next((k for k in sorted(PERMIT_KINDS, key=len, reverse=True) if process_key.endswith(f"{k}_permit")),
                None)


class AlarmSuspension:
    """``decide(alarm_kind, permit_type, area_class)`` → (message or None, limit)."""

    def __init__(self, db, library_dir: Path | None = None):
        self.db = db
        self.library_file = Path(library_dir or Path(__file__).resolve().parents[2]) / "bpmn" / f"{DECISION_ID}.dmn"
        self._lock = threading.Lock()
        self._engine = None
        self._key = None
        self._checked_at = 0.0
        self._answers: dict[tuple, tuple[str | None, float]] = {}

    def invalidate(self) -> None:
        with self._lock:
            self._checked_at = 0.0

    def decide(self, alarm_kind: str, permit_type: str | None, area_class: str | None) -> tuple[str | None, float]:
        """The message an alarm of ``alarm_kind`` sends a live permit of ``permit_type`` in an area of
        ``area_class`` (None: not concerned), and the reading limit at or above which it does."""
        engine = self._current()
        key = (alarm_kind, permit_type, area_class)
        with self._lock:
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
            self._answers[key] = answer
        return answer

    def lowest_limit(self, alarm_kind: str, permit_types, area_classes) -> float | None:
        """The lowest limit at which an alarm of ``alarm_kind`` concerns any of the permit types in
        any of the area classes (None: it concerns none) — what a wind reading is compared with."""
        limits = [limit for t in permit_types for c in area_classes
                  for message, limit in [self.decide(alarm_kind, t, c)] if message]
        return min(limits) if limits else None

    def _current(self):
        with self._lock:
            if self._engine is not None and time.monotonic() - self._checked_at < REFRESH_SECONDS:
                return self._engine
            key, xml = self._locate()
            if key != self._key or self._engine is None:
                self._engine = _engine_of(xml) if xml else None
                self._key = key
                self._answers = {}
            self._checked_at = time.monotonic()
            return self._engine

    def _locate(self):
        with self.db.session(write=False) as s:
            rows = s.execute(select(ProcessDefinition.id, ProcessDefinition.bundle)
                             .order_by(ProcessDefinition.id.desc()).limit(200)).all()
        for row in rows:
            for name, text in ((row.bundle or {}).get("dmn") or {}).items():
                if f'id="{DECISION_ID}"' in text:
                    return ("deployed", row.id), text
        try:
            return ("library", self.library_file.stat().st_mtime), self.library_file.read_text("utf-8")
        except OSError:
            return ("none",), None


def _engine_of(xml: str):
    from engine.spiff import AnjianParser

    parser = AnjianParser()
    safe = etree.XMLParser(resolve_entities=False, no_network=True)
    parser.add_dmn_xml(etree.fromstring(xml.encode("utf-8"), safe), filename=f"{DECISION_ID}.dmn")
    return parser.get_engine(DECISION_ID, None)
