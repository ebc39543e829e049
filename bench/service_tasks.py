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
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import func, select, text  # noqa: E402

from engine.bpmn_builder import ProcessBuilder  # noqa: E402
from engine.config import Settings  # noqa: E402
from engine.models import AuditEvent, OutboxEntry, ProcessInstance, utcnow  # noqa: E402
from engine.platform import Platform  # noqa: E402
from engine.principal import Principal  # noqa: E402
from engine.sample_plant import seed_sample_plant  # noqa: E402
from tests.fixtures import rq_harness as H  # noqa: E402

WHO = Principal("prod1", frozenset({"production"}), "workshop-1")
TABLES = ["outbox", "message_deliveries", "message_subscriptions", "incidents", "tasks", "audit_events",
          "process_instances"]


def call_process() -> str:
    b = ProcessBuilder("bench_call", "一次连接器调用 (bench)")
    b.lane("production")
    b.start(variables=["n"]).service("call", "调用", "rq_probe/echo", {"value": "'v-' + str(n)"}, result_variable="reply")
    b.end()
    b.chain("start", "call", "end")
    return b.to_xml()


def timer_process() -> str:
    b = ProcessBuilder("bench_timer", "定时 (bench)")
    b.lane("production")
    b.start(variables=["due_at"]).timer_catch("wait", "等到 due_at", "date", "due_at").end()
    b.chain("start", "wait", "end")
    return b.to_xml()


class PyWorker(H.AnjianProcess):
    """``python -m worker.rq_worker`` (the non-forking worker) as a subprocess."""

    def __init__(self, args, env, log_path):
        self.args = args
        self.log_path = Path(log_path)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "worker.rq_worker", *args], env=env, cwd=str(REPO),
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                         preexec_fn=H._die_with_parent)
        self.pid = self.proc.pid


class Bench:
    def __init__(self, workdir: Path, redis: H.RedisServer, url: str, probe: Path):
        self.workdir, self.redis, self.url, self.probe = workdir, redis, url, probe
        self.calls = workdir / "calls"
        self.calls.mkdir(exist_ok=True)
        base = {"DATABASE_URL": url, "ANJIAN_DATA_DIR": str(workdir), "ANJIAN_SECRET_KEY": H.SECRET}
        # Instances are created without REDIS_URL so their outbox rows wait until the clock starts.
        self.setup = Platform(Settings.from_env(base))
        self.setup.migrate()
        seed_sample_plant(self.setup, "anjian-demo")
        self.setup.connectors.register(H.probe_module().RqProbeConnector({}))
        self.setup.deployments.deploy({"bench_call.bpmn": call_process().encode(),
                                       "bench_timer.bpmn": timer_process().encode()}, "bench")
        self.prod = Platform(Settings.from_env({**base, "REDIS_URL": redis.url}))
        self.procs: list[H.AnjianProcess] = []

    def env(self):
        return H.service_env(database_url=self.url, redis_url=self.redis.url, data_dir=self.workdir,
                             probe_path=self.probe, calls_dir=self.calls, lease_seconds=60)

    def start_workers(self, kind: str, count: int) -> None:
        for i in range(count):
            name = f"{kind}-{len(self.procs)}"
            log = self.workdir / "logs" / f"{name}.log"
            if kind == "anjian":
                self.procs.append(H.AnjianProcess(["worker", "--name", name], self.env(), log))
            else:
                self.procs.append(PyWorker(["--name", name], self.env(), log))
        H.wait_for_rq_workers(self.redis.url, count, timeout=120)

    def stop_all(self) -> None:
        for p in self.procs:
            p.stop()
        self.procs.clear()

    def reset(self) -> None:
        self.stop_all()
        self.redis.client().flushall()
        with self.setup.db.session() as s:
            s.execute(text("TRUNCATE " + ", ".join(TABLES) + " CASCADE"))
            s.execute(text("UPDATE audit_head SET seq = 0, hash = :h"), {"h": "0" * 64})

    def count(self, status: str, key: str) -> int:
        with self.setup.db.session(write=False) as s:
            return s.scalar(select(func.count()).select_from(ProcessInstance).where(
                ProcessInstance.process_key == key, ProcessInstance.status == status))

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

    def close(self):
        self.stop_all()
        self.prod.close()
        self.setup.close()


def pct(values: list, p: float):
    if not values:
        return None
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


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
    with tempfile.TemporaryDirectory(prefix="anjian-bench-svc-") as tmp:
        workdir = Path(tmp)
        redis = H.RedisServer(workdir / "redis").start()
        try:
            with H.fresh_pg_database("anjian_bench_svc") as url:
                probe = H.install_probe_connector(workdir / "probe")
                bench = Bench(workdir, redis, url, probe)
                try:
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
                finally:
                    bench.close()
        finally:
            redis.stop()
    print(f"\nload average {os.getloadavg()[0]:.1f} at end")


if __name__ == "__main__":
    main()
