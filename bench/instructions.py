"""Instructions per request of the API process, counted by valgrind (callgrind).

Wall-clock and CPU-time figures on a shared 2-core VM move by 10–20 % from run to run,
more than most single optimisations are worth. callgrind counts executed instructions,
which do not depend on what else the machine does, so two commits can be compared
exactly. What is counted: the whole in-process request path (Flask test client →
blueprint → engine → SQLAlchemy/psycopg client side) for N permit lifecycles; the
PostgreSQL backend is another process and is not counted (``lifecycle.py`` reports it).

    .venv/bin/python bench/instructions.py [--lifecycles 10]

Needs ``valgrind`` (Debian package); takes 1–3 minutes (the process runs ~50x slower
while counted).
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

STEPS = [("apply", "prod1", {"content": "动火作业 (bench)", "workers": 2}), ("site_check", "leader1", {}),
         ("review", "safety1", {"approved": True}), ("approve", "boss1", {}), ("accept", "safety2", {})]


def child(lifecycles: int) -> None:
    """Runs under valgrind: prepare, say READY, wait; run the lifecycles, say DONE, wait."""
    from _harness import create_database, db_url, drop_database

    from api.app import create_app
    from engine.config import Settings
    from engine.platform import Platform
    from engine.sample_plant import seed_sample_plant
    from tests.processes import permit_files

    dbname = create_database("anjian_bench_instr")
    tmp = tempfile.TemporaryDirectory(prefix="anjian-instr-")
    try:
        settings = Settings.from_env({"ANJIAN_DATA_DIR": tmp.name, "DATABASE_URL": db_url(dbname),
                                      "ANJIAN_SECRET_KEY": "bench-secret-key-" + "x" * 40})
        platform = Platform(settings)
        platform.migrate()
        seed_sample_plant(platform, "anjian-demo")
        client = create_app(platform=platform).test_client()
        users = sorted({"designer1", *(u for _, u, _ in STEPS)})
        hdr = {}
        for u in users:
            tok = client.post("/api/v1/auth/login", json={"username": u, "password": "anjian-demo"}).json
            hdr[u] = {"Authorization": f"Bearer {tok['access_token']}"}
        files = permit_files("permit")
        r = client.post("/api/v1/deployments", headers=hdr["designer1"], content_type="multipart/form-data",
                        data={"files": [(BytesIO(v.encode()), k) for k, v in files.items()]})
        assert r.status_code in (200, 201), r.json

        def lifecycle(tag: str) -> None:
            r = client.post("/api/v1/process-instances", headers=hdr["prod1"],
                            json={"process_key": "permit", "business_key": tag})
            assert r.status_code == 201, r.json
            tasks = r.json["active_tasks"]
            for bpmn_id, user, data in STEPS:
                task = next(t for t in tasks if t["bpmn_id"] == bpmn_id)
                r = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=hdr[user], json={"data": data})
                assert r.status_code == 200, r.json
                tasks = r.json["next_tasks"]

        for i in range(5):  # warm every cache (statements, specs, workflow cache) first
            lifecycle(f"warm-{i}")
        print("READY", flush=True)
        sys.stdin.readline()
        for i in range(lifecycles):
            lifecycle(f"run-{i}")
        print("DONE", flush=True)
        sys.stdin.readline()
        platform.close()
    finally:
        drop_database(dbname)
        tmp.cleanup()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lifecycles", type=int, default=10)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.lifecycles)
        return 0
    out = tempfile.mktemp(prefix="anjian-callgrind-")
    # pymalloc confuses valgrind; plain malloc counts the same work on every run.
    env = {**os.environ, "PYTHONMALLOC": "malloc"}
    t0 = time.perf_counter()
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
                             sys.executable, __file__, "--child", "--lifecycles", str(args.lifecycles)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        _expect(proc, "READY")
        subprocess.run(["callgrind_control", "-i", "on", str(proc.pid)], check=True, capture_output=True)
        proc.stdin.write("\n")
        proc.stdin.flush()
        _expect(proc, "DONE")
        subprocess.run(["callgrind_control", "-i", "off", str(proc.pid)], check=True, capture_output=True)
        proc.stdin.write("\n")
        proc.stdin.flush()
        _, err = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
    m = re.search(r"Collected : (\d+)", err)
    if proc.returncode != 0 or not m:
        print(err[-3000:], file=sys.stderr)
        return 1
    total = int(m.group(1))
    n_req = args.lifecycles * (1 + len(STEPS))
    print(f"{args.lifecycles} permit lifecycles ({n_req} requests: {args.lifecycles} starts, "
          f"{args.lifecycles * len(STEPS)} completes) through the Flask test client, PostgreSQL")
    print(f"  instructions per lifecycle  {total / args.lifecycles / 1e6:8.2f} M")
    print(f"  instructions per request    {total / n_req / 1e6:8.2f} M")
    print(f"  (callgrind run took {time.perf_counter() - t0:.0f} s; counts exclude the PostgreSQL backend)")
    for f in Path(out).parent.glob(Path(out).name + "*"):
        f.unlink()
    return 0


def _expect(proc, word: str) -> None:
    for line in proc.stdout:
        if line.strip() == word:
            return
    raise SystemExit(f"child exited before {word}: {proc.stderr.read()[-3000:]}")


if __name__ == "__main__":
    sys.exit(main())
