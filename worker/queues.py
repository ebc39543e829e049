"""Urgency classes: which queue a job goes to, and how long a connector call may run.

Three RQ queues, taken in this order by every worker that listens to more than one
(RQ pops the first non-empty queue of its list):

| urgency | queue | what |
|---|---|---|
| ``high`` | ``anjian-high`` | due timers, thrown messages (``stop_work``, ``gas_alarm``), alarm-driven starts |
| ``normal`` | ``anjian`` | connector calls (service tasks) |
| ``low`` | ``anjian-low`` | operations declared ``long_running``, scheduled hub jobs (MES sync, analyses) |

A worker busy with a call finishes it first (a job is never pre-empted), so an
operator who cannot let a due timer wait for the longest call runs dedicated urgent
workers too: ``anjian worker --queues high``. The embedded runner of ``anjian serve``
runs its entries in the same order.
"""
from __future__ import annotations

import math

URGENCIES = ("high", "normal", "low")
QUEUE_HIGH = "anjian-high"
QUEUE_NORMAL = "anjian"  # the name of the single queue before urgency classes: old jobs still run
QUEUE_LOW = "anjian-low"
QUEUE_BY_URGENCY = {"high": QUEUE_HIGH, "normal": QUEUE_NORMAL, "low": QUEUE_LOW}
#: Outbox kinds that never wait behind connector calls (``alert_process``: an alarm-driven start).
URGENT_KINDS = ("timer", "message", "alert_process")
#: Seconds a service-task job may run beyond its call's limit (loading and saving the instance).
JOB_GRACE_SECONDS = 10


def urgency_of(kind: str, payload: dict | None, connectors=None) -> str:
    """The urgency class of an outbox entry (``high``, ``normal`` or ``low``)."""
    if kind in URGENT_KINDS:
        return "high"
    if kind == "scheduled":
        return "low"
    if kind == "service_task":
        op = _operation(connectors, (payload or {}).get("operator"))
        return "low" if op is not None and op.long_running else "normal"
    return "normal"


def rank(urgency: str) -> int:
    """0 for ``high``, 1 for ``normal``, 2 for ``low`` (sort key)."""
    return URGENCIES.index(urgency) if urgency in URGENCIES else 1


def parse_queues(text: str | None) -> list[str]:
    """``"high,normal"`` → the RQ queue names in priority order (whatever order they were written in).

    Empty or None: every queue. Raises ValueError naming an unknown class.
    """
    if not text or not text.strip():
        return [QUEUE_BY_URGENCY[u] for u in URGENCIES]
    wanted = []
    for part in text.split(","):
        u = part.strip().lower()
        if not u:
            continue
        if u not in QUEUE_BY_URGENCY:
            raise ValueError(f"unknown queue {part.strip()!r}: use high, normal, low (comma-separated)")
        wanted.append(u)
    return [QUEUE_BY_URGENCY[u] for u in URGENCIES if u in wanted]


def call_limit(connectors, operator: str | None, settings) -> float:
    """Seconds one call of ``operator`` may run.

    The operation's declared ``timeout``; else ``ANJIAN_OPERATION_TIMEOUT_SECONDS``
    (30 s), kept 5 s under the job lease so that an undeclared call is stopped
    before the relay would consider its job lost.
    """
    op = _operation(connectors, operator)
    if op is not None and getattr(op, "timeout", None):
        return float(op.timeout)
    lease = float(getattr(settings, "job_lease_seconds", 60.0))
    default = float(getattr(settings, "operation_timeout_seconds", 30.0))
    return max(1.0, min(default, lease - 5))


def job_timeout_for(kind: str, payload: dict | None, connectors, settings, default: int) -> int:
    """The RQ job timeout of an entry: the call's limit plus grace for service tasks, else ``default``.

    (Scheduled hub jobs keep ``default``, below the lease: worker/schedule.py splits them so that each fits.)
    """
    if kind == "service_task":
        return int(math.ceil(call_limit(connectors, (payload or {}).get("operator"), settings))) + JOB_GRACE_SECONDS
    return default


def _operation(connectors, operator):
    if connectors is None or not operator:
        return None
    try:
        return connectors.operation(operator)
    except Exception:  # noqa: BLE001 - an unknown or broken connector: the job reports it when it runs
        return None
