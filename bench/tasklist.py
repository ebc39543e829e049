"""``GET /api/v1/tasks?mine=true`` latency with 100,000 completed and 10,000 open
instances in PostgreSQL, over real HTTP against a real gunicorn server.

How the data is made (fast, and real where the list reads it)
  * ``anjian migrate`` + ``seed``, ``anjian serve``; three process keys are
    deployed over HTTP (permit, hotwork, confined: tests/processes.py).
  * Templates are made over HTTP: one permit instance parked at each of the 5
    user tasks, and one completed instance.
  * Bulk ``INSERT … SELECT … FROM template CROSS JOIN generate_series`` copies
    every column of the template rows (so columns added by later migrations
    are filled too) and overrides ids, business keys, departments, times and
    states:
      - completed instances: placeholder ``state`` JSON (lists never
        deserialize) and the 5 completed task rows each;
      - open instances: the template's real serialized state with the ready
        task's UUID replaced by the new task row's UUID, so every generated
        open task can really be completed (checked before measuring), plus the
        earlier completed task rows (segregation of duties reads them);
      - 70 % workshop-1 / 30 % storage; 5 % of open tasks already claimed.
  * ``VACUUM ANALYZE`` so the planner has statistics as a running system would.

Then per user (prod1, leader1, safety1, boss1): sequential requests and
C concurrent clients, p50/p95/p99; and ``EXPLAIN (ANALYZE, BUFFERS)`` of the
exact SQL the engine issues (captured from engine.tasks.TaskService.list).

    .venv/bin/python bench/tasklist.py [--completed 100000] [--open 10000] [--requests 300] [--keep-db]
"""
from __future__ import annotations

import argparse
import base64
import json
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import psycopg  # noqa: E402

from _harness import (Client, CpuMeter, backend_pids, db_url, deploy, fmt_ms, login, percentile,  # noqa: E402
                      run_threads, running_server)

from tests.processes import permit_files  # noqa: E402

KEYS = ["permit", "hotwork", "confined"]
STEPS = [("apply", "prod1", {"content": "动火作业 (bench)", "workers": 2}), ("site_check", "leader1", {}),
         ("review", "safety1", {"approved": True}), ("approve", "boss1", {}), ("accept", "safety2", {})]
ASSIGNEE_FOR = {"apply": "prod1", "site_check": "leader1", "review": "safety1", "approve": "boss1",
                "accept": "safety2"}
LIST_USERS = ["prod1", "leader1", "safety1", "boss1"]
LIST_PATH = "/api/v1/tasks?mine=true"


def columns(cur, table: str) -> list[str]:
    cur.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                "AND table_schema = current_schema() ORDER BY ordinal_position", (table,))
    return [r[0] for r in cur.fetchall()]


def copy_select(cols: list[str], overrides: dict[str, str], alias: str) -> tuple[str, str]:
    """(column list, select list) copying ``alias``.<col> unless overridden."""
    unknown = set(overrides) - set(cols)
    if unknown:
        raise RuntimeError(f"schema changed: no column(s) {sorted(unknown)}")
    return (", ".join(f'"{c}"' for c in cols),
            ", ".join(overrides.get(c, f'{alias}."{c}"') for c in cols))


def make_templates(client: Client, tokens: dict) -> dict:
    """Instances parked at each step (real state) and one completed, over HTTP."""
    parked = {}
    for k in range(len(STEPS) + 1):
        inst = client.call("POST", "/api/v1/process-instances",
                           {"process_key": "permit", "business_key": f"template-{k}"}, tokens["prod1"])
        tasks = inst["active_tasks"]
        for bpmn_id, user, data in STEPS[:k]:
            task = next(t for t in tasks if t["bpmn_id"] == bpmn_id)
            tasks = client.call("POST", f"/api/v1/tasks/{task['id']}/complete", {"data": data},
                                tokens[user])["next_tasks"]
        parked[k] = inst["id"]
    return parked


