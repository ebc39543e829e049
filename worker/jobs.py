"""Job functions: the same code runs on RQ workers and on the embedded runner thread.

A job works on one outbox entry. A service-task job evaluates the task's
parameters, calls the connector outside any transaction, then in one
transaction re-loads the instance, completes the task, advances the instance
and marks the entry done. The entry's ``done_at`` is checked inside that
transaction, so a job that runs twice (a worker killed mid-job, a relay that
re-sent it) advances the instance exactly once.
"""
from __future__ import annotations

import logging
import signal
import threading
import time
from contextlib import contextmanager
from datetime import timedelta
from uuid import UUID

from SpiffWorkflow.util.task import TaskState
from sqlalchemy.orm.exc import StaleDataError

from engine import audit
from engine.errors import NotFound
from engine.models import Incident, OutboxEntry, ProcessInstance, utcnow
from engine.principal import SYSTEM
from engine.runner import ACTIVE_STATUSES
from engine.values import json_data

log = logging.getLogger(__name__)
MAX_WRITE_ATTEMPTS = 8
DEFAULT_BACKOFF_SECONDS = 1


class JobRunner:
    """Runs outbox entries against a Platform."""

    def __init__(self, platform):
        self.platform = platform
        self.db = platform.db
        self.runner = platform.runner

    def run_entry(self, entry_id: int) -> str:
        """Run one outbox entry; returns what happened (for logs and tests)."""
        with self.db.session(write=False) as s:
            entry = s.get(OutboxEntry, entry_id)
            if entry is None:
                return "missing"
            if entry.done_at is not None:
                return "already-done"
            kind, payload = entry.kind, dict(entry.payload)
        if kind == "service_task":
            return self._service_task(entry_id, payload)
        if kind == "message":
            return self._message(entry_id, payload)
        if kind == "timer":
            return self._timer(entry_id, payload)
        if kind == "scheduled":
            return self._scheduled(entry_id, payload)
        if kind == "alert_process":
            return self._alert_process(entry_id, payload)
        self._finish(entry_id, error=f"unknown job kind {kind}")
        return "unknown-kind"

    # ------------------------------------------------------------------ service tasks

    def _service_task(self, entry_id: int, payload: dict) -> str:
        instance_id, task_id = payload["instance_id"], payload["task_id"]
        prepared = self._prepare_call(instance_id, task_id)
        if prepared is None:
            self._finish(entry_id, error="task is no longer waiting for its service call")
            return "stale"
        operator, params, retries, backoff = prepared
        from worker.queues import call_limit

        limit = call_limit(self.platform.connectors, operator, self.platform.settings)
        started = time.perf_counter()
        try:
            result = call_with_limit(lambda: self.platform.connectors.call(operator, params), limit)
            error = None
        except Exception as exc:  # connector failures (a timeout too) become retries or incidents
            result, error = None, exc
            if isinstance(exc, OperationTimedOut) or _is_job_timeout(exc):
                from connectors.base import ConnectorError

                error = ConnectorError(f"timed out: the call ran past its limit of {limit:g} s",
                                       retryable=True, params=params)
        elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        for attempt in range(MAX_WRITE_ATTEMPTS):
            try:
                with self.db.session() as s:
                    entry = s.get(OutboxEntry, entry_id)
                    if entry is None or entry.done_at is not None:
                        return "already-done"
                    inst = s.get(ProcessInstance, instance_id)
                    if inst is None or inst.status not in ACTIVE_STATUSES:
                        entry.done_at = utcnow()
                        return "instance-not-active"
                    wf = self.runner.load(inst)
                    task = wf.get_task_from_id(UUID(task_id))
                    if task is None or task.state != TaskState.STARTED:
                        entry.done_at = utcnow()
                        return "stale"
                    model = self.runner.model_for(s, inst.definition_id)
                    entry.attempts += 1
                    entry.done_at = utcnow()
                    if error is None:
                        ready_before = self.runner.ready_task_ids(wf)
                        task.data[task.task_spec.result_variable] = result
                        task.complete()
                        outcome = self.runner.advance(s, inst, wf, model, ready_before=ready_before)
                        audit.append(s, actor="worker", kind="service_task", instance_id=inst.id, task_id=task_id,
                                     data={"operator": operator, "attempt": payload.get("attempt", 1),
                                           "elapsed_ms": elapsed_ms, "status": outcome.status})
                        return "completed"
                    return self._on_failure(s, inst, wf, model, task, entry, operator, params, error,
                                            retries, backoff, payload.get("attempt", 1))
            except StaleDataError:
                time.sleep(0.005 * (attempt + 1))
        raise RuntimeError(f"instance {instance_id} kept changing; job will be re-run by the relay")

    def _prepare_call(self, instance_id: int, task_id: str):
        with self.db.session(write=False) as s:
            inst = s.get(ProcessInstance, instance_id)
            if inst is None or inst.status not in ACTIVE_STATUSES:
                return None
            wf = self.runner.load(inst)
            task = wf.get_task_from_id(UUID(task_id))
            if task is None or task.state != TaskState.STARTED:
                return None
            spec = task.task_spec
            params = {name: p["value"] for name, p in spec.evaluate_params(task).items()}
            return spec.operation_name, params, spec.retries or 0, spec.retry_backoff_base or DEFAULT_BACKOFF_SECONDS

    def _on_failure(self, s, inst, wf, model, task, entry, operator, params, error, retries, backoff, attempt):
        retryable = getattr(error, "retryable", True)
        message = getattr(error, "message", None) or str(error) or type(error).__name__
        if retryable and attempt <= retries:
            delay = backoff * (2 ** (attempt - 1))
            task.internal_data["anjian_attempt"] = attempt + 1
            task.internal_data.pop("anjian_queued", None)
            outcome = self.runner.advance(s, inst, wf, model)
            for new in outcome.outbox:
                if new.kind == "service_task":
                    new.available_at = utcnow() + timedelta(seconds=delay)
            audit.append(s, actor="worker", kind="service_task_retry", instance_id=inst.id, task_id=str(task.id),
                         data={"operator": operator, "attempt": attempt, "next_in_s": delay, "error": message})
            return "retry-scheduled"
        incident = Incident(instance_id=inst.id, task_id=str(task.id), kind="service_task",
                            message=f"{operator} failed after {attempt} attempt(s): {message}",
                            details={"operator": operator, "params": json_data(params), "error": message,
                                     "retryable": retryable, "attempts": attempt,
                                     "bpmn_id": task.task_spec.bpmn_id})
        s.add(incident)
        self.runner.save(inst, wf, "error", error=incident.message)
        audit.append(s, actor="worker", kind="incident", instance_id=inst.id, task_id=str(task.id),
                     data={"kind": "service_task", "message": incident.message})
        return "incident"

    # ------------------------------------------------------------------ timers

    def _timer(self, entry_id: int, payload: dict) -> str:
        for attempt in range(MAX_WRITE_ATTEMPTS):
            try:
                with self.db.session() as s:
                    if _mark_done(s, entry_id) is None:
                        return "already-done"
                    inst = s.get(ProcessInstance, payload["instance_id"])
                    fired = self.platform.instances.fire_timer_in(s, inst, utcnow())
                    return "not-due" if fired is None else "fired"
            except StaleDataError:
                time.sleep(0.005 * (attempt + 1))
        raise RuntimeError("instance kept changing; the timer entry will be re-run by the relay")

    def run_timer_batch(self, entry_ids: list[int]) -> dict:
        """Fire a batch of due timers in ONE transaction (a savepoint each); returns ``{entry id: outcome}``.

        A burst of due timers is mostly commits: one durable commit (an fsync) per
        timer made 200 timers take 1.8–3.6 s on two workers of this machine. Each
        timer still runs in its own savepoint, so one that fails (an instance changed
        meanwhile, a broken diagram) is rolled back alone and then run on its own
        with the usual retries; an entry that is not a timer is run on its own too.
        """
        out: dict[int, str] = {}
        alone: list[int] = []
        if self.db.is_sqlite:  # one writer at a time anyway, and pysqlite's savepoints need care: one by one
            alone = list(entry_ids)
            entry_ids = []
        try:
            with self.db.session() as s:
                for entry_id in entry_ids:
                    entry = s.get(OutboxEntry, entry_id)
                    if entry is None or entry.done_at is not None:
                        out[entry_id] = "already-done"
                        continue
                    if entry.kind != "timer":
                        alone.append(entry_id)
                        continue
                    try:
                        with s.begin_nested():
                            _mark_done(s, entry_id)
                            inst = s.get(ProcessInstance, entry.payload["instance_id"])
                            fired = self.platform.instances.fire_timer_in(s, inst, utcnow())
                        out[entry_id] = "not-due" if fired is None else "fired"
                    except Exception:  # noqa: BLE001 - rolled back to the savepoint; retried alone below
                        log.info("timer entry %s failed in its batch; running it alone", entry_id, exc_info=True)
                        out.pop(entry_id, None)
                        alone.append(entry_id)
        except Exception:  # noqa: BLE001 - the commit itself failed: nothing of the batch is stored
            log.warning("timer batch %s could not be committed; running its entries one by one", entry_ids,
                        exc_info=True)
            out, alone = {}, list(entry_ids)
        for entry_id in alone:
            try:
                out[entry_id] = self.run_entry(entry_id)
            except Exception as exc:  # noqa: BLE001 - stays not done: the relay re-sends it after the lease
                log.exception("outbox entry %s failed; it will be re-sent after the lease", entry_id)
                out[entry_id] = f"failed: {exc.__class__.__name__}"
        return out

    # ------------------------------------------------------------------ messages

    def _message(self, entry_id: int, payload: dict) -> str:
        try:
            self.platform.messages.deliver(SYSTEM, payload["name"], correlation=payload.get("correlation"),
                                           payload=payload.get("payload"),
                                           message_id=f"outbox-{entry_id}")
            outcome = "delivered"
        except NotFound as exc:
            outcome = "nobody-waiting"
            log.info("thrown message %s reached nobody: %s", payload.get("name"), exc.detail)
        self._finish(entry_id)
        return outcome

    # ------------------------------------------------------------------ alarm-driven starts

    def _alert_process(self, entry_id: int, payload: dict) -> str:
        """Start an alert's response process or tell it of an escalation (deferred by `anjian ingest`).

        The message deliveries never raise (the outcome is recorded on the alert); the start is
        idempotent (message id ``alert-<id>``), so a job run twice starts one instance.
        """
        self.platform.iot.alerts.run_deferred(payload["action"], payload["alert"])
        self._finish(entry_id)
        return payload["action"]

    # ------------------------------------------------------------------ scheduled hub jobs

    def _scheduled(self, entry_id: int, payload: dict) -> str:
        """MES sync or one nightly analysis (worker/schedule.py); the outcome is recorded in the audit chain.

        An unreachable MES or a refused request ends the entry with its error
        (the next slot tries again: the sync re-reads its window); anything
        else propagates, so the relay re-sends the job after the lease.
        """
        from connectors.base import ConnectorError
        from engine.errors import AnjianError
        from worker.schedule import run_scheduled

        started = time.perf_counter()
        try:
            summary = run_scheduled(self.platform, payload)
            error = None
        except (ConnectorError, AnjianError, ValueError) as exc:
            summary, error = None, getattr(exc, "message", None) or getattr(exc, "detail", None) or str(exc)
            if payload.get("job") == "mes_sync":
                from engine.hub.mes_sync import explain_failure

                log.warning("%s", explain_failure(self.platform, exc,
                                                  interval_seconds=float(payload.get("interval_seconds") or 0)))
            else:
                log.warning("scheduled job %s failed: %s", payload.get("job"), error)
        elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        with self.db.session() as s:
            if _mark_done(s, entry_id, error[:2000] if error else None) is None:
                return "already-done"
            audit.append(s, actor="scheduler", kind="scheduled_job" if error is None else "scheduled_job_failed",
                         data=json_data({"job": payload.get("job"), "slot": payload.get("slot"),
                                         "analysis": payload.get("analysis"), "period": payload.get("period"),
                                         "elapsed_ms": elapsed_ms, "result": summary, "error": error}))
        return "done" if error is None else "failed"

    def _finish(self, entry_id: int, error: str | None = None) -> None:
        with self.db.session() as s:
            _mark_done(s, entry_id, error)


