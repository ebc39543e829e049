"""Getting outbox entries to the job functions: RQ in production, a thread when embedded.

The outbox row is written in the same transaction as the instance change. After
commit the relay hands due rows to RQ (or runs them in-process) and marks them
sent; rows that stay sent but not done longer than the lease (a worker killed
with SIGKILL, a lost enqueue, Redis down) are re-sent by the next sweep.
"""
from __future__ import annotations

import heapq
import logging
import os
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, case, or_, select, update

from engine.models import OutboxEntry, ProcessInstance, utcnow
from engine.runner import ACTIVE_STATUSES
from worker.queues import QUEUE_BY_URGENCY, QUEUE_NORMAL, URGENT_KINDS, job_timeout_for, rank, urgency_of

log = logging.getLogger(__name__)
QUEUE_NAME = QUEUE_NORMAL  # the normal-urgency queue (worker/queues.py has all three)
#: Due timers fired by one job: a burst of 200 is 20 jobs, spread over the urgent workers.
TIMER_BATCH = 10
MAX_KNOWN_TIMERS = 10_000  # due times the embedded runner keeps in memory; beyond, it polls for them


class OutboxRelay:
    """Claims due outbox entries (conditional UPDATE, so two relays never both claim one)."""

    def __init__(self, db, lease_seconds: float):
        self.db = db
        self.lease = lease_seconds

    def claim_due(self, limit: int = 200, *, kinds: tuple[str, ...] | None = None) -> list[int]:
        """Mark up to ``limit`` due entries as sent and return their ids (oldest first)."""
        return [entry_id for entry_id, _, _ in self.claim(limit, kinds=kinds)]

    def claim(self, limit: int = 200, *, kinds: tuple[str, ...] | None = None) -> list[tuple[int, str, dict]]:
        """Mark up to ``limit`` due entries (of ``kinds``, default all) as sent; return ``(id, kind, payload)``.

        One statement: ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)
        RETURNING …`` on PostgreSQL (two relays never claim the same row and
        never wait for each other); SQLite serializes writers anyway. The relay
        runs after every commit that wrote outbox rows, so it must be cheap.
        Urgent kinds (timers, thrown messages) are picked before the others, so a
        backlog of connector calls never keeps a due timer out of a claim.
        """
        now = utcnow()
        cut = now - timedelta(seconds=self.lease)
        due = and_(OutboxEntry.done_at.is_(None), OutboxEntry.available_at <= now,
                   or_(OutboxEntry.sent_at.is_(None), OutboxEntry.sent_at < cut))
        if kinds is not None:
            due = and_(due, OutboxEntry.kind.in_(list(kinds)))
        urgent_first = case((OutboxEntry.kind.in_(list(URGENT_KINDS)), 0), else_=1)
        pick = select(OutboxEntry.id).where(due).order_by(urgent_first, OutboxEntry.id).limit(limit)
        if not self.db.is_sqlite:
            pick = pick.with_for_update(skip_locked=True)
        with self.db.session() as s:
            claimed = [tuple(r) for r in s.execute(
                update(OutboxEntry).where(OutboxEntry.id.in_(pick.scalar_subquery()), due)
                .values(sent_at=now).returning(OutboxEntry.id, OutboxEntry.kind, OutboxEntry.payload)
                .execution_options(synchronize_session=False))]
        return sorted(claimed, key=lambda r: r[0])

    def unclaim(self, entry_ids: list[int]) -> None:
        """Give entries back (the enqueue failed): the next sweep sends them again."""
        if not entry_ids:
            return
        with self.db.session() as s:
            s.execute(update(OutboxEntry).where(OutboxEntry.id.in_(entry_ids), OutboxEntry.done_at.is_(None))
                      .values(sent_at=None))

    def next_timer_due(self) -> datetime | None:
        """The earliest future ``next_timer_at`` of an active instance (indexed), or None.

        Only future ones: timers already due are the current pass's work, and
        counting them would make the scheduler spin while a worker fires them.
        """
        from sqlalchemy import func

        with self.db.session(write=False) as s:
            return s.scalar(select(func.min(ProcessInstance.next_timer_at))
                            .where(ProcessInstance.next_timer_at > utcnow(),
                                   ProcessInstance.status.in_(ACTIVE_STATUSES)))

    def schedule_due_timers(self, limit: int = 1000) -> int:
        """Turn instances whose next timer is due into 'timer' outbox entries (deduplicated).

        One INSERT … ON CONFLICT (dedupe_key) DO NOTHING for the whole batch: a
        thousand timers due in the same second cost one transaction, not a
        thousand, and a second scheduler racing this one inserts nothing twice.
        """
        now = utcnow()
        with self.db.session(write=False) as s:
            rows = s.execute(select(ProcessInstance.id, ProcessInstance.next_timer_at).where(
                ProcessInstance.next_timer_at <= now, ProcessInstance.status.in_(ACTIVE_STATUSES))
                .order_by(ProcessInstance.next_timer_at).limit(limit)).all()
            if not rows:
                return 0
            keys = {f"timer:{iid}:{due.isoformat()}": iid for iid, due in rows}
            existing = set(s.scalars(select(OutboxEntry.dedupe_key).where(OutboxEntry.dedupe_key.in_(list(keys)))))
        values = [{"kind": "timer", "payload": {"instance_id": iid}, "dedupe_key": key, "created_at": now,
                   "available_at": now, "attempts": 0}
                  for key, iid in keys.items() if key not in existing]
        if not values:
            return 0
        if self.db.is_sqlite:
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert
        stmt = insert(OutboxEntry).values(values).on_conflict_do_nothing(index_elements=["dedupe_key"])
        with self.db.session() as s:
            created = len(list(s.scalars(stmt.returning(OutboxEntry.id))))
        return created