def generate(url: str, parked: dict, n_completed: int, n_open: int) -> dict:
    t0 = time.perf_counter()
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        icols = columns(cur, "process_instances")
        tcols = columns(cur, "tasks")
        cur.execute("SELECT key, id, version FROM process_definitions")
        defs = {k: (i, v) for k, i, v in cur.fetchall()}
        key_arr = "ARRAY[" + ",".join(f"'{k}'" for k in KEYS) + "]"
        def_arr = "ARRAY[" + ",".join(str(defs[k][0]) for k in KEYS) + "]"
        ver_arr = "ARRAY[" + ",".join(str(defs[k][1]) for k in KEYS) + "]"
        cur.execute("SELECT coalesce(max(id), 0) FROM process_instances")
        base = cur.fetchone()[0] + 1000
        dept = "(CASE WHEN g %% 10 < 7 THEN 'workshop-1' ELSE 'storage' END)"

        # ---- completed instances: placeholder state, 5 completed tasks each
        cols, sel = copy_select(icols, {
            "id": f"{base} + g", "definition_id": f"({def_arr})[1 + g %% 3]",
            "process_key": f"({key_arr})[1 + g %% 3]", "definition_version": f"({ver_arr})[1 + g %% 3]",
            "business_key": "'hist-' || g", "active_business_key": "NULL", "status": "'completed'",
            "department": dept, "state": """'{"placeholder": "completed instance generated by bench/tasklist.py"}'""",
            "started_at": "now() - make_interval(mins => g * 5) - interval '3 hours'",
            "ended_at": "now() - make_interval(mins => g * 5)", "next_timer_at": "NULL",
        }, "t")
        cur.execute(f"INSERT INTO process_instances ({cols}) SELECT {sel} FROM process_instances t "
                    f"CROSS JOIN generate_series(1, %s) g WHERE t.id = %s", (n_completed, parked[len(STEPS)]))
        cols, sel = copy_select(tcols, {
            "id": "gen_random_uuid()::text", "instance_id": f"{base} + g",
            "process_key": f"({key_arr})[1 + g %% 3]", "business_key": "'hist-' || g",
            "department": f"(CASE WHEN t.department IS NULL THEN NULL ELSE {dept} END)",
            "created_at": "now() - make_interval(mins => g * 5) - interval '3 hours' + (t.created_at - i.started_at)",
            "completed_at": "now() - make_interval(mins => g * 5) - interval '3 hours' + (t.completed_at - i.started_at)",
            "due_at": "NULL",
        }, "t")
        cur.execute(f"INSERT INTO tasks ({cols}) SELECT {sel} FROM tasks t JOIN process_instances i "
                    f"ON i.id = t.instance_id CROSS JOIN generate_series(1, %s) g WHERE t.instance_id = %s",
                    (n_completed, parked[len(STEPS)]))

        # ---- open instances: real state, one ready task each (parked at step g % 5)
        obase = base + n_completed + 1000
        for k in range(len(STEPS)):
            tmpl = parked[k]
            cur.execute("SELECT id FROM tasks WHERE instance_id = %s AND state = 'ready'", (tmpl,))
            ready_id = cur.fetchone()[0]
            newid = "md5('bench-open-' || g)::uuid::text"
            gen = f"generate_series({k}, %s - 1, {len(STEPS)})"
            odept = "(CASE WHEN (g / 5) %% 10 < 7 THEN 'workshop-1' ELSE 'storage' END)"
            cols, sel = copy_select(icols, {
                "id": f"{obase} + g", "business_key": "'open-' || g", "active_business_key": "'open-' || g",
                "department": odept, "state": f"replace(t.state, '{ready_id}', {newid})",
                "started_at": "now() - make_interval(secs => g * 7)",
            }, "t")
            cur.execute(f"INSERT INTO process_instances ({cols}) SELECT {sel} FROM process_instances t "
                        f"CROSS JOIN {gen} g WHERE t.id = %s", (n_open, tmpl))
            shift = "(now() - make_interval(secs => g * 7) - i.started_at)"
            cols, sel = copy_select(tcols, {
                "id": f"CASE WHEN t.id = '{ready_id}' THEN {newid} ELSE gen_random_uuid()::text END",
                "instance_id": f"{obase} + g", "business_key": "'open-' || g",
                "department": f"(CASE WHEN t.department IS NULL THEN NULL ELSE {odept} END)",
                # 5 % of each step's open tasks are claimed by a user of the right role (and department)
                "assignee": ("CASE WHEN t.state = 'ready' AND (g / 5) %% 20 = 1 THEN "
                             f"(CASE WHEN t.bpmn_id = 'apply' AND {odept} = 'storage' THEN 'prod2' ELSE "
                             "(CASE t.bpmn_id " + " ".join(f"WHEN '{b}' THEN '{u}'" for b, u in ASSIGNEE_FOR.items())
                             + " END) END) ELSE t.assignee END"),
                "created_at": f"t.created_at + {shift}",
                "completed_at": f"t.completed_at + {shift}",
                "due_at": f"t.due_at + {shift}",
            }, "t")
            cur.execute(f"INSERT INTO tasks ({cols}) SELECT {sel} FROM tasks t JOIN process_instances i "
                        f"ON i.id = t.instance_id CROSS JOIN {gen} g WHERE t.instance_id = %s", (n_open, tmpl))
        cur.execute("SELECT setval(pg_get_serial_sequence('process_instances', 'id'), "
                    "(SELECT max(id) FROM process_instances))")
        conn.commit()
    gen_s = time.perf_counter() - t0
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE process_instances")
        conn.execute("VACUUM ANALYZE tasks")
        counts = dict(conn.execute("SELECT state, count(*) FROM tasks GROUP BY state").fetchall())
        icount = dict(conn.execute("SELECT status, count(*) FROM process_instances GROUP BY status").fetchall())
    return {"seconds": gen_s, "total_seconds": time.perf_counter() - t0, "tasks": counts, "instances": icount}


