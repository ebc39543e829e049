"""Prometheus metrics of the API process."""
from __future__ import annotations

import time

from flask import g, request
from prometheus_client import CollectorRegistry, Gauge, Histogram
from sqlalchemy import func, select

REGISTRY = CollectorRegistry()
REQUEST_LATENCY = Histogram("anjian_http_request_seconds", "HTTP request latency", ["method", "endpoint", "status"],
                            registry=REGISTRY, buckets=(.002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5))
TIMERS_DUE = Gauge("anjian_timers_due", "instances whose next timer is due now", registry=REGISTRY)
TIMERS_OVERDUE = Gauge("anjian_timers_overdue", "instances whose timer is more than 2 s overdue", registry=REGISTRY)
OPEN_INCIDENTS = Gauge("anjian_open_incidents", "open incidents", registry=REGISTRY)


def before() -> None:
    g._t0 = time.perf_counter()


def after(response):
    t0 = getattr(g, "_t0", None)
    if t0 is not None:
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        REQUEST_LATENCY.labels(request.method, endpoint, str(response.status_code)).observe(time.perf_counter() - t0)
    return response


def refresh_gauges(platform) -> None:
    from datetime import timedelta

    from engine.models import Incident, ProcessInstance, utcnow

    now = utcnow()
    with platform.db.session(write=False) as s:
        TIMERS_DUE.set(s.scalar(select(func.count()).select_from(ProcessInstance)
                                .where(ProcessInstance.next_timer_at <= now)) or 0)
        TIMERS_OVERDUE.set(s.scalar(select(func.count()).select_from(ProcessInstance)
                                    .where(ProcessInstance.next_timer_at <= now - timedelta(seconds=2))) or 0)
        OPEN_INCIDENTS.set(s.scalar(select(func.count()).select_from(Incident)
                                    .where(Incident.status == "open")) or 0)
