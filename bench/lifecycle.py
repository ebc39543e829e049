"""Full permit lifecycles over real HTTP against a real server, plus the bare
SpiffWorkflow baseline in the same run.

What it does
  1. creates a fresh PostgreSQL database (anjian_bench_<pid>_xxxx), runs
     ``anjian migrate`` and ``anjian seed``, starts ``anjian serve`` (gunicorn,
     --workers, gthread) on a free port;
  2. deploys tests/processes.py permit_files() as designer1 (multipart);
  3. drives N lifecycles with C client threads: start as prod1 (unique business
     key), complete apply (prod1), site_check (leader1), review (safety1,
     approved), approve (boss1), accept (safety2); each next task id is taken
     from ``next_tasks`` of the complete response (``active_tasks`` of start);
  4. runs N more lifecycles with the clients paced to --rate completions/s together
     (default 200, the issue's throughput figure), latency measured from each
     request's scheduled send time: the latency the target asks for is the one at
     that throughput; at saturation a closed loop of C clients only measures the
     queue (latency = C / throughput);
  5. measures bare SpiffWorkflow (bench/bare_spiff.py) on one core, with the
     server idle;
  6. prints throughput, latencies, CPU used per process group, and the ratio
     platform-per-core / bare-per-core; drops the database and stops the server.

    .venv/bin/python bench/lifecycle.py [--clients 8] [--lifecycles 300] [--workers 2] [--rate 200] [--keep-db]
"""
from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import (Client, CpuMeter, HttpError, PgActivitySampler, backend_pids, deploy, fmt_ms,  # noqa: E402
                      login, percentile, run_threads, running_server)
import bare_spiff  # noqa: E402

from tests.processes import permit_files  # noqa: E402

STEPS = [  # (bpmn_id, user, data)
    ("apply", "prod1", {"content": "动火作业 (bench)", "workers": 2}),
    ("site_check", "leader1", {}),
    ("review", "safety1", {"approved": True}),
    ("approve", "boss1", {}),
    ("accept", "safety2", {}),
]
USERS = sorted({"prod1", "designer1", *(u for _, u, _ in STEPS)})


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.start_lat: list[float] = []
        self.complete_lat: list[float] = []
        self.per_step: dict[str, list[float]] = {s: [] for s, _, _ in STEPS}
        self.errors: list[str] = []
        self.lifecycles = 0


class Pacer:
    """One client's send schedule at a fixed request rate (wrk2-style constant throughput).

    ``next()`` sleeps until the client's next slot and returns the slot's time. Latency is
    then measured from the slot, not from the actual send: a request the client could only
    send late (because the previous answer was slow) counts its waiting time too, so a
    slow server cannot hide its queue by slowing the clients down (coordinated omission).
    """

    def __init__(self, t0: float, interval: float):
        self.slot = t0
        self.interval = interval

    def next(self) -> float:
        slot = self.slot
        self.slot += self.interval
        delay = slot - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        return slot


def run_lifecycle(client: Client, tokens: dict, key: str, business_key: str, stats: Stats | None,
                  pacer: Pacer | None = None) -> None:
    t0 = pacer.next() if pacer else time.perf_counter()
    inst = client.call("POST", "/api/v1/process-instances",
                       {"process_key": key, "business_key": business_key}, tokens["prod1"])
    t1 = time.perf_counter()
    start_lat = t1 - t0
    tasks = inst["active_tasks"]
    lat = []
    for bpmn_id, user, data in STEPS:
        task = next((t for t in tasks if t["bpmn_id"] == bpmn_id), None)
        if task is None:  # fall back to the task list (should not happen for this process)
            found = client.call("GET", f"/api/v1/tasks?instance_id={inst['id']}&state=ready", token=tokens[user])
            task = next(t for t in found["items"] if t["bpmn_id"] == bpmn_id)
        t0 = pacer.next() if pacer else time.perf_counter()
        r = client.call("POST", f"/api/v1/tasks/{task['id']}/complete", {"data": data}, tokens[user])
        lat.append((bpmn_id, time.perf_counter() - t0))
        tasks = r["next_tasks"]
    if r["instance"]["status"] != "completed":
        raise AssertionError(f"instance {inst['id']} ended as {r['instance']['status']}")
    if stats is not None:
        with stats.lock:
            stats.start_lat.append(start_lat)
            for bpmn_id, v in lat:
                stats.complete_lat.append(v)
                stats.per_step[bpmn_id].append(v)
            stats.lifecycles += 1