def check_generated_is_real(client: Client, tokens: dict) -> str:
    """Complete a generated open task of every step over HTTP: proves the rows and state agree."""
    done = []
    for k, (bpmn_id, user, data) in enumerate(STEPS):
        items = client.call("GET", f"/api/v1/tasks?mine=true&business_key=open-{500 + k}",
                            token=tokens[user])["items"]  # open-<g> is parked at step g % 5
        task = next((t for t in items if t["bpmn_id"] == bpmn_id and t["state"] == "ready"), None)
        if task is None:
            return f"no generated {bpmn_id} task found for {user}"
        r = client.call("POST", f"/api/v1/tasks/{task['id']}/complete", {"data": data}, tokens[user])
        done.append(f"{bpmn_id}->{r['instance']['status']}")
    return "generated open tasks complete over HTTP: " + ", ".join(done)


def token_principal(token: str):
    from engine.principal import Principal

    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return Principal(claims["sub"], frozenset(claims.get("roles") or ()), claims.get("dept"))


def explain(url: str, tokens: dict, users: list[str]) -> None:
    """EXPLAIN ANALYZE of the statements engine.tasks.TaskService.list(mine=True) really sends."""
    from sqlalchemy import event

    from engine.config import normalise_database_url
    from engine.db import Database
    from engine.tasks import TaskService

    db = Database(normalise_database_url(url), pool_size=1)
    captured = []

    def grab(conn, cursor, statement, parameters, context, executemany):
        captured.append((statement, parameters))

    event.listen(db.read_engine, "before_cursor_execute", grab)
    svc = TaskService(db, None, lambda u: True)
    sql_t = {"t": 0.0}

    def t_before(conn, cursor, statement, parameters, context, executemany):
        conn.info["_t0"] = time.perf_counter()

    def t_after(conn, cursor, statement, parameters, context, executemany):
        sql_t["t"] += time.perf_counter() - conn.info.pop("_t0", time.perf_counter())

    print("\nin-process TaskService.list(mine=True), no HTTP (median of 50 calls):")
    event.listen(db.read_engine, "before_cursor_execute", t_before)
    event.listen(db.read_engine, "after_cursor_execute", t_after)
    for user in users:
        p = token_principal(tokens[user])
        svc.list(p, mine=True)
        walls, cpus, sqls, encs = [], [], [], []
        for _ in range(50):
            sql_t["t"] = 0.0
            t0, c0 = time.perf_counter(), time.thread_time()
            res = svc.list(p, mine=True)
            walls.append(time.perf_counter() - t0)
            cpus.append(time.thread_time() - c0)
            sqls.append(sql_t["t"])
            t0 = time.perf_counter()
            json.dumps(res, ensure_ascii=False)
            encs.append(time.perf_counter() - t0)
        print(f"  {user:8} wall {percentile(walls, 50) * 1000:5.1f} ms (p95 {percentile(walls, 95) * 1000:5.1f}), "
              f"CPU {percentile(cpus, 50) * 1000:5.1f} ms, in cursor.execute {percentile(sqls, 50) * 1000:5.1f} ms, "
              f"json.dumps of the answer {percentile(encs, 50) * 1000:4.1f} ms")
    event.remove(db.read_engine, "before_cursor_execute", t_before)
    event.remove(db.read_engine, "after_cursor_execute", t_after)
    try:
        for user in users:
            captured.clear()
            svc.list(token_principal(tokens[user]), mine=True)
            stmts = list(captured)
            event.remove(db.read_engine, "before_cursor_execute", grab)
            with db.read_engine.connect() as conn:
                for stmt, params in stmts:
                    if not stmt.lstrip().upper().startswith("SELECT"):
                        continue
                    plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + stmt, params).scalars().all()
                    print(f"\n--- {user}: {' '.join(stmt.split())[:160]}…  params={params}")
                    for line in plan:
                        print("    " + line)
            event.listen(db.read_engine, "before_cursor_execute", grab)
    finally:
        db.dispose()


