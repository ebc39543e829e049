"""Running the fusion analyses: stored, reproducible runs and the push of their findings.

A run reads the hub, computes one analysis for one period, and stores an
``analysis_runs`` row with the parameters, a SHA-256 digest of the input rows
and of the result. Running it again on unchanged data gives the same digests.

"Push" (the mechanism, in one place):

* **to supervision** — a ``hub_focus_items`` row per finding (equipment, area,
  team or post), readable with ``GET /api/v1/hub/focus-items?area=…`` and by a
  process through the ``hub`` connector (``hub/read`` of kind ``focus_item``
  with ``filters: {"area": …}``): the work-plan process reads them to plan its
  supervision checks;
* **to production** — a ``hub_recommendations`` row per finding *and* an
  instance of the small ``fusion_recommendation`` process (deployed by the
  analytics on first use): a user task "落实分析建议" in the production lane of
  the responsible department, due in 7 days, that the department sees in its
  task list and in ``GET /api/v1/me/duties``.

Re-running a period updates its items instead of adding copies (natural key
analysis + period + target); an item no longer supported by the data is marked
``withdrawn``; a recommendation process already running is not started twice
(its business key).
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
from datetime import datetime

from sqlalchemy import select

from engine.analytics.analyses import ANALYSES, DEFAULTS, FUNCTIONS
from engine.errors import Conflict, Invalid, NotFound
from engine.hub.models import AnalysisRun, FocusItem, Recommendation
from engine.models import ProcessDefinition
from engine.periods import parse_period
from engine.principal import SYSTEM

log = logging.getLogger(__name__)
RECOMMENDATION_PROCESS = "fusion_recommendation"
RECOMMENDATION_FORM = "fusion_recommendation.json"


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def recommendation_files() -> dict[str, bytes]:
    """The BPMN (with lanes and DI) and form of the recommendation process."""
    from engine.bpmn_builder import ProcessBuilder

    b = ProcessBuilder(RECOMMENDATION_PROCESS, "融合分析建议落实")
    b.lane("生产单位 (production)")
    b.start("start", "收到分析建议", variables=["department", "area", "recommendation", "recommendation_kind",
                                               "target", "analysis", "period"])
    b.user("implement", "落实分析建议", lane="生产单位 (production)", form=RECOMMENDATION_FORM,
           props={"due": "P7D", "priority": "60"})
    b.end("end", "已落实")
    b.chain("start", "implement", "end")
    form = {"type": "object", "title": "落实分析建议", "required": ["action_taken"],
            "properties": {"action_taken": {"type": "string", "title": "采取的措施", "minLength": 2, "maxLength": 2000},
                           "accepted": {"type": "boolean", "title": "采纳建议"}}}
    return {f"{RECOMMENDATION_PROCESS}.bpmn": b.to_xml().encode(),
            RECOMMENDATION_FORM: json.dumps(form, ensure_ascii=False).encode()}


class AnalyticsService:
    """Runs analyses, stores results, pushes findings; answers what was found."""

    def __init__(self, platform):
        self.platform = platform
        self.db = platform.db

    # ------------------------------------------------------------------ running

    def run(self, period_text: str, analyses: list[str] | None = None, *, params: dict | None = None,
            actor: str = "system", push: bool = True, sync_processes: bool = True) -> list[dict]:
        """Run the given analyses (default: all of them) for a month; returns the stored runs."""
        period = parse_period(period_text, allow_quarter=False)
        names = list(analyses or ANALYSES)
        unknown = [n for n in names if n not in FUNCTIONS]
        if unknown:
            raise Invalid("unknown analysis", errors=[{"field": "analyses", "message": f"{unknown}: one of {list(ANALYSES)}"}])
        params = params or {}
        bad = [k for k in params if k not in FUNCTIONS]
        if bad:
            raise Invalid("parameters for unknown analyses",
                          errors=[{"field": f"params.{k}", "message": f"one of {list(ANALYSES)}"} for k in bad])
        # every analysis' parameters are checked before any runs: a bad one stores nothing
        plans = {name: {**DEFAULTS[name], **self._check_params(name, params.get(name) or {})} for name in names}
        if sync_processes:
            from engine.hub.feed import sync_from_processes

            sync_from_processes(self.platform)
        out = []
        for name in names:
            p = plans[name]
            t0 = time.perf_counter()
            with self.db.session(write=False) as s:
                outcome = FUNCTIONS[name](s, period, p)
            ms = int((time.perf_counter() - t0) * 1000)
            with self.db.session() as s:
                run = AnalysisRun(analysis=name, period=period.label, params=p, input_digest=_digest(outcome.inputs),
                                  result=json.loads(json.dumps(outcome.result, default=str)),
                                  result_digest=_digest(outcome.result), duration_ms=ms, run_by=actor)
                s.add(run)
                s.flush()
                run_id = run.id
                pushed = self._store_pushes(s, name, period.label, run_id, outcome) if push else {}
                record = self._run_json(run)
                record["pushed"] = pushed
            if push and outcome.recommendations:
                record["pushed"]["processes_started"] = self._start_recommendation_processes(name, period.label)
            out.append(record)
            log.info("analysis %s %s: %d ms, %d findings", name, period.label, ms, len(outcome.recommendations))
        return out

    @staticmethod
    def _check_params(name: str, given: dict) -> dict:
        if not isinstance(given, dict):
            raise Invalid("parameters must be an object", errors=[{"field": f"params.{name}", "message": "object"}])
        errors = []
        for k, v in given.items():
            if k not in DEFAULTS[name]:
                errors.append({"field": f"params.{name}.{k}", "message": f"unknown; known: {sorted(DEFAULTS[name])}"})
            elif k == "utc_offset_hours":  # may be 0 or negative, unlike every other number
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not -12 <= v <= 14:
                    errors.append({"field": f"params.{name}.{k}", "message": "hours from UTC, -12 to 14"})
            elif k == "shift_starts":
                if not isinstance(v, list) or not v or len(set(v)) != len(v) or any(
                        isinstance(x, bool) or not isinstance(x, int) or not 0 <= x <= 23 for x in v):
                    errors.append({"field": f"params.{name}.{k}",
                                   "message": "a non-empty list of distinct start hours 0-23 (plant time)"})
            elif isinstance(DEFAULTS[name][k], (int, float)) and (isinstance(v, bool) or not isinstance(v, (int, float))
                                                                   or v <= 0):
                errors.append({"field": f"params.{name}.{k}", "message": "must be a positive number"})
            elif k == "alpha" and not 0 < v < 1:
                errors.append({"field": f"params.{name}.{k}", "message": "between 0 and 1"})
            elif k == "dimensions" and (not isinstance(v, list) or not v or
                                        any(d not in DEFAULTS[name][k] for d in v)):
                errors.append({"field": f"params.{name}.{k}", "message": f"a non-empty list of {DEFAULTS[name][k]}"})
            elif k == "bands" and (not isinstance(v, list) or not v or any(
                    isinstance(x, bool) or not isinstance(x, (int, float)) or not 0 < x < 200 for x in v)):
                errors.append({"field": f"params.{name}.{k}", "message": "a non-empty list of load % edges (0-200)"})
        if errors:
            raise Invalid("invalid analysis parameters", errors=errors)
        return given

    def _store_pushes(self, s, name: str, period: str, run_id: int, outcome) -> dict:
        kept_focus, kept_rec = set(), set()
        for item in outcome.focus_items:
            key = (item["target_kind"], item["target"])
            kept_focus.add(key)
            row = s.scalar(select(FocusItem).where(FocusItem.analysis == name, FocusItem.period == period,
                                                   FocusItem.target_kind == key[0], FocusItem.target == key[1]))
            if row is None:
                row = FocusItem(analysis=name, period=period, target_kind=key[0], target=key[1])
                s.add(row)
            row.run_id, row.area, row.department = run_id, item.get("area"), item.get("department")
            row.reason, row.evidence = item["reason"], item["evidence"]
            if row.status == "withdrawn":
                row.status = "open"
        for rec in outcome.recommendations:
            key = (rec["kind"], rec["target"])
            kept_rec.add(key)
            row = s.scalar(select(Recommendation).where(Recommendation.analysis == name,
                                                        Recommendation.period == period,
                                                        Recommendation.kind == key[0], Recommendation.target == key[1]))
            if row is None:
                row = Recommendation(analysis=name, period=period, kind=key[0], target=key[1])
                s.add(row)
            row.run_id, row.target_kind, row.department = run_id, rec["target_kind"], rec.get("department")
            row.text, row.evidence = rec["text"], {**rec["evidence"], "area": rec.get("area")}
            if row.status == "withdrawn":
                row.status = "open"
        withdrawn = 0
        for row in s.scalars(select(FocusItem).where(FocusItem.analysis == name, FocusItem.period == period,
                                                     FocusItem.status == "open")):
            if (row.target_kind, row.target) not in kept_focus:
                row.status, withdrawn = "withdrawn", withdrawn + 1
        for row in s.scalars(select(Recommendation).where(Recommendation.analysis == name,
                                                          Recommendation.period == period,
                                                          Recommendation.status == "open")):
            if (row.kind, row.target) not in kept_rec:
                row.status, withdrawn = "withdrawn", withdrawn + 1
        return {"focus_items": len(kept_focus), "recommendations": len(kept_rec), "withdrawn": withdrawn}

    def _start_recommendation_processes(self, name: str, period: str) -> int:
        self.platform.deployments.deploy(recommendation_files(), "analytics")
        with self.db.session(write=False) as s:
            todo = [recommendation_json(r) for r in s.scalars(select(Recommendation).where(
                Recommendation.analysis == name, Recommendation.period == period,
                Recommendation.status == "open", Recommendation.instance_id.is_(None)))]
        started = 0
        for rec in todo:
            bk = f"{name}:{period}:{rec['kind']}:{rec['target']}"[:200]
            variables = {"department": rec["department"], "area": (rec["evidence"] or {}).get("area"),
                         "recommendation": rec["text"], "recommendation_kind": rec["kind"], "target": rec["target"],
                         "analysis": name, "period": period}
            try:
                inst = self.platform.instances.start(SYSTEM, RECOMMENDATION_PROCESS, bk,
                                                     {k: v for k, v in variables.items() if v is not None})
            except Conflict:
                continue  # already running for this business key
            with self.db.session() as s:
                s.get(Recommendation, rec["id"]).instance_id = inst["id"]
            started += 1
        return started

    # ------------------------------------------------------------------ reading

    @staticmethod
    def _run_json(run: AnalysisRun, with_result: bool = True) -> dict:
        out = {"id": run.id, "analysis": run.analysis, "period": run.period, "params": run.params,
               "input_digest": run.input_digest, "result_digest": run.result_digest,
               "started_at": run.started_at.isoformat() if run.started_at else None,
               "duration_ms": run.duration_ms, "run_by": run.run_by}
        if with_result:
            out["result"] = run.result
        return out

    def latest(self, analysis: str, period_text: str) -> dict:
        """The newest stored run of an analysis for a period (404 when never run)."""
        if analysis not in FUNCTIONS:
            raise NotFound(f"no analysis '{analysis}' (analyses: {', '.join(ANALYSES)})")
        period = parse_period(period_text, allow_quarter=False)
        with self.db.session(write=False) as s:
            run = s.scalar(select(AnalysisRun).where(AnalysisRun.analysis == analysis,
                                                     AnalysisRun.period == period.label)
                           .order_by(AnalysisRun.id.desc()).limit(1))
            if run is None:
                raise NotFound(f"analysis '{analysis}' has not been run for {period.label}; "
                               f"run it with POST /api/v1/analytics/runs or `anjian analytics run`")
            return self._run_json(run)

    def runs(self, period_text: str | None = None, analysis: str | None = None, limit: int = 50) -> list[dict]:
        """Stored runs, newest first (without their results)."""
        q = select(AnalysisRun).order_by(AnalysisRun.id.desc()).limit(limit)
        if period_text:
            q = q.where(AnalysisRun.period == parse_period(period_text, allow_quarter=False).label)
        if analysis:
            q = q.where(AnalysisRun.analysis == analysis)
        with self.db.session(write=False) as s:
            return [self._run_json(r, with_result=False) for r in s.scalars(q)]

    def focus_items(self, *, area: str | None = None, status: str | None = "open", period: str | None = None,
                    target_kind: str | None = None, limit: int = 200) -> list[dict]:
        """Supervision focus items (what the next supervision plans should look at)."""
        q = select(FocusItem).order_by(FocusItem.id.desc()).limit(limit)
        if area:
            q = q.where(FocusItem.area == area)
        if status:
            q = q.where(FocusItem.status == status)
        if period:
            q = q.where(FocusItem.period == parse_period(period, allow_quarter=False).label)
        if target_kind:
            q = q.where(FocusItem.target_kind == target_kind)
        with self.db.session(write=False) as s:
            return [focus_json(r) for r in s.scalars(q)]

    def recommendations(self, *, department: str | None = None, status: str | None = "open",
                        period: str | None = None, limit: int = 200) -> list[dict]:
        """Recommendations pushed to production."""
        q = select(Recommendation).order_by(Recommendation.id.desc()).limit(limit)
        if department:
            q = q.where(Recommendation.department == department)
        if status:
            q = q.where(Recommendation.status == status)
        if period:
            q = q.where(Recommendation.period == parse_period(period, allow_quarter=False).label)
        with self.db.session(write=False) as s:
            return [recommendation_json(r) for r in s.scalars(q)]

    def recommendation_process_deployed(self) -> bool:
        """True once the recommendation process has been deployed."""
        with self.db.session(write=False) as s:
            return s.scalar(select(ProcessDefinition.id).where(ProcessDefinition.key == RECOMMENDATION_PROCESS)
                            .limit(1)) is not None


def focus_json(r: FocusItem) -> dict:
    """A focus item as JSON."""
    return {"id": r.id, "analysis": r.analysis, "period": r.period, "run_id": r.run_id, "target_kind": r.target_kind,
            "target": r.target, "area": r.area, "department": r.department, "reason": r.reason,
            "evidence": r.evidence, "status": r.status, "created_at": _iso(r.created_at)}


def recommendation_json(r: Recommendation) -> dict:
    """A recommendation as JSON."""
    return {"id": r.id, "analysis": r.analysis, "period": r.period, "run_id": r.run_id, "kind": r.kind,
            "target_kind": r.target_kind, "target": r.target, "department": r.department, "text": r.text,
            "evidence": r.evidence, "instance_id": r.instance_id, "status": r.status,
            "created_at": _iso(r.created_at)}


def _iso(d: datetime | None) -> str | None:
    return d.isoformat() if d else None