def drive(port: int, tokens: dict, key: str, clients: int, lifecycles: int, tag: str,
          stats: Stats | None, rate: float = 0) -> float:
    """Run ``lifecycles`` lifecycles on ``clients`` threads; returns wall seconds.

    ``rate`` > 0 paces the clients to that many task completions per second together
    (starts are sent at the same pace: 6 requests per 5 completions); 0 = as fast as
    the server answers.
    """
    counter = iter(range(lifecycles))
    counter_lock = threading.Lock()
    errors = stats.errors if stats else []
    begin = time.perf_counter() + 0.05
    interval = clients / (rate * (1 + len(STEPS)) / len(STEPS)) if rate > 0 else 0.0

    def worker(n: int):
        client = Client(port)
        pacer = Pacer(begin + n * interval / clients, interval) if rate > 0 else None
        try:
            while True:
                with counter_lock:
                    i = next(counter, None)
                if i is None:
                    return
                try:
                    run_lifecycle(client, tokens, key, f"{tag}-{os.getpid()}-{i}", stats, pacer)
                except (HttpError, AssertionError, OSError) as exc:
                    errors.append(f"{type(exc).__name__}: {exc}")
                    client.close()
                    client = Client(port)
        finally:
            client.close()

    return run_threads(worker, clients)


def _log_stats(path):
    """(lines, bytes, Counter of JSON 'logger' names) of the server log so far."""
    import json
    from collections import Counter

    loggers = Counter()
    lines = 0
    try:
        data = Path(path).read_bytes()
    except OSError:
        return 0, 0, loggers
    for line in data.splitlines():
        lines += 1
        try:
            loggers[json.loads(line).get("logger", "?")] += 1
        except (ValueError, AttributeError):
            loggers["(not JSON)"] += 1
    return lines, len(data), loggers


def start_py_spy(master_pid: int, out: str):
    import subprocess

    spy_bin = Path(sys.executable).parent / "py-spy"
    if not spy_bin.exists():
        raise SystemExit("py-spy not installed: .venv/bin/pip install py-spy")
    proc = subprocess.Popen([str(spy_bin), "record", "--pid", str(master_pid), "--subprocesses", "--nonblocking", "--gil",
                             "--rate", "250", "--format", "raw", "--output", out],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.5)  # let it attach to every worker
    return proc