class EmbeddedDispatcher:
    """Runs jobs and timers on an in-process thread (no Redis needed)."""

    def __init__(self, platform, *, poll_seconds: float = 1.0, lease_seconds: float = 60):
        from worker.jobs import JobRunner
        from worker.schedule import JobSchedule

        self.platform = platform
        self.relay = OutboxRelay(platform.db, lease_seconds)
        self.jobs = JobRunner(platform)
        self.schedule = JobSchedule(platform.db, platform.settings)
        self.poll = poll_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._run_now = False
        # Monotonic due times of the timers this process committed, earliest first: all of them, not only the
        # earliest, or a second timer due a moment after the first would wait for the next poll.
        self._dues: list[float] = []

    def notify(self) -> None:
        """Something was committed to the outbox: run it now rather than at the next poll."""
        self._run_now = True
        self._wake.set()

    def timer_set(self, due_at: datetime) -> None:
        """An instance this process committed waits for a timer due at ``due_at``: run then.

        So a timer fires on time without polling fast: the runner polls once a second
        (timers committed by other processes: within DESIGN.md's 2 s) and otherwise sleeps
        until the earliest due time it was told about.
        """
        # A few ms late rather than early: the due query compares with the clock at run time.
        when = time.monotonic() + max(0.0, (due_at - utcnow()).total_seconds()) + 0.005
        with self._lock:
            earliest = not self._dues or when < self._dues[0]
            if len(self._dues) < MAX_KNOWN_TIMERS:  # beyond, the poll finds them
                heapq.heappush(self._dues, when)
            if earliest:
                self._wake.set()

    def start(self) -> None:
        """Start the runner thread (idempotent)."""
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="anjian-embedded-runner", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the runner thread and wait for it."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def run_once(self) -> int:
        """One pass: start due timer-start instances, schedule due timers and hub jobs, run every due entry.

        Entries run in urgency order (worker/queues.py): timers and thrown messages
        first, then connector calls, then long operations and scheduled jobs. After
        each call the pass looks for urgent work again, so a timer that fell due
        during a call runs before the next call. Returns how many entries ran plus
        instances started.
        """
        ran = self.platform.timer_starts.fire_due()
        for _ in range(1000):  # bounded; the next pass carries on
            self.relay.schedule_due_timers()
            self.schedule.emit_due()
            urgent = self.relay.claim(kinds=URGENT_KINDS)
            for entry_id, _, _ in urgent:
                self._run(entry_id)
            # One call at a time, the most urgent of the next few (a normal call before a long operation or
            # a scheduled job); the others are given back, so between two calls urgent work gets its turn.
            rest = self.relay.claim(20)
            if rest:
                connectors = getattr(self.platform, "connectors", None)
                first = min(rest, key=lambda r: (rank(urgency_of(r[1], r[2], connectors)), r[0]))
                self.relay.unclaim([r[0] for r in rest if r is not first])
                self._run(first[0])
            ran += len(urgent) + (1 if rest else 0)
            if not urgent and not rest:
                break
        return ran

    def _run(self, entry_id: int) -> None:
        try:
            self.jobs.run_entry(entry_id)
        except Exception:
            log.exception("job for outbox entry %s failed; it will be re-run after the lease", entry_id)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if self.run_once():
                    continue
            except Exception:
                log.exception("embedded runner pass failed")
            self._sleep()

    def _sleep(self) -> None:
        """Until the next poll, an earlier known timer, an outbox notification or stop."""
        end = time.monotonic() + self.poll
        while not self._stop.is_set():
            with self._lock:
                until = min(end, self._dues[0]) if self._dues else end
            remaining = until - time.monotonic()
            if remaining <= 0:
                break
            woke = self._wake.wait(remaining)
            self._wake.clear()
            if woke and self._run_now:
                break
            # else a new due time (or a spurious wake): compute the deadline again
        self._run_now = False
        with self._lock:
            now = time.monotonic()
            while self._dues and self._dues[0] <= now:  # due now: this pass fires them
                heapq.heappop(self._dues)