class OperationTimedOut(TimeoutError):
    """A connector call ran past its operation's time limit (retryable, like every timeout)."""


def _is_job_timeout(exc: BaseException) -> bool:
    return any(c.__name__ == "JobTimeoutException" for c in type(exc).__mro__)


def call_with_limit(fn, seconds: float):
    """Run ``fn()``; raise :class:`OperationTimedOut` if it has not returned after ``seconds``.

    On the main thread (an RQ worker) a SIGALRM interrupts the call where it
    blocks (socket read, sleep), the way RQ's own job timeout does; RQ's alarm,
    set for the whole job, is put back afterwards with the time it had left. On
    any other thread (the embedded runner) the call runs on a helper thread that
    is abandoned at the limit: Python cannot stop a thread, so the late call may
    still finish in the background, but its result is ignored and the task is
    retried or becomes an incident as for any timeout.
    """
    if seconds is None or seconds <= 0:
        return fn()
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
        with _alarm(seconds):
            return fn()
    box: dict = {}

    def run():
        try:
            box["result"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            box["error"] = exc
    helper = threading.Thread(target=run, name="anjian-connector-call", daemon=True)
    helper.start()
    helper.join(seconds)
    if helper.is_alive():
        log.warning("connector call still running after its limit of %g s; abandoned", seconds)
        raise OperationTimedOut(f"the call ran past its limit of {seconds:g} s")
    if "error" in box:
        raise box["error"]
    return box.get("result")


@contextmanager
def _alarm(seconds: float):
    deadline = time.monotonic() + seconds

    def on_alarm(signum, frame):
        if time.monotonic() >= deadline - 0.005:
            raise OperationTimedOut(f"the call ran past its limit of {seconds:g} s")
        if callable(previous):  # the outer (RQ) deadline came first
            previous(signum, frame)

    previous = signal.signal(signal.SIGALRM, on_alarm)
    outer, _ = signal.setitimer(signal.ITIMER_REAL, seconds)
    if outer and outer < seconds:
        signal.setitimer(signal.ITIMER_REAL, outer)
    started = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - started), 0.001))