def stop_py_spy(proc) -> None:
    import signal

    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except Exception:  # noqa: BLE001
        proc.kill()
        proc.wait()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--lifecycles", type=int, default=300)
    ap.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    ap.add_argument("--threads", type=int, default=None, help="gunicorn threads per worker (server default 8)")
    ap.add_argument("--warmup", type=int, default=None, help="unmeasured lifecycles first (default 2 x clients)")
    ap.add_argument("--rate", type=float, default=200,
                    help="second phase: clients paced to this many task completions/s together, latency "
                    "measured from each request's scheduled time (0 = skip; default 200, the issue's figure)")
    ap.add_argument("--bare-lifecycles", type=int, default=300)
    ap.add_argument("--keep-db", action="store_true", help="leave the database for inspection")
    ap.add_argument("--what-if", dest="whatif", metavar="PATCHES",
                    help="serve through bench/_whatif_server.py with runtime patches, e.g. "
                    "'quiet-spiff-logs,no-audit-lock' (estimates only; no-audit-lock breaks the hash chain)")
    ap.add_argument("--profile", metavar="FILE", help="py-spy the gunicorn workers during the measured phase and "
                    "write collapsed stacks to FILE (figures of a profiled run are not representative)")
    args = ap.parse_args(argv)
    warmup = args.warmup if args.warmup is not None else 2 * args.clients
    ncpu = os.cpu_count() or 1

    with running_server(workers=args.workers, threads=args.threads, keep_db=args.keep_db,
                        whatif=args.whatif) as srv:
        if args.whatif:
            print(f"WHAT-IF RUN, server patched at runtime with: {args.whatif} (not the real engine)")
        admin = Client(srv.port)
        tokens = {u: login(admin, u) for u in USERS}
        dep = deploy(admin, tokens["designer1"], permit_files("permit"))
        key = dep["processes"][0]["key"]
        print("load average before: %.2f %.2f %.2f (2-core machine shared with other work)" % os.getloadavg())
        print(f"server: gunicorn {args.workers} workers x {args.threads or 8} threads on :{srv.port}, "
              f"database {srv.dbname}; deployed {key} v{dep['processes'][0]['version']}")

        drive(srv.port, tokens, key, args.clients, warmup, "warm", None)
        groups = {"server": srv.server_pids(), "postgres": backend_pids(srv.dbname)}
        workers = srv.server_pids()[1:]
        idle = CpuMeter(groups).start()
        time.sleep(3)
        idle = idle.stop()
        print(f"idle server (3 s, no requests): gunicorn {idle['server'] / idle['wall'] * 100:.1f}% of a core, "
              f"postgres backends {idle['postgres'] / idle['wall'] * 100:.1f}% (embedded background runner polling)")
        spy = start_py_spy(srv.proc.pid, args.profile) if args.profile else None
        log0 = _log_stats(srv.log_path)
        sampler = PgActivitySampler(srv.dbname).start()
        meter = CpuMeter({**groups, **{f"worker {pid}": [pid] for pid in workers}}).start()
        stats = Stats()
        wall = drive(srv.port, tokens, key, args.clients, args.lifecycles, "run", stats)
        cpu = meter.stop()
        pg_activity = sampler.stop()
        log1 = _log_stats(srv.log_path)
        log_lines, log_bytes = log1[0] - log0[0], log1[1] - log0[1]
        loggers = log1[2] - log0[2]
        if spy is not None:
            stop_py_spy(spy)
        paced = None
        if args.rate > 0:
            paced = Stats()
            paced_meter = CpuMeter(groups).start()
            paced_wall = drive(srv.port, tokens, key, args.clients, args.lifecycles, "paced", paced, args.rate)
            paced_cpu = paced_meter.stop()

        # Consistency: every measured lifecycle must have completed.
        done = admin.call("GET", "/api/v1/process-instances?process_key=permit&status=completed&page_size=1",
                          token=tokens["boss1"])["total"] - (paced.lifecycles if paced else 0)
        admin.close()

    # Bare SpiffWorkflow, server stopped and database dropped: one core, quiet machine.
    bare = bare_spiff.measure(args.bare_lifecycles, round_trip=True)
    bare_mem = bare_spiff.measure(args.bare_lifecycles, round_trip=False)

    n_ok = stats.lifecycles
    completions = len(stats.complete_lat)
    lps = n_ok / wall
    cps = completions / wall
    reqs = (n_ok * (1 + len(STEPS))) / wall
    print()
    print(f"platform: {n_ok}/{args.lifecycles} lifecycles in {wall:.2f} s with {args.clients} clients "
          f"({len(stats.errors)} errors; {done} completed instances in the database incl. {warmup} warm-up)")
    print(f"  lifecycles/s        {lps:8.1f}")
    print(f"  task completions/s  {cps:8.1f}   (requests/s incl. starts: {reqs:.1f})")
    print(f"  completion latency  {fmt_ms(stats.complete_lat)}  (n={completions})")
    print(f"  start latency       {fmt_ms(stats.start_lat, (50, 95))}")
    for step, vals in stats.per_step.items():
        print(f"    {step:11} {fmt_ms(vals)}")
    server_cpu, pg_cpu, client_cpu = cpu["server"], cpu["postgres"], cpu["client"]
    print(f"  CPU seconds: server (gunicorn) {server_cpu:.2f}, postgres backends {pg_cpu:.2f}, "
          f"bench client {client_cpu:.2f}; machine busy {cpu['machine_busy_frac'] * 100:.0f}% of {ncpu} cores "
          f"over {cpu['wall']:.2f} s")
    print(f"  server CPU per lifecycle {server_cpu / n_ok * 1000:.1f} ms, postgres {pg_cpu / n_ok * 1000:.1f} ms; "
          f"server CPU per request {server_cpu / (n_ok * 6) * 1000:.2f} ms")
    split = [cpu[k] for k in cpu if k.startswith("worker ")]
    if split:  # keep-alive connections stay with the worker that accepted them
        print("  gunicorn workers' share of server CPU: " + " / ".join(f"{c / max(1e-9, server_cpu):.0%}" for c in split))
    other = cpu["machine_busy_frac"] * ncpu * cpu["wall"] - server_cpu - pg_cpu - client_cpu
    print(f"  other processes on the machine used ~{max(0.0, other):.1f} CPU-s meanwhile (not this benchmark)")
    nreq = n_ok * (1 + len(STEPS))
    print(f"  server log: {log_lines / nreq:.1f} lines, {log_bytes / nreq:.0f} B per request; by logger: "
          + ", ".join(f"{k} {v / nreq:.1f}" for k, v in loggers.most_common(4)))
    print("  PostgreSQL backends of the API, average count per 20 ms sample (non-idle):")
    for k, v in list(pg_activity.items())[:8]:
        print(f"    {v:5.2f}  {k}")
    if paced is not None:
        pcs = len(paced.complete_lat) / paced_wall
        print()
        print(f"paced: {args.clients} clients sending at {args.rate:.0f} completions/s together "
              f"(+ starts at the same pace); latency from each request's scheduled send time")
        print(f"  achieved            {pcs:8.1f} completions/s over {paced_wall:.2f} s "
              f"({paced.lifecycles}/{args.lifecycles} lifecycles, {len(paced.errors)} errors)")
        print(f"  completion latency  {fmt_ms(paced.complete_lat)}  (n={len(paced.complete_lat)})")
        print(f"  start latency       {fmt_ms(paced.start_lat, (50, 95))}")
        print(f"  machine busy {paced_cpu['machine_busy_frac'] * 100:.0f}% of {ncpu} cores; server CPU per request "
              f"{paced_cpu['server'] / max(1, paced.lifecycles * 6) * 1000:.2f} ms")
        stats.errors.extend(paced.errors)
    print()
    print(f"bare SpiffWorkflow (1 core): {bare['lifecycles_per_s']:.1f} lifecycles/s with JSON round trip per step "
          f"(state up to {bare['max_state_bytes']} B); {bare_mem['lifecycles_per_s']:.1f}/s in memory")
    per_core_nominal = lps / ncpu
    per_core_measured = n_ok / max(1e-9, server_cpu + pg_cpu)
    bare_cpu_ms = 1000 / bare["lifecycles_per_cpu_s"]
    print(f"floor: PostgreSQL alone used {pg_cpu / n_ok * 1000:.1f} ms CPU per lifecycle; a ratio of 0.5 allows "
          f"{2 * bare_cpu_ms:.1f} ms for gunicorn + PostgreSQL together (2 x bare {bare_cpu_ms:.1f} ms)")
    print("ratio platform/bare per core:")
    print(f"  nominal  = ({lps:.1f} lifecycles/s / {ncpu} cores) / {bare['lifecycles_per_s']:.1f} "
          f"= {per_core_nominal / bare['lifecycles_per_s']:.2f}   (target >= 0.5)")
    print(f"  measured = ({n_ok} lifecycles / {server_cpu + pg_cpu:.1f} CPU-s of gunicorn+postgres) / "
          f"{bare['lifecycles_per_cpu_s']:.1f} per CPU-s = "
          f"{per_core_measured / bare['lifecycles_per_cpu_s']:.2f}   (excludes the bench client's "
          f"{client_cpu:.1f} CPU-s on the same cores)")
    cap = ncpu / ((server_cpu + pg_cpu) / n_ok)
    print(f"  CPU-bound capacity estimate (all {ncpu} cores for gunicorn+postgres, nothing else running): "
          f"{cap:.1f} lifecycles/s = {cap * len(STEPS):.0f} completions/s; its ratio to bare = "
          f"{cap / ncpu / bare['lifecycles_per_cpu_s']:.2f}")
    p95 = percentile(stats.complete_lat, 95)
    at = "as fast as possible"
    if paced is not None:  # latency at the stated throughput, not at saturation (where it is only queueing)
        p95, at = percentile(paced.complete_lat, 95), f"at {args.rate:.0f}/s"
        if len(paced.complete_lat) / paced_wall < 0.95 * args.rate:
            at += f" (NOT reached: {len(paced.complete_lat) / paced_wall:.0f}/s)"
    print(f"targets: >= 200 completions/s with 8 clients: {'MET' if cps >= 200 else 'NOT MET'} ({cps:.0f}); "
          f"completion p95 < 25 ms {at}: {'MET' if p95 < 0.025 else 'NOT MET'} ({p95 * 1000:.1f} ms); "
          f"per-core ratio >= 0.5: {'MET' if per_core_nominal / bare['lifecycles_per_s'] >= 0.5 else 'NOT MET'}")
    print("load average after: %.2f %.2f %.2f" % os.getloadavg())
    if stats.errors:
        print(f"\n{len(stats.errors)} errors, first 5:")
        for e in stats.errors[:5]:
            print("  " + e)
    return 1 if stats.errors else 0


if __name__ == "__main__":
    sys.exit(main())
