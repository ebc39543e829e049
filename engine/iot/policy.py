"""Deadline and owner of an alert by grade, read from the ``alert_policy`` DMN table.

The table is the one place these numbers live: ``alert_response`` evaluates it in
its business rule task, and the alert rows (``deadline_at``, ``owner_department``)
take the same answer from here. The table used is the one bundled with the latest
deployed ``alert_response`` (what the running process uses); when that process does
not use it (or nothing is deployed), the library's ``bpmn/alert_policy.dmn``; a deployed table
that fails :func:`evaluate_policy` is logged and the library's used (engine/decision_tables.py
finds and re-reads it).
"""
from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace

from lxml import etree

from engine.decision_tables import DeployedTable
from engine.errors import Invalid

log = logging.getLogger(__name__)
DECISION_ID = "alert_policy"
PROCESS_KEY = "alert_response"
AREA_OWNER = "@area"  # owner_department meaning "the department the alert's area belongs to"
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
        self.table = DeployedTable(db, DECISION_ID, lambda text, source: evaluate_policy(text, source=source),
                                   library_dir=library_dir, process_key=PROCESS_KEY, missing=_no_library,
                                   fall_back_on=(Invalid,), logger=log)

    @property
    def source(self) -> str:
        """Where the table in force came from (``alert_response v3 (alert_policy.dmn)`` or a path)."""
        return self.table.source

    def deadline_minutes(self, grade: str) -> float:
        """Minutes to start handling an alert of ``grade``."""
        return float(self.table.current()[grade]["deadline_minutes"])

    def owner(self, grade: str, area_department: str | None) -> str | None:
        """Owner department of an alert of ``grade`` in an area that belongs to ``area_department``."""
        owner = self.table.current()[grade]["owner_department"]
        return area_department if owner == AREA_OWNER else owner

    def invalidate(self) -> None:
        """Read the table again at the next use (tests; after a deployment)."""
        self.table.invalidate()


def _no_library(exc: OSError):
    raise Invalid(f"no {DECISION_ID} decision: {exc.filename} cannot be read",
                  errors=[{"field": DECISION_ID, "message": str(exc)}]) from None
