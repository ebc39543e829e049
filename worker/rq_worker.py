"""The RQ worker process: every job runs in-process against one warm Platform.

RQ's default ``Worker`` forks a work horse per job. Our job function needs a
Platform (database engine, connectors, parsed models); built in each horse
that costs 1.5–2 s per job (imports, connector discovery, first database
connection), which makes a worker do about 0.5 jobs/s and makes timers fire
seconds late. :class:`AnjianWorker` is RQ's ``SimpleWorker``: jobs run in the
worker process itself, so the Platform, its connection pool and its model
cache are built once and reused. Killing the worker (SIGKILL) kills the job
with it; the outbox lease re-sends the job to another worker and the job's
``done_at`` check inside the transaction keeps the instance advancing once.

The worker listens to the urgency queues in priority order (worker/queues.py):
``anjian-high`` (timers, thrown messages), ``anjian`` (connector calls),
``anjian-low`` (long operations, scheduled jobs); ``queues="high"`` makes a
dedicated urgent worker that no slow call can occupy.

Run it with ``run_worker()`` (what ``anjian worker`` calls) or
``python -m worker.rq_worker [--burst] [--name NAME] [--queues high,normal,low]``.
"""
from __future__ import annotations

import argparse

from rq import Queue, SimpleWorker

from worker.queues import parse_queues


class AnjianWorker(SimpleWorker):
    """SimpleWorker (no fork per job); the Platform is built before the first job."""


def run_worker(settings, *, burst: bool = False, name: str | None = None, logging_level: str = "INFO",
               queues: str | None = None) -> bool:
    """Serve the urgency queues named in ``queues`` (default all; highest first) until stopped.

    With ``burst`` it stops once they are empty.
    """
    from redis import Redis

    from worker.jobs import worker_platform

    if not settings.redis_url:
        raise ValueError("REDIS_URL is not set: embedded mode runs jobs inside `anjian serve`")
    names = parse_queues(queues)  # a typo fails here, not silently as a worker of an unused queue
    platform = worker_platform(settings)  # fail at start-up, not at the first job, if the database is unreachable
    warm_models(platform)
    conn = Redis.from_url(settings.redis_url, health_check_interval=30)
    w = AnjianWorker([Queue(n, connection=conn) for n in names], connection=conn, name=name)
    return w.work(burst=burst, logging_level=logging_level)


def warm_models(platform, limit: int = 200) -> int:
    """Parse the definitions of live instances before the first job; returns how many.

    Parsing a diagram costs 50–300 ms; a worker that parses on its first timer
    job makes the first timers of a burst that much late after every restart.
    """
    import logging

    from sqlalchemy import select

    from engine.models import ProcessInstance
    from engine.runner import ACTIVE_STATUSES

    try:
        with platform.db.session(write=False) as s:
            ids = list(s.scalars(select(ProcessInstance.definition_id)
                                 .where(ProcessInstance.status.in_(ACTIVE_STATUSES)).distinct().limit(limit)))
            for definition_id in ids:
                platform.runner.model_for(s, definition_id)
        return len(ids)
    except Exception:  # noqa: BLE001 - a cold cache is slower, not wrong
        logging.getLogger(__name__).warning("warming the model cache failed", exc_info=True)
        return 0


def main(argv: list[str] | None = None) -> None:
    from engine.config import Settings

    parser = argparse.ArgumentParser(prog="python -m worker.rq_worker", description=__doc__.split("\n")[0])
    parser.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    parser.add_argument("--name", default=None, help="worker name (default: host and pid)")
    parser.add_argument("--queues", default=None, help="urgency classes to serve: high,normal,low (default all)")
    args = parser.parse_args(argv)
    run_worker(Settings.from_env(), burst=args.burst, name=args.name, queues=args.queues)


if __name__ == "__main__":
    main()
