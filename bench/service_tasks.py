"""Service tasks and timers through the production path: PostgreSQL, Redis, RQ workers.

What it measures
  1. Throughput of instances with one connector call each (start → service task
     → end) through the RQ path with 1, 2 and 4 worker processes. For each
     worker count: N instances are started (their outbox rows wait, unsent),
     the workers are started and registered, then the clock starts and the
     outbox is relayed to RQ exactly as ``anjian scheduler`` does
     (``RqDispatcher.relay_once``); the clock stops when the last instance is
     completed. Every instance's connector call is a real call of a real
     pip-installed connector (tests/rq_connector_pkg) inside the worker.
  2. Timer lateness: T instances each waiting on a timer whose due times are
     spread over one minute (``--timer-window 60``; use 0 for all due in the
     same second), fired by one ``anjian scheduler`` and W workers. Lateness
     is what each timer job recorded (audit ``timer`` event, ``lateness_ms``).

Worker kinds (``--worker-kinds``)
  anjian  ``anjian worker`` as the CLI ships it (RQ's forking Worker: one work horse per job)
  simple  ``python -m worker.rq_worker`` (RQ SimpleWorker with one warm Platform per process)

Everything runs on a fresh PostgreSQL database and a private redis-server on a
free port; both are removed at the end.

    .venv/bin/python bench/service_tasks.py [--instances 400] [--workers 1,2,4] [--timers 1000]
                                            [--timer-window 60] [--timer-workers 4] [--worker-kinds anjian,simple]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import func, select  # noqa: E402

from bench._stack import WHO, Stack, pct, running_stack  # noqa: E402
from engine.models import AuditEvent, OutboxEntry, utcnow  # noqa: E402
from tests.fixtures import rq_harness as H  # noqa: E402


class Bench(Stack):
    """The stack (bench/_stack.py) and this bench's two measurements."""

    # ------------------------------------------------------------------ throughput

    def throughput(self, kind: str, workers: int, n: int) -> dict:
        self.reset()
        for i in range(n):
            self.setup.instances.start(WHO, "bench_call", variables={"n": i})
        self.start_workers(kind, workers)
        t0 = time.perf_counter()
        while self.count("completed", "bench_call") < n:
            self.prod.dispatcher.relay_once()
            if time.perf_counter() - t0 > 900:
                raise SystemExit(f"{kind} x{workers}: not done after 900 s")
            time.sleep(0.02)
        elapsed = time.perf_counter() - t0
        with self.setup.db.session(write=False) as s:
            ran = s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.kind == "service_task"))
        assert ran == n, f"{ran} service_task events for {n} instances"
        self.stop_all()
        return {"kind": kind, "workers": workers, "n": n, "seconds": elapsed, "per_s": n / elapsed}

    # ------------------------------------------------------------------ timers

    def timers(self, kind: str, workers: int, n: int, window: float) -> dict:
        self.reset()
        # Estimate creation time so that the first timer comes due only after the last instance exists.
        t = time.perf_counter()
        probe_n = min(20, n)
        far = (utcnow() + timedelta(days=1)).isoformat()
        for _ in range(probe_n):
            self.setup.instances.start(WHO, "bench_timer", variables={"due_at": far})
        per = (time.perf_counter() - t) / probe_n
        self.reset()
        first_due = utcnow() + timedelta(seconds=per * n * 1.5 + 30)
        for i in range(n):
            due = first_due + timedelta(seconds=window * i / max(n - 1, 1))
            self.setup.instances.start(WHO, "bench_timer", variables={"due_at": due.isoformat()})
        created_by = utcnow()
        self.start_workers(kind, workers)
        self.procs.append(H.AnjianProcess(["scheduler", "--interval", "0.2"], self.env(),
                                          self.workdir / "logs" / "scheduler.log"))
        if utcnow() > first_due:
            print(f"  warning: set-up overran the first due time by {(utcnow() - first_due).total_seconds():.1f} s")
        deadline = time.monotonic() + (first_due - utcnow()).total_seconds() + window + 600
        while self.count("completed", "bench_timer") < n:
            if time.monotonic() > deadline:
                raise SystemExit("timers did not all fire")
            time.sleep(0.5)
        with self.setup.db.session(write=False) as s:
            lateness = sorted(e["lateness_ms"] for e in s.scalars(select(AuditEvent.data).where(
                AuditEvent.kind == "timer")))
            timer_entries = s.scalar(select(func.count()).select_from(OutboxEntry).where(OutboxEntry.kind == "timer"))
        assert len(lateness) == n == timer_entries, (len(lateness), n, timer_entries)
        self.stop_all()
        return {"kind": kind, "workers": workers, "n": n, "window": window,
                "p50": pct(lateness, 50), "p99": pct(lateness, 99), "max": lateness[-1],
                "within_2s": sum(1 for x in lateness if x <= 2000) / n, "slack_s": (first_due - created_by).total_seconds()}

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--instances", type=int, default=400)
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--timers", type=int, default=1000)
    ap.add_argument("--timer-window", type=float, default=60.0)
    ap.add_argument("--timer-workers", type=int, default=4)
    ap.add_argument("--worker-kinds", default="anjian,simple")
    args = ap.parse_args()
    kinds = [k for k in args.worker_kinds.split(",") if k]
    counts = [int(x) for x in args.workers.split(",") if x]

    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start; PostgreSQL "
          f"{H.PG_BASE_URL.rsplit('@', 1)[-1]}; private redis-server")
    with running_stack("anjian-bench-svc-", "anjian_bench_svc", Bench) as bench:
        print(f"\n1. one connector call per instance, {args.instances} instances, RQ path")
        print(f"   {'worker kind':12} {'workers':>7} {'seconds':>8} {'instances/s':>12}")
        for kind in kinds:
            for w in counts:
                r = bench.throughput(kind, w, args.instances)
                print(f"   {kind:12} {w:>7} {r['seconds']:>8.1f} {r['per_s']:>12.1f}", flush=True)
        if args.timers:
            print(f"\n2. {args.timers} timers due within {args.timer_window:.0f} s, one scheduler, "
                  f"{args.timer_workers} workers")
            print(f"   {'worker kind':12} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'<=2 s':>7}")
            for kind in kinds:
                r = bench.timers(kind, args.timer_workers, args.timers, args.timer_window)
                print(f"   {kind:12} {r['p50']:>8} {r['p99']:>8} {r['max']:>8} "
                      f"{r['within_2s'] * 100:>6.1f}%", flush=True)
    print(f"\nload average {os.getloadavg()[0]:.1f} at end")


if __name__ == "__main__":
    main()
