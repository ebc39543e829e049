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

Run it with ``run_worker()`` (what ``anjian worker`` should call) or
``python -m worker.rq_worker [--burst] [--name NAME]``.
"""
from __future__ import annotations

import argparse

from rq import Queue, SimpleWorker

from worker.dispatch import QUEUE_NAME


class AnjianWorker(SimpleWorker):
    """SimpleWorker (no fork per job); the Platform is built before the first job."""


def run_worker(settings, *, burst: bool = False, name: str | None = None, logging_level: str = "INFO") -> bool:
    """Serve the anjian queue until stopped (or until empty with ``burst``)."""
    from redis import Redis

    from worker.jobs import worker_platform

    if not settings.redis_url:
        raise ValueError("REDIS_URL is not set: embedded mode runs jobs inside `anjian serve`")
    worker_platform(settings)  # fail at start-up, not at the first job, if the database is unreachable
    conn = Redis.from_url(settings.redis_url, health_check_interval=30)
    w = AnjianWorker([Queue(QUEUE_NAME, connection=conn)], connection=conn, name=name)
    return w.work(burst=burst, logging_level=logging_level)


def main(argv: list[str] | None = None) -> None:
    from engine.config import Settings

    parser = argparse.ArgumentParser(prog="python -m worker.rq_worker", description=__doc__.split("\n")[0])
    parser.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    parser.add_argument("--name", default=None, help="worker name (default: host and pid)")
    args = parser.parse_args(argv)
    run_worker(Settings.from_env(), burst=args.burst, name=args.name)


if __name__ == "__main__":
    main()
