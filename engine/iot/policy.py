"""Deadline and owner of an alert by grade, read from the ``alert_policy`` DMN table.

The table is the one place these numbers live: ``alert_response`` evaluates it in
its business rule task, and the alert rows (``deadline_at``, ``owner_department``)
take the same answer from here. The table used is the one bundled with the latest
deployed ``alert_response`` (what the running process uses); when that process does
not use it (or nothing is deployed), the library's ``bpmn/alert_policy.dmn``.
"""
from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from types import SimpleNamespace

from lxml import etree
from sqlalchemy import select

from engine.errors import Invalid
from engine.models import ProcessDefinition

log = logging.getLogger(__name__)
DECISION_ID = "alert_policy"
PROCESS_KEY = "alert_response"
AREA_OWNER = "@area"  # owner_department meaning "the department the alert's area belongs to"
REFRESH_SECONDS = 30.0
GRADES = ("blue", "yellow", "orange", "red")


def evaluate_policy(dmn_xml: str, grades=GRADES, *, source: str = DECISION_ID) -> dict[str, dict]:
    """``{grade: outputs}`` of the alert_policy table for every grade; Invalid when a grade matches
    no rule or has no positive ``deadline_minutes`` or no ``owner_department``.

    Also the deployment check of a table with this id (engine/decision_checks.py)."""
    from engine.scripting import RestrictedScriptEngine
    from engine.spiff import AnjianParser

    parser = AnjianParser()
    try:
        # the text may come from a deployment: no entity expansion, no network
        safe = etree.XMLParser(resolve_entities=False, no_network=True)
        parser.add_dmn_xml(etree.fromstring(dmn_xml.encode("utf-8"), safe), filename=source)
        engine = parser.get_engine(DECISION_ID, None)
    except Exception as exc:  # noqa: BLE001 - a broken table is a configuration error
        raise Invalid(f"decision {DECISION_ID} in {source} cannot be read",
                      errors=[{"field": DECISION_ID, "message": str(exc)}]) from None
    script_engine = RestrictedScriptEngine()
    out, errors = {}, []
    for grade in grades:
        task = SimpleNamespace(data={"alert_grade": grade}, workflow=SimpleNamespace(script_engine=script_engine))
        try:
            result = dict(engine.result(task))
        except Exception as exc:  # noqa: BLE001
            errors.append({"field": f"{DECISION_ID}[{grade}]", "message": str(exc)})
            continue
        if not result:
            errors.append({"field": f"{DECISION_ID}[{grade}]", "message": f"no rule matches alert_grade {grade!r}"})
            continue
        minutes = result.get("deadline_minutes")
        if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or minutes <= 0:
            errors.append({"field": f"{DECISION_ID}[{grade}].deadline_minutes", "message": "must be a positive number"})
        if not isinstance(result.get("owner_department"), str) or not result["owner_department"]:
            errors.append({"field": f"{DECISION_ID}[{grade}].owner_department",
                           "message": f"must name a department (or {AREA_OWNER!r})"})
        out[grade] = result
    if errors:
        raise Invalid(f"decision {DECISION_ID} in {source} does not cover every alert grade", errors=errors)
    return out


class AlertPolicy:
    """Deadline minutes and owner department by grade (cached; follows redeployments)."""

    def __init__(self, db, library_dir: Path | None = None):
        self.db = db
        self.library_file = Path(library_dir or Path(__file__).resolve().parents[2]) / "bpmn" / "alert_policy.dmn"
        self._lock = threading.Lock()
        self._table: dict[str, dict] | None = None
        self._key: tuple | None = None
        self._checked_at = 0.0
        self.source = ""

    def deadline_minutes(self, grade: str) -> float:
        """Minutes to start handling an alert of ``grade``."""
        return float(self._current()[grade]["deadline_minutes"])

    def owner(self, grade: str, area_department: str | None) -> str | None:
        """Owner department of an alert of ``grade`` in an area that belongs to ``area_department``."""
        owner = self._current()[grade]["owner_department"]
        return area_department if owner == AREA_OWNER else owner

    def invalidate(self) -> None:
        """Read the table again at the next use (tests; after a deployment)."""
        with self._lock:
            self._checked_at = 0.0

    def _current(self) -> dict[str, dict]:
        with self._lock:
            if self._table is not None and time.monotonic() - self._checked_at < REFRESH_SECONDS:
                return self._table
            key, xml, source = self._locate()
            if key != self._key or self._table is None:
                try:
                    self._table = evaluate_policy(xml, source=source)
                except Invalid as exc:
                    if key[0] != "deployed":
                        raise
                    # an alert must still get a deadline: fall back to the library table, loudly
                    log.error("%s: %s; using %s", exc.detail, exc.errors, self.library_file)
                    self._table = evaluate_policy(self.library_file.read_text("utf-8"), source=str(self.library_file))
                self._key, self.source = key, source
            self._checked_at = time.monotonic()
            return self._table

    def _locate(self) -> tuple[tuple, str, str]:
        """(identity, DMN text, where from) of the table in force."""
        with self.db.session(write=False) as s:
            row = s.execute(select(ProcessDefinition.id, ProcessDefinition.version, ProcessDefinition.bundle)
                            .where(ProcessDefinition.key == PROCESS_KEY)
                            .order_by(ProcessDefinition.version.desc()).limit(1)).first()
        if row is not None:
            for name, text in ((row.bundle or {}).get("dmn") or {}).items():
                if f'id="{DECISION_ID}"' in text:
                    return ("deployed", row.id), text, f"{PROCESS_KEY} v{row.version} ({name})"
        try:
            return ("library", self.library_file.stat().st_mtime), self.library_file.read_text("utf-8"), \
                str(self.library_file)
        except OSError as exc:
            raise Invalid(f"no {DECISION_ID} decision: {self.library_file} cannot be read",
                          errors=[{"field": DECISION_ID, "message": str(exc)}]) from None
