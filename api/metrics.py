"""Prometheus metrics of the API process."""
from __future__ import annotations

import logging
import time

from flask import g, request
from prometheus_client import CollectorRegistry, Gauge, Histogram
from sqlalchemy import func, select

ACCESS_LOG = logging.getLogger("anjian.access")
REGISTRY = CollectorRegistry()
REQUEST_LATENCY = Histogram("anjian_http_request_seconds", "HTTP request latency", ["method", "endpoint", "status"],
                            registry=REGISTRY, buckets=(.002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5))
TIMERS_DUE = Gauge("anjian_timers_due", "instances whose next timer is due now", registry=REGISTRY)
TIMERS_OVERDUE = Gauge("anjian_timers_overdue", "instances whose timer is more than 2 s overdue", registry=REGISTRY)
OPEN_INCIDENTS = Gauge("anjian_open_incidents", "open incidents", registry=REGISTRY)
OUTBOX_PENDING = Gauge("anjian_outbox_pending", "outbox entries not done (jobs waiting or running)",
                       registry=REGISTRY)
JOBS_FAILED = Gauge("anjian_jobs_failed", "outbox entries that ended with an error", registry=REGISTRY)
QUEUE_DEPTH = Gauge("anjian_queue_depth", "jobs waiting in the RQ queues (production mode)", registry=REGISTRY)
QUEUE_DEPTH_BY_URGENCY = Gauge("anjian_queue_depth_by_urgency",
                               "jobs waiting per urgency queue: high (timers, messages), normal (calls), low",
                               ["urgency"], registry=REGISTRY)


def before() -> None:
    g._t0 = time.perf_counter()


def after(response):
    t0 = getattr(g, "_t0", None)
    if t0 is not None:
        elapsed = time.perf_counter() - t0
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        REQUEST_LATENCY.labels(request.method, endpoint, str(response.status_code)).observe(elapsed)
        principal = g.get("principal")
        view_args = request.view_args or {}
        ACCESS_LOG.info("request", extra={
            "method": request.method, "path": request.path, "endpoint": endpoint,
            "status": response.status_code, "duration_ms": round(elapsed * 1000, 2),
            "user": principal.username if principal else None,
            "instance_id": view_args.get("instance_id"), "task_id": view_args.get("task_id"),
        })
    return response


def refresh_gauges(platform) -> None:
    from datetime import timedelta

    from engine.models import Incident, OutboxEntry, ProcessInstance, utcnow

    now = utcnow()
    with platform.db.session(write=False) as s:
        TIMERS_DUE.set(s.scalar(select(func.count()).select_from(ProcessInstance)
                                .where(ProcessInstance.next_timer_at <= now)) or 0)
        TIMERS_OVERDUE.set(s.scalar(select(func.count()).select_from(ProcessInstance)
                                    .where(ProcessInstance.next_timer_at <= now - timedelta(seconds=2))) or 0)
        OPEN_INCIDENTS.set(s.scalar(select(func.count()).select_from(Incident)
                                    .where(Incident.status == "open")) or 0)
        OUTBOX_PENDING.set(s.scalar(select(func.count()).select_from(OutboxEntry)
                                    .where(OutboxEntry.done_at.is_(None))) or 0)
        JOBS_FAILED.set(s.scalar(select(func.count()).select_from(OutboxEntry)
                                 .where(OutboxEntry.last_error.is_not(None))) or 0)
    queue = getattr(platform.dispatcher, "queue", None)
    if queue is not None:
        try:
            depths = {u: len(queue(u)) for u in ("high", "normal", "low")}
            for urgency, depth in depths.items():
                QUEUE_DEPTH_BY_URGENCY.labels(urgency).set(depth)
            QUEUE_DEPTH.set(sum(depths.values()))
        except Exception:  # Redis down: report what the database knows, not an error page
            QUEUE_DEPTH.set(float("nan"))
