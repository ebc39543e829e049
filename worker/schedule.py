"""Scheduled hub jobs: the MES sync every N seconds and the nightly fusion analyses.

Configured once in :class:`engine.config.Settings` (``ANJIAN_MES_SYNC_SECONDS``,
``ANJIAN_MES_SYNC_DAYS``, ``ANJIAN_MES_SYNC_AREAS``, ``ANJIAN_ANALYTICS_AT``);
nothing is scheduled unless configured.

Each occurrence ("slot") becomes an outbox entry of kind ``scheduled`` whose
``dedupe_key`` names the job and the slot, inserted with ``ON CONFLICT DO
NOTHING``: the leader scheduler (``anjian scheduler``, Redis lock) or the
embedded runner of ``anjian serve`` emits it, any worker runs it, and a second
scheduler, a restart or a retried pass never emits a slot twice. From there
the entry travels like every other job (relay, lease, re-send after a crash);
the jobs themselves are idempotent (natural keys), so a re-sent job is harmless.

Slots: the MES sync's are aligned on multiples of the interval since the epoch;
the analyses' is today at ``ANJIAN_ANALYTICS_AT`` (UTC) once that time has
passed, for the month the previous day belongs to (the run on the 1st closes
the month just ended), one entry per analysis so that each stays well inside
the job lease. Slots missed while nothing ran are not replayed, except that a
scheduler started later the same day still runs that day's analyses.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from engine.analytics.analyses import ANALYSES
from engine.models import OutboxEntry, utcnow

log = logging.getLogger(__name__)
KIND = "scheduled"


class JobSchedule:
    """Turns due slots of the configured jobs into outbox entries (at most once per slot)."""

    def __init__(self, db, settings, *, clock=utcnow):
        self.db = db
        self.clock = clock  # tests pass a fixed clock to stand at chosen slots
        self.mes_every = float(settings.mes_sync_seconds or 0)
        self.mes_days = int(settings.mes_sync_days)
        self.mes_areas = list(settings.mes_sync_areas)
        self.analytics_at = settings.analytics_at
        self._emitted: set[str] = set()  # slot keys already in the outbox: skip the database until the next slot

    @property
    def enabled(self) -> bool:
        """True when at least one job is configured."""
        return self.mes_every > 0 or self.analytics_at is not None

    def due(self, now: datetime | None = None) -> list[dict]:
        """The entries of the current slots (whether or not already emitted)."""
        now = now or self.clock()
        out = []
        if self.mes_every > 0:
            start = _floor(now, self.mes_every)
            out.append(_entry(f"mes_sync:{start.isoformat()}", start, {
                "job": "mes_sync", "slot": start.isoformat(), "interval_seconds": self.mes_every,
                "days": self.mes_days, "areas": self.mes_areas}))
        if self.analytics_at is not None:
            slot = datetime.combine(now.date(), self.analytics_at, tzinfo=timezone.utc)
            if now >= slot:
                day = (slot - timedelta(days=1)).date()
                period = f"{day.year:04d}-{day.month:02d}"
                for name in ANALYSES:
                    out.append(_entry(f"analytics:{name}:{slot.isoformat()}", slot, {
                        "job": "analytics", "analysis": name, "period": period, "slot": slot.isoformat()}))
        return out

    def emit_due(self, now: datetime | None = None) -> int:
        """Insert the current slots' entries not yet in the outbox; returns how many were new."""
        if not self.enabled:
            return 0
        fresh = [e for e in self.due(now) if e["dedupe_key"] not in self._emitted]
        if not fresh:
            return 0
        if self.db.is_sqlite:
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert
        stmt = insert(OutboxEntry).values(fresh).on_conflict_do_nothing(index_elements=["dedupe_key"])
        with self.db.session() as s:
            created = len(list(s.scalars(stmt.returning(OutboxEntry.id))))
        if len(self._emitted) > 1000:
            self._emitted.clear()
        self._emitted.update(e["dedupe_key"] for e in fresh)
        if created:
            log.info("scheduled %d job(s): %s", created, ", ".join(e["dedupe_key"] for e in fresh))
        return created


def _floor(now: datetime, seconds: float) -> datetime:
    ts = now.timestamp()
    return datetime.fromtimestamp(ts - ts % seconds, tz=timezone.utc).replace(microsecond=0)


def _entry(key: str, at: datetime, payload: dict) -> dict:
    now = utcnow()
    return {"kind": KIND, "payload": payload, "dedupe_key": f"schedule:{key}", "created_at": now,
            "available_at": now, "attempts": 0}


def run_scheduled(platform, payload: dict) -> dict:
    """Run one scheduled job (called by :class:`worker.jobs.JobRunner`); returns its summary."""
    job = payload.get("job")
    if job == "mes_sync":
        from engine.hub.mes_sync import sync_mes

        slot = datetime.fromisoformat(payload["slot"])
        return sync_mes(platform, slot=slot, interval_seconds=float(payload.get("interval_seconds") or 0),
                        days=int(payload.get("days", 1)), areas=tuple(payload.get("areas") or ()))
    if job == "analytics":
        [run] = platform.analytics.run(payload["period"], [payload["analysis"]], actor="scheduler")
        return {"analysis": run["analysis"], "period": run["period"], "run_id": run["id"],
                "duration_ms": run["duration_ms"], "pushed": run.get("pushed")}
    raise ValueError(f"unknown scheduled job {job!r}")