class RqDispatcher:
    """Relays outbox entries to an RQ queue; jobs run in ``anjian worker`` processes."""

    def __init__(self, platform, redis_url: str, *, lease_seconds: float = 60):
        from redis import Redis

        self.platform = platform
        self.redis = Redis.from_url(redis_url, socket_connect_timeout=0.5, socket_timeout=2)
        self.relay = OutboxRelay(platform.db, lease_seconds)
        self.lease = lease_seconds
        self._down_until = 0.0

    def queue(self, urgency: str = "normal"):
        """The RQ queue of an urgency class (``high``, ``normal``, ``low``)."""
        from rq import Queue

        return Queue(QUEUE_BY_URGENCY[urgency], connection=self.redis)

    def timer_set(self, due_at: datetime) -> None:
        """Nothing to do: the scheduler process polls the indexed due times."""

    def notify(self) -> None:
        """After a commit that wrote outbox rows: relay now (best effort; the sweep catches up)."""
        if time.monotonic() < self._down_until:
            return
        try:
            self.relay_once()
        except Exception as exc:  # Redis down: the API keeps working, rows wait in the outbox
            self._down_until = time.monotonic() + 2.0
            log.warning("outbox relay failed (%s); entries stay in the outbox", exc)

    @property
    def job_timeout(self) -> int:
        """RQ's limit on one job: below the lease, so a live worker gives up before the entry is re-sent."""
        return max(int(self.lease - 5), int(self.lease / 2), 1)

    def relay_once(self) -> int:
        """Enqueue every due entry on the queue of its urgency; returns how many were (re-)sent.

        Timers and thrown messages go to ``anjian-high``, connector calls to
        ``anjian``, long operations and scheduled jobs to ``anjian-low``
        (worker/queues.py); a service task's job may run for its operation's
        time limit plus grace. Due timers travel in batches of ``TIMER_BATCH``
        (one job fires several), so a burst of timers costs a few jobs and is
        spread over the urgent workers instead of queueing one by one.

        Each entry's job is ``outbox-<id>`` (a batch: that of its first entry). An
        entry whose lease ran out is re-sent only when its job is gone (Redis
        restarted), has ended without finishing the entry (failed, killed work
        horse) or started longer ago than it may run (its worker died). A job
        still waiting in the queue is left alone and the lease starts again, so a
        backlog longer than the lease does not fill the queue with duplicates.
        Entries that could not be enqueued (Redis down) are given back for the
        next sweep.
        """
        from rq.job import Job

        claimed = self.relay.claim()
        if not claimed:
            return 0
        ids = [entry_id for entry_id, _, _ in claimed]
        handled: list[int] = []
        sent = 0
        connectors = getattr(self.platform, "connectors", None)
        settings = self.platform.settings
        try:
            jobs = Job.fetch_many([f"outbox-{i}" for i in ids], connection=self.redis)
            now = utcnow()
            timers: list[int] = []
            queues: dict[str, object] = {}
            for (entry_id, kind, payload), job in zip(claimed, jobs):
                if job is not None:
                    if _job_in_flight(job, now, job.timeout or self.job_timeout):
                        handled.append(entry_id)
                        continue
                    job.delete()
                if kind == "timer":
                    timers.append(entry_id)
                    continue
                urgency = urgency_of(kind, payload, connectors)
                q = queues.get(urgency) or queues.setdefault(urgency, self.queue(urgency))
                q.enqueue("worker.jobs.run_outbox_entry", entry_id, job_id=f"outbox-{entry_id}",
                          job_timeout=job_timeout_for(kind, payload, connectors, settings, self.job_timeout),
                          result_ttl=300, failure_ttl=86400)
                handled.append(entry_id)
                sent += 1
            if timers:
                q = self.queue("high")
                for start in range(0, len(timers), TIMER_BATCH):
                    batch = timers[start:start + TIMER_BATCH]
                    q.enqueue("worker.jobs.run_outbox_entries", batch, job_id=f"outbox-{batch[0]}",
                              job_timeout=self.job_timeout, result_ttl=300, failure_ttl=86400)
                    handled.extend(batch)
                    sent += len(batch)
        except Exception:
            self.relay.unclaim([i for i in ids if i not in set(handled)])
            raise
        return sent

    def start(self) -> None:
        """Nothing runs in-process in production mode."""

    def stop(self) -> None:
        """Nothing runs in-process in production mode."""


