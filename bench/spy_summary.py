"""Summarise py-spy collapsed stacks (``--format raw``) of the API server.

    .venv/bin/python bench/lifecycle.py --lifecycles 200 --profile /tmp/server.spy
    .venv/bin/python bench/spy_summary.py /tmp/server.spy

Prints where the gunicorn workers spent CPU: per endpoint, then inside
``TaskService.complete`` and ``InstanceService.start`` the inclusive share of
each step of the request life (DESIGN.md), and the self time per library.
lifecycle.py records with ``--gil`` (only samples of the thread holding the
GIL), so these are on-CPU Python figures; waits on PostgreSQL, on the
audit-head row lock or on the GIL are not in them (see the pg_stat_activity
sample that lifecycle.py prints for those).
"""
from __future__ import annotations

import re
import sys
from collections import Counter

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^():]*?)(?::(?P<line>\d+))?\)$")

ENDPOINTS = {
    "POST /tasks/{id}/complete": "Complete.post",
    "POST /process-instances (start)": "Instances.post",
    "GET /tasks": "Tasks.get",
    "POST /auth/login": "Login.post",
}

# (label, function name, file fragment): inclusive share inside the selected root.
STEPS = [
    ("session: get task row + checks", "TaskService._visible_row", "engine/tasks.py"),
    ("segregation-of-duties query", "TaskService._check_segregation", "engine/tasks.py"),
    ("model_for (model cache)", "Runner.model_for", "engine/runner.py"),
    ("form validation (jsonschema)", "TaskService._validate_form", "engine/tasks.py"),
    ("Runner.load = deserialize_json", "Runner.load", "engine/runner.py"),
    ("task.run()", "Task.run", "SpiffWorkflow"),
    ("Runner.advance (all of it)", "Runner.advance", "engine/runner.py"),
    ("  do_engine_steps", "BpmnWorkflow.do_engine_steps", "SpiffWorkflow"),
    ("  _sync_tasks (task rows)", "Runner._sync_tasks", "engine/runner.py"),
    ("  Runner.save (all of it)", "Runner.save", "engine/runner.py"),
    ("    serialize_json", "BpmnWorkflowSerializer.serialize_json", "SpiffWorkflow"),
    ("    Runner.variables", "Runner.variables", "engine/runner.py"),
    ("    next_timer_due", "Runner.next_timer_due", "engine/runner.py"),
    ("    _jsonable(variables)", "_jsonable", "engine/runner.py"),
    ("  session.flush (INSERT/UPDATE)", "Session.flush", "sqlalchemy"),
    ("audit.append", "append", "engine/audit.py"),
    ("commit (session __exit__)", "Session.commit", "sqlalchemy"),
    ("new_workflow (start only)", "Runner.new_workflow", "engine/runner.py"),
]

ANY_WHERE = [
    ("SpiffWorkflow (any)", None, "SpiffWorkflow/"),
    ("  ...serializer (any)", None, "SpiffWorkflow/bpmn/serializer"),
    ("SQLAlchemy (any, incl. driver)", None, "sqlalchemy/"),
    ("psycopg (any)", None, "psycopg/"),
    ("json encode/decode (stdlib, any)", None, "json/"),
    ("jsonschema (any)", None, "jsonschema/"),
    ("JWT decode (principal_from_token)", "UserService.principal_from_token", "engine/users.py"),
    ("webargs/marshmallow (any)", None, "marshmallow/"),
    ("metrics before/after", None, "api/metrics.py"),
]

LIBS = [("SpiffWorkflow", "SpiffWorkflow/"), ("SQLAlchemy", "sqlalchemy/"), ("psycopg", "psycopg/"),
        ("json (stdlib)", "json/"), ("jsonschema", "jsonschema/"), ("marshmallow/webargs", "marshmallow/"),
        ("marshmallow/webargs", "webargs/"), ("flask/werkzeug", "flask/"), ("flask/werkzeug", "werkzeug/"),
        ("flask/werkzeug", "flask_smorest/"), ("gunicorn", "gunicorn/"), ("jwt", "jwt/"), ("prometheus", "prometheus_client/"),
        ("anjian engine", "engine/"), ("anjian api", "api/"), ("stdlib other", ".py")]


def parse(path: str):
    for raw in open(path, encoding="utf-8", errors="replace"):
        raw = raw.rstrip("\n")
        if not raw:
            continue
        stack, _, count = raw.rpartition(" ")
        try:
            n = int(count)
        except ValueError:
            continue
        frames = []
        for f in stack.split(";"):
            m = FRAME.match(f)
            frames.append((m.group("func"), m.group("file")) if m else (f, ""))
        yield frames, n


def has(frames, func, file_frag) -> bool:
    """True when some frame is ``func`` (exact py-spy name, None = any) in a file containing ``file_frag``."""
    return any((func is None or fn == func) and (file_frag is None or file_frag in fl) for fn, fl in frames)


def lib_of(frames) -> str:
    fn, fl = frames[-1]
    for label, frag in LIBS:
        if frag in fl:
            return label
    return "other/native"


def summarise(path: str, out=sys.stdout) -> None:
    samples = list(parse(path))
    total = sum(n for _, n in samples)
    req = [(f, n) for f, n in samples if any(fn == "ThreadWorker.handle_request" for fn, _ in f)]
    req_total = sum(n for _, n in req)
    print(f"{total} on-CPU samples in the gunicorn workers; {req_total} ({req_total / max(1, total):.0%}) "
          f"inside request handling", file=out)
    print("\nby endpoint (share of request samples):", file=out)
    for label, func in ENDPOINTS.items():
        n = sum(c for f, c in req if any(fn == func for fn, _ in f))
        print(f"  {label:34} {n / max(1, req_total):6.1%}", file=out)
    for root_label, root in (("TaskService.complete", "TaskService.complete"),
                             ("InstanceService.start", "InstanceService.start")):
        sub = [(f, n) for f, n in req if any(fn == root for fn, _ in f)]
        sub_total = sum(n for _, n in sub)
        if not sub_total:
            continue
        ep = [(f, n) for f, n in req if any(fn in ("Complete.post", "Instances.post") for fn, _ in f)]
        print(f"\ninside {root_label} ({sub_total} samples; inclusive share):", file=out)
        for label, func, frag in STEPS:
            n = sum(c for f, c in sub if has(f, func, frag))
            if n:
                print(f"  {label:38} {n / sub_total:6.1%}", file=out)
        for label, func, frag in ANY_WHERE:
            n = sum(c for f, c in sub if has(f, func, frag))
            if n:
                print(f"  {label:38} {n / sub_total:6.1%}", file=out)
    print("\nself time by library (all request samples):", file=out)
    libs = Counter()
    for f, n in req:
        libs[lib_of(f)] += n
    for lib, n in libs.most_common():
        print(f"  {lib:22} {n / max(1, req_total):6.1%}", file=out)
    print("\nwhole request, inclusive (any endpoint):", file=out)
    for label, func, frag in ANY_WHERE:
        n = sum(c for f, c in req if has(f, func, frag))
        print(f"  {label:38} {n / max(1, req_total):6.1%}", file=out)
    print("\ntop 25 self functions (request samples):", file=out)
    selfc = Counter()
    for f, n in req:
        fn, fl = f[-1]
        selfc[f"{fn} ({fl})"] += n
    for k, n in selfc.most_common(25):
        print(f"  {n / max(1, req_total):6.1%}  {k}", file=out)


if __name__ == "__main__":
    summarise(sys.argv[1])