def measure(port: int, token: str, n: int, clients: int) -> tuple[list[float], float, int]:
    lat: list[float] = []
    lock = threading.Lock()
    totals = []
    per = max(1, n // clients)

    def worker():
        c = Client(port)
        mine = []
        for _ in range(per):
            t0 = time.perf_counter()
            r = c.call("GET", LIST_PATH, token=token)
            mine.append(time.perf_counter() - t0)
        totals.append(r["total"])
        c.close()
        with lock:
            lat.extend(mine)

    wall = run_threads(lambda _i: worker(), clients)
    return lat, wall, totals[0] if totals else -1


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--completed", type=int, default=100_000)
    ap.add_argument("--open", type=int, default=10_000)
    ap.add_argument("--requests", type=int, default=300, help="per user and mode")
    ap.add_argument("--clients", type=int, default=8, help="concurrent clients of the second mode")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-explain", action="store_true")
    ap.add_argument("--keep-db", action="store_true")
    args = ap.parse_args(argv)

    with running_server(workers=args.workers, keep_db=args.keep_db, db_prefix="anjian_bench_tl") as srv:
        url = db_url(srv.dbname)
        c = Client(srv.port)
        users = sorted({"designer1", *LIST_USERS, *(u for _, u, _ in STEPS)})
        tokens = {u: login(c, u) for u in users}
        for key in KEYS:
            deploy(c, tokens["designer1"], permit_files(key))
        parked = make_templates(c, tokens)
        g = generate(url, parked, args.completed, args.open)
        print(f"generated in {g['seconds']:.1f} s (+ VACUUM ANALYZE: {g['total_seconds']:.1f} s total): "
              f"instances {g['instances']}, tasks {g['tasks']}")
        print(check_generated_is_real(c, tokens))

        print("load average: %.2f %.2f %.2f (2-core machine shared with other work)" % __import__("os").getloadavg())
        print(f"\nGET {LIST_PATH}  (page_size 50 default, sorted by created; latency over real HTTP)")
        print(f"{'user':9} {'total':>6}  {'sequential (1 client)':38} {f'{args.clients} concurrent clients':38}")
        for user in LIST_USERS:
            measure(srv.port, tokens[user], 20, 1)  # warm-up (connections, caches)
            meter = CpuMeter({"server": srv.server_pids(), "postgres": backend_pids(srv.dbname)}).start()
            seq, _, total = measure(srv.port, tokens[user], args.requests, 1)
            cpu = meter.stop()
            conc, wall, _ = measure(srv.port, tokens[user], args.requests, args.clients)
            print(f"{user:9} {total:6}  {fmt_ms(seq):38} {fmt_ms(conc)}  ({len(conc) / wall:.0f} req/s)")
            p95 = percentile(seq, 95)
            print(f"{'':17}target p95 < 20 ms (sequential): {'MET' if p95 < 0.020 else 'NOT MET'};  CPU per request "
                  f"(sequential): gunicorn {cpu['server'] / len(seq) * 1000:.1f} ms, postgres "
                  f"{cpu['postgres'] / len(seq) * 1000:.1f} ms; machine "
                  f"{cpu['machine_busy_frac'] * 100:.0f}% busy")
        c.close()
        if not args.no_explain:
            explain(url, tokens, LIST_USERS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