def _job_in_flight(job, now, job_timeout: int) -> bool:
    """True when an RQ job is still waiting to run, or running and younger than a job may get."""
    from rq.job import JobStatus

    status = job.get_status(refresh=False)
    if status in (JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED):
        return True
    if status == JobStatus.STARTED and job.started_at is not None:
        started = job.started_at if job.started_at.tzinfo else job.started_at.replace(tzinfo=timezone.utc)
        return (now - started).total_seconds() < job_timeout + 2
    return False


class Scheduler:
    """The timer poller and outbox sweeper (``anjian scheduler``); one active at a time."""

    LOCK_KEY = "anjian:scheduler:leader"

    LOCK_MS = 5000
    # Renew only if we still hold it: GET+PEXPIRE in two calls could extend a lock another scheduler just took.
    _RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"

    def __init__(self, platform, dispatcher: RqDispatcher, *, interval: float = 0.5):
        from worker.schedule import JobSchedule

        self.platform = platform
        self.dispatcher = dispatcher
        self.schedule = JobSchedule(platform.db, platform.settings)
        self.interval = interval
        # Host and pid name the process for operators; the suffix keeps two schedulers of one process apart.
        self.identity = f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.leader = False

    def is_leader(self) -> bool:
        """Hold or take the leader lock (it expires LOCK_MS after the leader stops renewing it)."""
        r = self.dispatcher.redis
        held = bool(r.eval(self._RENEW, 1, self.LOCK_KEY, self.identity, self.LOCK_MS)) or \
            bool(r.set(self.LOCK_KEY, self.identity, nx=True, px=self.LOCK_MS))
        if held != self.leader:
            log.warning("scheduler %s %s", self.identity, "is now the leader" if held else "lost the leadership")
            self.leader = held
        return held

    def run_once(self) -> int:
        """One pass when leader: schedule due timers and hub jobs, then relay due entries until none are left."""
        if not self.is_leader():
            return 0
        self.platform.timer_starts.fire_due()
        self.dispatcher.relay.schedule_due_timers()
        self.schedule.emit_due()
        total = 0
        for _ in range(50):  # bounded: the lock is renewed by the next pass
            sent = self.dispatcher.relay_once()
            total += sent
            if sent == 0:
                break
        return total

    def run_forever(self) -> None:
        """Poll until killed; Redis outages are logged and retried.

        Between passes it sleeps ``interval`` at most, and less when a timer
        falls due sooner, so a due timer is queued within a few milliseconds
        rather than up to one interval late. Each successful pass writes the
        ``scheduler`` heartbeat (engine/heartbeat.py) that the compose health check reads.
        """
        from engine.heartbeat import Heartbeat

        heartbeat = Heartbeat(self.platform.settings.data_dir, "scheduler")
        while True:
            try:
                self.run_once()
                heartbeat.beat()
            except Exception as exc:
                self.leader = False
                log.warning("scheduler pass failed: %s", exc)
            time.sleep(self._pause())

    def _pause(self) -> float:
        """Seconds until the next pass: the interval, or less when a timer is due sooner."""
        if not self.leader:
            return self.interval
        try:
            due = self.dispatcher.relay.next_timer_due()
        except Exception:  # noqa: BLE001 - the next pass reports database trouble
            return self.interval
        if due is None:
            return self.interval
        return min(self.interval, max(0.0, (due - utcnow()).total_seconds() + 0.002))


def _preload_job_dependencies() -> None:
    """Import everything a job needs, once, in the process that imports this module.

    ``anjian worker`` imports this module and then lets RQ fork a work horse
    per job. A horse inherits the parent's imported modules; without this it
    imports the Platform's dependencies (engine, connectors, psycopg) itself,
    for every job: 1.0–1.9 s per job measured, 0.3 s with them preloaded. (A
    worker that does not fork at all, :mod:`worker.rq_worker`, is faster still.)
    """
    import connectors.builtin  # noqa: F401
    import connectors.registry  # noqa: F401
    import engine.platform  # noqa: F401
    import worker.jobs  # noqa: F401

    try:
        import psycopg  # noqa: F401
        import sqlalchemy.dialects.postgresql.psycopg  # noqa: F401
    except ImportError:  # pragma: no cover - SQLite-only installs
        pass


_preload_job_dependencies()
