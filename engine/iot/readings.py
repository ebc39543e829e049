"""The time-series store: batched inserts of readings and dead letters, range and bucket queries."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from engine.db import Database
from engine.errors import Invalid, NotFound
from engine.iot.models import DeadLetter, Device, Reading
from engine.models import utcnow

MAX_POINTS = 10_000
COPY_THRESHOLD = 50  # rows; below it a multi-row INSERT is as fast
MAX_BUCKETS = 2_000
INSERT_CHUNK = 1_000  # rows per multi-row INSERT (5 columns: well under SQLite's 32,766 variables)
KEY = ["device_id", "ts", "metric"]  # the unique index ux_reading_device_ts_metric


class ReadingStore:
    """Writes and reads the ``readings`` and ``dead_letters`` tables."""

    def __init__(self, db: Database):
        self.db = db

    def store(self, readings: list[dict], dead_letters: list[dict]) -> set[int]:
        """Insert both lists in one transaction; returns the positions of readings already stored.

        A reading whose (device_id, ts, metric) is already in the table — a QoS 1
        redelivery, a gateway retrying — is skipped by the unique index, not stored
        twice; the caller counts it as a duplicate and does not evaluate it again.
        ``readings`` must not repeat a key (the pipeline removes repeats within a batch).
        """
        if not readings and not dead_letters:
            return set()
        with self.db.session() as s:
            duplicates: set[int] = set()
            if readings and not self.db.is_sqlite and len(readings) >= COPY_THRESHOLD:
                duplicates = self._copy(s, readings)
            elif readings:
                duplicates = self._insert(s, readings)
            if dead_letters:
                s.execute(insert(DeadLetter.__table__), dead_letters)
        return duplicates

    def _insert(self, s, readings: list[dict]) -> set[int]:
        """Multi-row INSERT … ON CONFLICT DO NOTHING RETURNING the keys that went in (small batches)."""
        dialect_insert = sqlite_insert if self.db.is_sqlite else pg_insert
        t = Reading.__table__
        stored: set[tuple] = set()
        for i in range(0, len(readings), INSERT_CHUNK):
            stmt = dialect_insert(t).values(readings[i:i + INSERT_CHUNK]) \
                .on_conflict_do_nothing(index_elements=KEY).returning(t.c.device_id, t.c.ts, t.c.metric)
            stored.update((d, _aware(ts), m) for d, ts, m in s.execute(stmt))
        return {i for i, r in enumerate(readings) if (r["device_id"], r["ts"], r["metric"]) not in stored}

    @staticmethod
    def _copy(s, readings: list[dict]) -> set[int]:
        """PostgreSQL: COPY into a temporary table, then INSERT … ON CONFLICT DO NOTHING into readings.

        COPY is an order of magnitude faster than INSERT for large batches but cannot skip
        conflicts itself; the anti-join returns only the (usually zero) duplicates' positions.
        """
        conn = s.connection()
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:
            if not conn.connection.info.get("readings_in"):
                # temporary and unlogged; emptied at every commit; one per connection
                cur.execute("CREATE TEMP TABLE IF NOT EXISTS readings_in (n integer, device_id varchar(64), "
                            "ts timestamptz, metric varchar(64), value double precision, quality varchar(12)) "
                            "ON COMMIT DELETE ROWS")
                conn.connection.info["readings_in"] = True
            with cur.copy("COPY readings_in (n, device_id, ts, metric, value, quality) FROM STDIN") as cp:
                for n, r in enumerate(readings):
                    cp.write_row((n, r["device_id"], r["ts"], r["metric"], r["value"], r["quality"]))
            cur.execute("WITH ins AS (INSERT INTO readings (device_id, ts, metric, value, quality) "
                        "SELECT device_id, ts, metric, value, quality FROM readings_in "
                        "ON CONFLICT (device_id, ts, metric) DO NOTHING RETURNING device_id, ts, metric) "
                        "SELECT i.n FROM readings_in i WHERE NOT EXISTS (SELECT 1 FROM ins WHERE "
                        "ins.device_id = i.device_id AND ins.ts = i.ts AND ins.metric = i.metric)")
            return {row[0] for row in cur.fetchall()}

    def touch_devices(self, last_seen: dict[str, datetime]) -> None:
        """Record when each device was last heard from (feeds the data-gap rule)."""
        if not last_seen:
            return
        t = Device.__table__
        stmt = update(t).where(t.c.id == bindparam("b_id"),
                               t.c.last_seen_at.is_(None) | (t.c.last_seen_at < bindparam("b_ts"))) \
            .values(last_seen_at=bindparam("b_ts"))
        with self.db.session() as s:
            s.execute(stmt, [{"b_id": k, "b_ts": v} for k, v in last_seen.items()])  # one executemany

    def readings(self, device_id: str, start: datetime | None, end: datetime | None, *,
                 limit: int = MAX_POINTS) -> dict:
        """Raw readings of a device in [start, end), oldest first (default: the last hour)."""
        start, end = self._window(device_id, start, end)
        with self.db.session(write=False) as s:
            rows = s.execute(select(Reading.ts, Reading.value, Reading.quality)
                             .where(Reading.device_id == device_id, Reading.ts >= start, Reading.ts < end)
                             .order_by(Reading.ts).limit(limit + 1)).all()
        truncated = len(rows) > limit
        return {"device_id": device_id, "from": start.isoformat(), "to": end.isoformat(), "truncated": truncated,
                "items": [{"ts": _aware(r.ts).isoformat(), "value": r.value, "quality": r.quality}
                          for r in rows[:limit]]}

    def downsampled(self, device_id: str, start: datetime | None, end: datetime | None, buckets: int) -> dict:
        """min/avg/max/count per equal time bucket of [start, end) (for charts)."""
        if not (1 <= buckets <= MAX_BUCKETS):
            raise Invalid("bad bucket count", errors=[{"field": "buckets", "message": f"between 1 and {MAX_BUCKETS}"}])
        start, end = self._window(device_id, start, end)
        width = (end - start).total_seconds() / buckets
        with self.db.session(write=False) as s:
            if self.db.is_sqlite:  # julianday is a float of days: measure from the window start to keep precision
                offset = (func.julianday(Reading.ts) - func.julianday(start.replace(tzinfo=None).isoformat(sep=" ")))
                offset = offset * 86400.0
            else:
                offset = func.extract("epoch", Reading.ts) - start.timestamp()
            bucket = func.floor((offset + 1e-3) / width).label("b")  # julianday rounding is ~20 µs
            rows = s.execute(select(bucket, func.min(Reading.value), func.avg(Reading.value), func.max(Reading.value),
                                    func.count()).where(Reading.device_id == device_id, Reading.ts >= start,
                                                        Reading.ts < end).group_by(bucket).order_by(bucket)).all()
        merged: dict[int, list] = {}
        for b, lo, avg, hi, n in rows:  # rounding at an edge may split a bucket: merge
            b = min(max(int(b), 0), buckets - 1)
            m = merged.get(b)
            merged[b] = [lo, avg * n, hi, n] if m is None else [min(m[0], lo), m[1] + avg * n, max(m[2], hi), m[3] + n]
        items = [{"start": (start + timedelta(seconds=b * width)).isoformat(), "min": lo, "avg": total / n,
                  "max": hi, "count": n} for b, (lo, total, hi, n) in sorted(merged.items())]
        return {"device_id": device_id, "from": start.isoformat(), "to": end.isoformat(), "bucket_seconds": width,
                "items": items}

    def dead_letters(self, *, reason: str | None = None, device_id: str | None = None, page: int = 1,
                     page_size: int = 50) -> dict:
        """Rejected telemetry, newest first."""
        conds = []
        if reason:
            conds.append(DeadLetter.reason == reason)
        if device_id:
            conds.append(DeadLetter.device_id == device_id)
        with self.db.session(write=False) as s:
            total = s.scalar(select(func.count()).select_from(DeadLetter).where(*conds))
            rows = s.scalars(select(DeadLetter).where(*conds).order_by(DeadLetter.id.desc())
                             .offset((page - 1) * page_size).limit(page_size)).all()
            return {"items": [{"id": d.id, "received_at": _aware(d.received_at).isoformat(), "source": d.source,
                               "topic": d.topic, "device_id": d.device_id, "reason": d.reason, "detail": d.detail,
                               "payload": d.payload} for d in rows],
                    "total": total, "page": page, "page_size": page_size}

    def counts(self) -> dict:
        """Rows in the readings and dead-letter tables (benchmarks, health)."""
        with self.db.session(write=False) as s:
            return {"readings": s.scalar(select(func.count()).select_from(Reading)),
                    "dead_letters": s.scalar(select(func.count()).select_from(DeadLetter))}

    def _window(self, device_id, start, end):
        with self.db.session(write=False) as s:
            if s.get(Device, device_id) is None:
                raise NotFound(f"no device {device_id}")
        end = end or utcnow()
        start = start or end - timedelta(hours=1)
        if start >= end:
            raise Invalid("empty time range", errors=[{"field": "from", "message": "must be before 'to'"}])
        return start, end


def _aware(dt: datetime) -> datetime:
    from datetime import timezone

    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
