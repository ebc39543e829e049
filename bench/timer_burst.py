"""A burst of timers due at once while every normal-queue worker is busy on a long connector call.

Set-up (all real: PostgreSQL, a private redis-server, ``anjian`` processes):
  * ``--workers`` general workers (``anjian worker``: queues high, normal, low) and
    ``--urgent-workers`` dedicated urgent workers (``anjian worker --queues high``);
  * one ``anjian scheduler``;
  * one connector call of ``--call-seconds`` (30 s) per general worker, plus as many
    again waiting in the normal queue: every normal-queue worker is busy, and stays
    busy for the whole burst;
  * then ``--timers`` (200) instances each waiting on a timer, all due at the same instant.

Lateness of a timer = the time on its ``timer`` audit event (the instance has moved
past the timer; the event is written in the transaction of its batch of up to 10
timers, which commits a few tens of ms later) minus its due time; the job's own
``lateness_ms`` (when its fire began) is printed too. Target: p99 < 2 s.

    .venv/bin/python bench/timer_burst.py [--timers 200] [--workers 2] [--urgent-workers 2] [--call-seconds 30]
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

from sqlalchemy import select  # noqa: E402

from bench._stack import WHO, Stack, pct, running_stack  # noqa: E402
from engine.bpmn_builder import ProcessBuilder  # noqa: E402
from engine.models import AuditEvent, OutboxEntry, utcnow  # noqa: E402
from tests.fixtures import rq_harness as H  # noqa: E402


def busy_process() -> str:
    b = ProcessBuilder("bench_busy", "慢连接器调用 (bench)")
    b.lane("production")
    b.start(variables=["n", "sleep_s"]).service("call", "调用", "rq_probe/echo",
                                                {"value": "'busy-' + str(n)", "sleep_s": "sleep_s"},
                                                result_variable="reply")
    b.end()
    b.chain("start", "call", "end")
    return b.to_xml()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--timers", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2, help="general workers (all queues), all kept busy")
    ap.add_argument("--urgent-workers", type=int, default=2, help="`anjian worker --queues high` processes")
    ap.add_argument("--call-seconds", type=float, default=30.0)
    args = ap.parse_args()
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}; {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f} at start; {args.timers} timers due at once; {args.workers} general workers "
          f"busy on {args.call_seconds:g} s calls; {args.urgent_workers} urgent workers", flush=True)
    with running_stack("anjian-bench-burst-", "anjian_bench_burst") as bench:
        run(bench, args)
    print(f"load average {os.getloadavg()[0]:.1f} at end")


def run(bench: Stack, args) -> None:
    bench.setup.deployments.deploy({"bench_busy.bpmn": busy_process().encode()}, "bench")
    bench.reset()
    env = bench.env()
    logs = bench.workdir / "logs"
    for i in range(args.workers):
        bench.procs.append(H.AnjianProcess(["worker", "--name", f"general-{i}"], env, logs / f"general-{i}.log"))
    H.wait_for_rq_workers(bench.redis.url, args.workers, timeout=120)
    for i in range(args.urgent_workers):
        bench.procs.append(H.AnjianProcess(["worker", "--name", f"urgent-{i}", "--queues", "high"], env,
                                           logs / f"urgent-{i}.log"))
    bench.procs.append(H.AnjianProcess(["scheduler"], env, logs / "scheduler.log"))
    from rq import Worker

    H.wait_for(lambda: len(Worker.all(connection=bench.redis.client())) >= args.workers + args.urgent_workers,
               120, 0.2, what="all workers registered")

    # Every general worker takes a long call; as many again wait behind them in the normal queue.
    for i in range(2 * args.workers):
        bench.setup.instances.start(WHO, "bench_busy", variables={"n": i, "sleep_s": args.call_seconds})
    bench.prod.dispatcher.relay_once()
    H.wait_for(lambda: sum(1 for c in H.read_calls(bench.calls) if c[0] == "start") >= args.workers, 60, 0.1,
               what="every general worker busy")
    busy_since = time.time()

    # The burst: estimate the creation time so that every instance exists before the common due time.
    t = time.perf_counter()
    far = (utcnow() + timedelta(days=1)).isoformat()
    ids = [bench.setup.instances.start(WHO, "bench_timer", variables={"due_at": far})["id"] for _ in range(10)]
    per = (time.perf_counter() - t) / 10
    due = utcnow() + timedelta(seconds=per * args.timers * 1.5 + 3)
    for _ in range(args.timers):
        ids.append(bench.setup.instances.start(WHO, "bench_timer", variables={"due_at": due.isoformat()})["id"])
    ids = ids[10:]
    with bench.setup.db.session() as s:  # the 10 probes must not fire: end them
        from sqlalchemy import update

        from engine.models import ProcessInstance
        s.execute(update(ProcessInstance).where(ProcessInstance.process_key == "bench_timer",
                                                ProcessInstance.id.not_in(ids)).values(status="terminated",
                                                                                       next_timer_at=None))
    if utcnow() > due:
        print(f"  warning: set-up overran the due time by {(utcnow() - due).total_seconds():.1f} s")
    deadline = time.monotonic() + (due - utcnow()).total_seconds() + 300
    while bench.count("completed", "bench_timer") < args.timers:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {bench.count('completed', 'bench_timer')} of {args.timers} timers fired")
        time.sleep(0.2)
    with bench.setup.db.session(write=False) as s:
        rows = s.execute(select(AuditEvent.at, AuditEvent.data).where(AuditEvent.kind == "timer",
                                                                      AuditEvent.instance_id.in_(ids))).all()
        outbox = s.execute(select(OutboxEntry.created_at, OutboxEntry.sent_at).where(OutboxEntry.kind == "timer")).all()
    seen = sorted((c - due).total_seconds() * 1000 for c, _ in outbox)
    sent = sorted((x - due).total_seconds() * 1000 for _, x in outbox if x is not None)
    committed = sorted((at - due).total_seconds() * 1000 for at, _ in rows)
    began = sorted(d["lateness_ms"] for _, d in rows)
    last_fired = due + timedelta(milliseconds=committed[-1])
    # Busy throughout: the last timer fired before the first calls could have ended (or hit their limit).
    first_starts = sorted(c[3] for c in H.read_calls(bench.calls) if c[0] == "start")[:args.workers]
    ends = [] if last_fired.timestamp() < min(first_starts) + args.call_seconds else ["a call ended"]
    print(f"timers fired: {len(rows)} of {args.timers}")
    print(f"lateness, timer fired (audit event): p50 {pct(committed, 50):.0f} ms, p95 {pct(committed, 95):.0f} ms, "
          f"p99 {pct(committed, 99):.0f} ms, max {committed[-1]:.0f} ms")
    print(f"scheduler: timer entries written {seen[0]:.0f}–{seen[-1]:.0f} ms after the due time, "
          f"queued {sent[0]:.0f}–{sent[-1]:.0f} ms after it")
    print(f"lateness, timer fire began: p50 {pct(began, 50)} ms, p99 {pct(began, 99)} ms, max {began[-1]} ms")
    print(f"general workers busy on their calls throughout the burst: {'yes' if not ends else 'NO'} "
          f"(busy since {due.timestamp() - busy_since:.1f} s before the due time)")
    print(f"target p99 < 2000 ms: {'met' if pct(committed, 99) < 2000 else 'NOT met'}")


if __name__ == "__main__":
    main()
