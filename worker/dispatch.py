"""Getting outbox entries to the job functions: RQ in production, a thread when embedded.

The outbox row is written in the same transaction as the instance change. After
commit the relay hands due rows to RQ (or runs them in-process) and marks them
sent; rows that stay sent but not done longer than the lease (a worker killed
with SIGKILL, a lost enqueue, Redis down) are re-sent by the next sweep.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from engine.models import OutboxEntry, ProcessInstance, utcnow
from engine.runner import ACTIVE_STATUSES

log = logging.getLogger(__name__)
QUEUE_NAME = "anjian"


class OutboxRelay:
    """Claims due outbox entries (conditional UPDATE, so two relays never both claim one)."""

    def __init__(self, db, lease_seconds: float):
        self.db = db
        self.lease = lease_seconds

    def claim_due(self, limit: int = 200) -> list[int]:
        """Mark up to ``limit`` due entries as sent and return their ids."""
        now = utcnow()
        cut = now - timedelta(seconds=self.lease)
        due = or_(OutboxEntry.sent_at.is_(None), OutboxEntry.sent_at < cut)
        with self.db.session(write=False) as s:
            ids = list(s.scalars(select(OutboxEntry.id).where(
                OutboxEntry.done_at.is_(None), OutboxEntry.available_at <= now, due)
                .order_by(OutboxEntry.id).limit(limit)))
        claimed = []
        if not ids:
            return claimed
        with self.db.session() as s:
            for entry_id in ids:
                res = s.execute(update(OutboxEntry).where(
                    OutboxEntry.id == entry_id, OutboxEntry.done_at.is_(None), due).values(sent_at=now))
                if res.rowcount == 1:
                    claimed.append(entry_id)
        return claimed

    def unclaim(self, entry_ids: list[int]) -> None:
        """Give entries back (the enqueue failed): the next sweep sends them again."""
        if not entry_ids:
            return
        with self.db.session() as s:
            s.execute(update(OutboxEntry).where(OutboxEntry.id.in_(entry_ids), OutboxEntry.done_at.is_(None))
                      .values(sent_at=None))

    def schedule_due_timers(self, limit: int = 1000) -> int:
        """Turn instances whose next timer is due into 'timer' outbox entries (deduplicated)."""
        now = utcnow()
        with self.db.session(write=False) as s:
            rows = s.execute(select(ProcessInstance.id, ProcessInstance.next_timer_at).where(
                ProcessInstance.next_timer_at <= now, ProcessInstance.status.in_(ACTIVE_STATUSES))
                .order_by(ProcessInstance.next_timer_at).limit(limit)).all()
            if not rows:
                return 0
            keys = {f"timer:{iid}:{due.isoformat()}": iid for iid, due in rows}
            existing = set(s.scalars(select(OutboxEntry.dedupe_key).where(OutboxEntry.dedupe_key.in_(list(keys)))))
        created = 0
        for key, iid in keys.items():
            if key in existing:
                continue
            try:
                with self.db.session() as s:
                    s.add(OutboxEntry(kind="timer", payload={"instance_id": iid}, dedupe_key=key))
                created += 1
            except IntegrityError:
                continue  # another scheduler got there first
        return created


class EmbeddedDispatcher:
    """Runs jobs and timers on an in-process thread (no Redis needed)."""

    def __init__(self, platform, *, poll_seconds: float = 0.25, lease_seconds: float = 60):
        from worker.jobs import JobRunner

        self.platform = platform
        self.relay = OutboxRelay(platform.db, lease_seconds)
        self.jobs = JobRunner(platform)
        self.poll = poll_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def notify(self) -> None:
        """Something was committed to the outbox: run it now rather than at the next poll."""
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
        """One pass: schedule due timers, run every due entry. Returns entries run."""
        self.relay.schedule_due_timers()
        ran = 0
        for entry_id in self.relay.claim_due():
            try:
                self.jobs.run_entry(entry_id)
            except Exception:
                log.exception("job for outbox entry %s failed; it will be re-run after the lease", entry_id)
            ran += 1
        return ran

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if self.run_once():
                    continue
            except Exception:
                log.exception("embedded runner pass failed")
            self._wake.wait(self.poll)
            self._wake.clear()


class RqDispatcher:
    """Relays outbox entries to an RQ queue; jobs run in ``anjian worker`` processes."""

    def __init__(self, platform, redis_url: str, *, lease_seconds: float = 60):
        from redis import Redis

        self.platform = platform
        self.redis = Redis.from_url(redis_url, socket_connect_timeout=0.5, socket_timeout=2)
        self.relay = OutboxRelay(platform.db, lease_seconds)
        self.lease = lease_seconds
        self._down_until = 0.0

    def queue(self):
        from rq import Queue

        return Queue(QUEUE_NAME, connection=self.redis)

    def notify(self) -> None:
        """After a commit that wrote outbox rows: relay now (best effort; the sweep catches up)."""
        if time.monotonic() < self._down_until:
            return
        try:
            self.relay_once()
        except Exception as exc:  # Redis down: the API keeps working, rows wait in the outbox
            self._down_until = time.monotonic() + 2.0
            log.warning("outbox relay failed (%s); entries stay in the outbox", exc)

    def relay_once(self) -> int:
        """Enqueue every due entry; entries that fail to enqueue are given back."""
        ids = self.relay.claim_due()
        if not ids:
            return 0
        q = self.queue()
        sent = []
        try:
            for entry_id in ids:
                q.enqueue("worker.jobs.run_outbox_entry", entry_id, job_id=f"outbox-{entry_id}-{int(time.time())}",
                          job_timeout=max(int(self.lease) - 5, 10), result_ttl=300, failure_ttl=86400)
                sent.append(entry_id)
        except Exception:
            self.relay.unclaim([i for i in ids if i not in sent])
            raise
        return len(sent)

    def start(self) -> None:
        """Nothing runs in-process in production mode."""

    def stop(self) -> None:
        """Nothing runs in-process in production mode."""


class Scheduler:
    """The timer poller and outbox sweeper (``anjian scheduler``); one active at a time."""

    LOCK_KEY = "anjian:scheduler:leader"

    def __init__(self, platform, dispatcher: RqDispatcher, *, interval: float = 0.5):
        self.platform = platform
        self.dispatcher = dispatcher
        self.interval = interval
        self.identity = f"{os.uname().nodename}:{os.getpid()}"

    def is_leader(self) -> bool:
        """Hold or take the leader lock (expires after 5 s if this process dies)."""
        r = self.dispatcher.redis
        if r.set(self.LOCK_KEY, self.identity, nx=True, px=5000):
            return True
        if (r.get(self.LOCK_KEY) or b"").decode() == self.identity:
            r.pexpire(self.LOCK_KEY, 5000)
            return True
        return False

    def run_once(self) -> int:
        """One pass when leader: schedule due timers and relay due entries."""
        if not self.is_leader():
            return 0
        self.dispatcher.relay.schedule_due_timers()
        return self.dispatcher.relay_once()

    def run_forever(self) -> None:
        """Poll until killed; Redis outages are logged and retried."""
        while True:
            try:
                self.run_once()
            except Exception as exc:
                log.warning("scheduler pass failed: %s", exc)
            time.sleep(self.interval)