def _mark_done(s, entry_id: int, error: str | None = None) -> OutboxEntry | None:
    """Mark an outbox entry done in the caller's transaction; None if it is gone or already done."""
    entry = s.get(OutboxEntry, entry_id)
    if entry is None or entry.done_at is not None:
        return None
    entry.done_at = utcnow()
    entry.attempts += 1
    entry.last_error = error
    return entry




# ---------------------------------------------------------------------- RQ entry point

_PLATFORM = None
_PLATFORM_PID = None


def worker_platform(settings=None):
    """The Platform of this worker process, built from ``settings`` (default: the environment) on first use.

    RQ's forking ``Worker`` runs each job in a forked child: a Platform
    inherited from the parent must not reuse the parent's pooled database
    connections (two processes on one socket corrupt both sessions), so a
    child drops them without closing and opens its own.
    """
    global _PLATFORM, _PLATFORM_PID
    import os

    if _PLATFORM is None:
        from engine.config import Settings
        from engine.platform import Platform

        _PLATFORM = Platform(settings or Settings.from_env())
        _PLATFORM_PID = os.getpid()
    elif _PLATFORM_PID != os.getpid():
        for engine in {_PLATFORM.db.write_engine, _PLATFORM.db.read_engine}:
            engine.dispose(close=False)
        _PLATFORM_PID = os.getpid()
    return _PLATFORM


_worker_platform = worker_platform  # the name used before worker_platform became public


def run_outbox_entry(entry_id: int) -> str:
    """RQ job: run outbox entry ``entry_id`` with this worker's Platform."""
    return JobRunner(worker_platform()).run_entry(entry_id)


def run_outbox_entries(entry_ids: list[int]) -> dict:
    """RQ job: fire a batch of due timers in one transaction (:meth:`JobRunner.run_timer_batch`).

    An entry that fails even alone stays not done and the relay re-sends it after
    the lease. Returns ``{entry id: outcome}``.
    """
    return JobRunner(worker_platform()).run_timer_batch(list(entry_ids))
