"""The ingest pipeline: raw telemetry → readings, dead letters, findings, alerts.

Used by the MQTT ingest (through :class:`IngestWorker`, a bounded queue drained
by one thread in batches) and by ``POST /api/v1/telemetry``. Nothing is
dropped: every message becomes a reading or a dead letter, a failing database
is retried with backoff, and an MQTT message is acknowledged only after its
batch is committed.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, OperationalError

from engine.errors import Invalid
from engine.iot.alerts import AlertService
from engine.iot.devices import DeviceInfo, DeviceRegistry
from engine.iot.evaluator import Evaluator, Finding
from engine.iot.models import Device
from engine.iot.readings import ReadingStore
from engine.iot.rules import RuleSet
from engine.iot.telemetry import Rejected, Sample, parse_message, sample_from_fields
from engine.models import utcnow

log = logging.getLogger("anjian.ingest")
MAX_HTTP_BATCH = 5_000
_MICROSECOND = timedelta(microseconds=1)
PAYLOAD_KEEP = 2_000  # characters of a rejected payload kept on its dead letter
#: Devices of one area silent at the same sweep that make one grouped data-gap alert instead of one each.
GROUP_SILENT_MIN = 2


@dataclass(slots=True)
class Envelope:
    """One raw message as it came off the wire."""

    topic: str
    payload: bytes
    received_at: datetime
    ack: Callable[[], None] | None = None
    token: tuple | None = None  # what the worker's ``acker`` needs to acknowledge it (MQTT: generation, mid)


class IngestStats:
    """Counters an operator reads (thread-safe)."""

    def __init__(self):
        self._lock = threading.Lock()
        self.c: Counter = Counter()

    def add(self, **counts) -> None:
        """Increase counters by the given amounts."""
        with self._lock:
            self.c.update({k: v for k, v in counts.items() if v})

    def snapshot(self) -> dict:
        """A copy of all counters."""
        with self._lock:
            return dict(self.c)


class _LogLimiter:
    """At most ``per_second`` dead-letter log lines; the rest are summarised."""

    def __init__(self, per_second: int = 20):
        self.per_second = per_second
        self.window = 0
        self.count = 0
        self.suppressed = 0

    def warn(self, msg, *args) -> None:
        now = int(time.monotonic())
        if now != self.window:
            if self.suppressed:
                log.warning("%d more dead letters not logged in the last second (see the dead_letters table)",
                            self.suppressed)
            self.window, self.count, self.suppressed = now, 0, 0
        self.count += 1
        if self.count <= self.per_second:
            log.warning(msg, *args)
        else:
            self.suppressed += 1


class IngestPipeline:
    """Parse, check, store, evaluate and alert — one batch at a time."""

    def __init__(self, devices: DeviceRegistry, store: ReadingStore, evaluator: Evaluator, alerts: AlertService,
                 rules: RuleSet, stats: IngestStats | None = None):
        self.devices = devices
        self.store = store
        self.evaluator = evaluator
        self.alerts = alerts
        self.rules = rules
        self.stats = stats or IngestStats()
        self._limiter = _LogLimiter()
        self._last_seen: dict[str, datetime] = {}
        self._last_seen_lock = threading.Lock()
        self.stopping = threading.Event()

    # ------------------------------------------------------------------ MQTT path

    def handle_envelopes(self, envelopes: list[Envelope]) -> dict:
        """Process a batch of MQTT messages; returns ``{stored, dead_lettered, alerts}``."""
        readings, dead, accepted, faults = [], [], [], []
        for env in envelopes:
            device = None
            try:
                sample = parse_message(env.topic, env.payload, env.received_at)
                device = self.devices.lookup(sample.device_id)
                if device is None:
                    raise Rejected("unknown_device", "device", f"device {sample.device_id} is not registered",
                                   sample.device_id)
                device.check(sample, video=self._is_video(device))
            except Rejected as rej:
                dead.append(self._dead_row("mqtt", env.topic, rej, env.payload, env.received_at))
                self._limiter.warn("dead letter (%s) on topic %s: %s", rej.reason, env.topic, rej)
                if rej.reason == "out_of_range" and device is not None:
                    faults.append((device, env.received_at, str(rej.message), sample.value))
                continue
            readings.append(self._reading_row(device, sample))
            accepted.append((device, sample, sample.ts is env.received_at))
        return self._commit(readings, dead, accepted, faults, received=len(envelopes))

    def handle_one_safely(self, env: Envelope) -> None:
        """Process one message; if even that fails, keep it as an ``ingest_error`` dead letter."""
        try:
            self.handle_envelopes([env])
        except Exception as exc:  # noqa: BLE001
            log.exception("message on %s breaks ingest; kept as a dead letter", env.topic)
            rej = Rejected("ingest_error", "message", f"{exc.__class__.__name__}: {exc}")
            self._retry("store dead letter", lambda: self.store.store(
                [], [self._dead_row("mqtt", env.topic, rej, env.payload, env.received_at)]))
            self.stats.add(received=1, dead_lettered=1, dead_ingest_error=1)

    # ------------------------------------------------------------------ HTTP path

    def handle_http(self, items: list, received_at: datetime | None = None) -> dict:
        """Validate gateway readings; any bad item → Invalid naming ``readings[i].field`` and nothing stored."""
        received_at = received_at or utcnow()
        if len(items) > MAX_HTTP_BATCH:
            raise Invalid("too many readings", errors=[{"field": "readings",
                                                        "message": f"at most {MAX_HTTP_BATCH} per request"}])
        errors, readings, accepted = [], [], []
        for i, item in enumerate(items):
            where = f"readings[{i}]" if len(items) > 1 else ""
            try:
                if not isinstance(item, dict):
                    raise Rejected("malformed", "(item)", "must be an object")
                dev_id = item.get("device")
                if not isinstance(dev_id, str) or not dev_id:
                    raise Rejected("malformed", "device", "required: the device id")
                metric = item.get("metric")
                if metric is not None and not isinstance(metric, str):
                    raise Rejected("malformed", "metric", "must be a string")
                area = item.get("area")
                if area is not None and not isinstance(area, str):
                    raise Rejected("malformed", "area", "must be a string")
                sample = sample_from_fields(item, device=dev_id, metric=metric, area=area, site=None,
                                            received_at=received_at)
                device = self.devices.lookup(dev_id)
                if device is None:
                    raise Rejected("unknown_device", "device", f"device {dev_id} is not registered")
                device.check(sample, video=self._is_video(device))
            except Rejected as rej:
                field = f"{where}.{rej.field}" if where else rej.field
                errors.append({"field": field.replace(".(item)", ""), "message": rej.message})
                continue
            readings.append(self._reading_row(device, sample))
            accepted.append((device, sample, sample.ts is received_at))
        if errors:
            raise Invalid(f"{len(errors)} reading(s) rejected; nothing was stored", errors=errors)
        # a gateway waits for its answer: give up after a few attempts instead of retrying forever
        return self._commit(readings, [], accepted, [], received=len(items), attempts=3)

    # ------------------------------------------------------------------ common

    @staticmethod
    def _one_per_key(readings: list[dict], accepted: list) -> tuple[list[dict], list, int]:
        """Drop repeats of a reading within one batch; returns (readings, accepted, repeats dropped).

        A reading sent without ``ts`` is stamped with its time of arrival, which two readings of one
        device can share (an HTTP batch); those are distinct readings, moved apart by a microsecond.
        """
        seen: set[tuple] = set()
        rows, acc, repeats = [], [], 0
        for row, (device, sample, stamped) in zip(readings, accepted):
            key = (row["device_id"], row["ts"], row["metric"])
            if key in seen:
                if not stamped:
                    repeats += 1
                    continue
                while key in seen:
                    sample.ts = row["ts"] = key[1] + _MICROSECOND
                    key = (row["device_id"], row["ts"], row["metric"])
            seen.add(key)
            rows.append(row)
            acc.append((device, sample))
        return rows, acc, repeats

    def _commit(self, readings, dead, accepted, faults, *, received: int, attempts: int | None = None) -> dict:
        readings, accepted, duplicates = self._one_per_key(readings, accepted)
        try:
            already = self._retry("store readings", lambda: self.store.store(readings, dead), attempts)
        except DBAPIError as exc:  # the data, not the connection: find the rows at fault
            log.warning("batch insert refused (%s); storing row by row", exc.__class__.__name__)
            readings, dead, accepted, already = self._store_row_by_row(readings, dead, accepted)
        if already:  # redelivered: stored before, so its rules have run before too
            readings = [r for i, r in enumerate(readings) if i not in already]
            accepted = [a for i, a in enumerate(accepted) if i not in already]
            duplicates += len(already)
        self.stats.add(received=received, stored=len(readings), dead_lettered=len(dead), duplicates=duplicates,
                       **Counter(f"dead_{d['reason']}" for d in dead))
        with self._last_seen_lock:
            for device, sample in accepted:
                prev = self._last_seen.get(device.id)
                if prev is None or sample.ts > prev:
                    self._last_seen[device.id] = sample.ts
        findings: list[Finding] = []
        try:
            for device, sample in accepted:
                found = self.evaluator.evaluate(device, sample.value, sample.ts, sample.quality, sample.metric)
                if found:
                    findings.extend(found)
            for device, ts, why, value in faults:
                for r in self.rules.rules_for(device.type, device.area, "sensor_fault"):
                    findings.append(self.evaluator.fault(device, r.id, r.params["grade"], ts, why, value))
        except Exception:  # noqa: BLE001 - stored readings must not be lost to a rule bug
            self.stats.add(evaluation_errors=1)
            log.exception("rule evaluation failed for a batch of %d readings", len(accepted))
        done = self._retry("raise alerts", lambda: self.alerts.apply(findings), attempts) if findings else []
        self.stats.add(alerts_opened=sum(1 for r in done if r["outcome"] == "opened"),
                       alerts_escalated=sum(1 for r in done if r["outcome"] == "escalated"))
        return {"received": received, "stored": len(readings), "dead_lettered": len(dead), "duplicates": duplicates,
                "alerts": [{k: r[k] for k in ("id", "outcome", "grade", "rule", "device_id", "area")} for r in done]}

    def _store_row_by_row(self, readings, dead, accepted):
        """Store what the database accepts; a refused reading becomes a ``store_failed`` dead letter."""
        kept, kept_accepted, dead_out, already = [], [], [], set()
        for row, acc in zip(readings, accepted):
            try:
                if self._retry("store reading", lambda: self.store.store([row], [])):
                    already.add(len(kept))
                kept.append(row)
                kept_accepted.append(acc)
            except DBAPIError as exc:
                dead.append({"received_at": utcnow(), "source": "mqtt", "topic": None, "device_id": row["device_id"],
                             "reason": "store_failed", "detail": _clean(str(exc.orig or exc))[:2000],
                             "payload": _clean(repr(row))[:PAYLOAD_KEEP]})
        for row in dead:
            try:
                self._retry("store dead letter", lambda: self.store.store([], [row]))
            except DBAPIError:  # last resort: keep only what is surely storable
                row = {**row, "topic": _ascii(row.get("topic")), "detail": _ascii(row["detail"]),
                       "payload": _ascii(row["payload"]), "device_id": _ascii(row.get("device_id"))}
                self._retry("store dead letter", lambda: self.store.store([], [row]))
            dead_out.append(row)
        return kept, dead_out, kept_accepted, already

    def _retry(self, what: str, fn, attempts: int | None = None):
        """Run ``fn``, retrying with backoff while the database is unreachable (not when it refuses data).

        ``attempts`` None retries until it works (the MQTT worker: unacknowledged messages wait on the broker).
        """
        delay = 0.2
        tried = 0
        while True:
            try:
                return fn()
            except DBAPIError as exc:
                tried += 1
                if not _transient(exc) or self.stopping.is_set() or (attempts is not None and tried >= attempts):
                    raise
                self.stats.add(db_retries=1)
                log.warning("%s failed (%s); retrying in %.1fs", what, exc.__class__.__name__, delay)
                time.sleep(delay)
                delay = min(delay * 2, 10.0)

    def flush_last_seen(self) -> None:
        """Write the in-memory last-seen times to the devices table."""
        with self._last_seen_lock:
            pending, self._last_seen = self._last_seen, {}
        if pending:
            self._retry("record last seen", lambda: self.store.touch_devices(pending))

    def sweep_data_gaps(self, now: datetime | None = None) -> list[dict]:
        """Blue sensor-fault alerts for devices silent longer than their rule's ``silent_s``.

        Devices of one area that are silent under the same rule at the same sweep
        (a gateway or a network segment down) become ONE grouped alert naming
        them (``details.devices``), so an outage of hundreds of detectors opens
        one alert and starts one ``alert_response``, not hundreds. A device silent
        alone keeps its own alert. Run it off the thread that evaluates readings
        (:class:`IngestWorker` has a thread of its own for it): a gas alarm must
        never wait for housekeeping.
        """
        now = now or utcnow()
        self.flush_last_seen()
        with self.devices.db.session(write=False) as s:
            rows = s.execute(select(Device.id, Device.last_seen_at, Device.created_at)
                             .where(Device.active.is_(True))).all()
        silent_by_group: dict[tuple[str, str], list] = {}
        snapshot = self.devices.snapshot()
        for dev_id, last_seen, created_at in rows:
            info = snapshot.get(dev_id)
            if info is None:
                continue
            heard = last_seen or created_at
            for r in self.rules.rules_for(info.type, info.area, "sensor_fault"):
                silent = (now - heard).total_seconds()
                if silent >= r.params["silent_s"]:
                    silent_by_group.setdefault((info.area, r.id), []).append((info, r, heard, silent))
        findings = []
        for (area, rule_id), members in sorted(silent_by_group.items()):
            if len(members) >= GROUP_SILENT_MIN:
                findings.append(self._group_gap_finding(area, rule_id, members, now))
                continue
            for info, r, heard, silent in members:
                f = self.evaluator.fault(info, r.id, r.params["grade"], now,
                                         f"no data for {int(silent)} s (limit {r.params['silent_s']:g} s)")
                f.onset = False
                f.details["last_seen_at"] = heard.isoformat() if heard else None
                findings.append(f)
        return self._retry("raise data-gap alerts", lambda: self.alerts.apply(findings)) if findings else []

    @staticmethod
    def _group_gap_finding(area: str, rule_id: str, members: list, now: datetime) -> Finding:
        """One area-wide finding for devices that fell silent together."""
        members = sorted(members, key=lambda m: m[0].id)
        ids = [m[0].id for m in members]
        limit = members[0][1].params["silent_s"]
        shown = ", ".join(ids[:5]) + (f" … (+{len(ids) - 5})" if len(ids) > 5 else "")
        why = f"{len(ids)} devices without data for at least {int(min(m[3] for m in members))} s (limit {limit:g} s)"
        heard = [m[2] for m in members if m[2] is not None]
        return Finding(rule_id, "sensor_fault", area, members[0][1].params["grade"],
                       f"数据中断 {area}: {len(ids)} 台设备无数据 ({shown})", now, None, None, None, None,
                       onset=False, area_department=members[0][0].area_department, key_suffix="#silent_group",
                       details={"reason": why, "grouped": True, "devices": ids, "device_count": len(ids),
                                "silent_since": min(heard).isoformat() if heard else None})

    def _is_video(self, device: DeviceInfo) -> bool:
        return device.type == "video"

    @staticmethod
    def _reading_row(device: DeviceInfo, sample: Sample) -> dict:
        return {"device_id": device.id, "ts": sample.ts, "metric": (sample.metric or device.metric)[:64],
                "value": sample.value, "quality": sample.quality}

    @staticmethod
    def _dead_row(source, topic, rej: Rejected, payload: bytes, received_at) -> dict:
        text = payload[:PAYLOAD_KEEP * 4].decode("utf-8", errors="replace")[:PAYLOAD_KEEP]
        return {"received_at": received_at, "source": source, "topic": _clean(topic)[:500],
                "device_id": _clean(rej.device_id)[:64] if rej.device_id else None, "reason": rej.reason,
                "detail": _clean(f"{rej.field}: {rej.message}")[:2000], "payload": _clean(text)}


def _clean(text: str | None) -> str | None:
    """Text PostgreSQL can store: NUL and lone surrogates escaped."""
    if text is None:
        return None
    text = text.replace("\x00", "\\u0000")
    return text.encode("utf-8", errors="backslashreplace").decode("utf-8")


def _ascii(text: str | None) -> str | None:
    return None if text is None else text.encode("ascii", errors="backslashreplace").decode("ascii")


def _transient(exc: DBAPIError) -> bool:
    """True for lost connections, locks and timeouts (retry), False for refused data (do not)."""
    return isinstance(exc, OperationalError) or getattr(exc, "connection_invalidated", False)


class IngestWorker:
    """A bounded queue and the thread that drains it in batches.

    ``offer`` blocks when the queue is full: the MQTT network thread then stops
    reading, the broker keeps the QoS 1 messages, and nothing is dropped.
    """

    def __init__(self, pipeline: IngestPipeline, *, maxsize: int = 20_000, batch_size: int = 2_000,
                 linger: float = 0.01, sweep_seconds: float = 10.0,
                 acker: Callable[[list[Envelope]], None] | None = None,
                 heartbeat: Callable[[], None] | None = None):
        self.pipeline = pipeline
        self.heartbeat = heartbeat  # called by the draining thread while it is alive (engine/heartbeat.py)
        self.acker = acker  # acknowledges a committed batch at once (else each envelope's ``ack``)
        self.queue: queue.Queue[Envelope] = queue.Queue(maxsize=maxsize)
        self.batch_size = batch_size
        self.linger = linger
        self.sweep_seconds = sweep_seconds
        self._thread: threading.Thread | None = None
        self._sweeper: threading.Thread | None = None
        self._stop = threading.Event()
        self.idle = threading.Event()

    def offer(self, env: Envelope) -> None:
        """Hand a message to the worker (blocks while the queue is full)."""
        while True:
            try:
                self.queue.put(env, timeout=0.5)
                self.idle.clear()
                return
            except queue.Full:
                self.pipeline.stats.add(queue_full_waits=1)
                if self._stop.is_set():
                    raise RuntimeError("ingest is stopping") from None

    def start(self) -> None:
        """Start the draining thread and the data-gap sweep's own thread."""
        self._thread = threading.Thread(target=self._run, name="anjian-ingest-worker", daemon=True)
        self._thread.start()
        if self.sweep_seconds and self.sweep_seconds > 0:
            self._sweeper = threading.Thread(target=self._sweep_loop, name="anjian-data-gap-sweep", daemon=True)
            self._sweeper.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Process what is queued, then stop."""
        self._stop.set()
        if self._thread:
            self._thread.join(timeout)
        if self._sweeper:
            self._sweeper.join(timeout)
        self.pipeline.flush_last_seen()

    def _sweep_loop(self) -> None:
        """The data-gap sweep, every ``sweep_seconds``, on its own thread.

        It once ran on the draining thread, between batches: a sweep that opened
        alerts for a hundred silent detectors held a gas reading behind it for
        seconds. Here it only shares the database and the interpreter.
        """
        while not self._stop.wait(self.sweep_seconds):
            try:
                self.pipeline.sweep_data_gaps()
            except Exception:  # noqa: BLE001
                log.exception("data-gap sweep failed")

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """True once the queue is empty and the last batch is done (tests, benchmarks)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.idle.is_set() and self.queue.empty():
                return True
            time.sleep(0.01)
        return False

    def _run(self) -> None:
        while True:
            if self.heartbeat is not None:
                self.heartbeat()
            try:
                first = self.queue.get(timeout=0.2)
            except queue.Empty:
                self.idle.set()
                if self._stop.is_set():
                    return
                first = None
            if first is not None:
                batch = [first]
                deadline = time.monotonic() + self.linger
                while len(batch) < self.batch_size:
                    try:
                        batch.append(self.queue.get_nowait())
                    except queue.Empty:
                        if time.monotonic() >= deadline:
                            break
                        time.sleep(0.001)
                self._process(batch)

    def _process(self, batch: list[Envelope]) -> None:
        delay = 0.5
        for attempt in range(5):
            try:
                self.pipeline.handle_envelopes(batch)
                break
            except Exception:  # noqa: BLE001 - never drop a batch: retry it
                self.pipeline.stats.add(batch_failures=1)
                log.exception("ingest batch of %d failed; retrying in %.1fs", len(batch), delay)
                time.sleep(delay)
                delay = min(delay * 2, 10.0)
        else:  # a message that breaks the pipeline itself: isolate it, keep it as a dead letter
            for env in batch:
                self.pipeline.handle_one_safely(env)
        try:
            if self.acker is not None:
                self.acker(batch)
            else:
                for env in batch:
                    if env.ack is not None:
                        env.ack()
        except Exception:  # noqa: BLE001 - a lost ack means a redelivery (a counted duplicate), not a loss
            log.debug("ack failed", exc_info=True)
        self.pipeline.stats.add(batches=1)
        if self.queue.empty():
            self.idle.set()

