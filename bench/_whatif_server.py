"""``anjian serve`` with runtime patches, for what-if measurements only.

Used by ``bench/lifecycle.py --what-if …`` to estimate what a fix would buy
before anyone changes the engine. The engine source is not modified; the
patches live in this process (inherited by gunicorn's forked workers).

ANJIAN_BENCH_WHATIF is a comma-separated list of:
  quiet-spiff-logs  SpiffWorkflow's loggers at WARNING (they log every task
                    state change at INFO, serialized as JSON lines)
  no-audit-lock     audit events numbered from a PostgreSQL sequence, without
                    the global ``audit_head`` row lock and its UPDATE. This
                    BREAKS the hash chain (prev_hash is a placeholder): it only
                    measures what the single chain head costs.
  gc-stats          time every garbage collection (per generation) in each
                    worker; totals go to /tmp/anjian-gc-<pid>.txt, rewritten
                    every second
  gc-freeze         gc.collect() + gc.freeze() in each worker right after the
                    app is built: modules, the app, schemas and connectors
                    leave the collector's generations
  gc-threshold0=N   gc.set_threshold(N, 10, 10) in each worker
"""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _gc_stats() -> None:
    import gc
    import time

    totals = {0: [0, 0.0], 1: [0, 0.0], 2: [0, 0.0]}
    state = {"t0": 0.0, "written": time.monotonic()}

    def callback(phase, info):
        if phase == "start":
            state["t0"] = time.perf_counter()
            return
        entry = totals[info["generation"]]
        entry[0] += 1
        entry[1] += time.perf_counter() - state["t0"]
        now = time.monotonic()
        if now - state["written"] > 1.0:
            state["written"] = now
            with open(f"/tmp/anjian-gc-{os.getpid()}.txt", "w") as f:
                for gen, (n, secs) in totals.items():
                    f.write(f"gen{gen} {n} collections {secs * 1000:.1f} ms\n")

    gc.callbacks.append(callback)


def _gc_after_app(freeze: bool, threshold0: int | None) -> None:
    import gc

    import api.app

    create_app = api.app.create_app

    def wrapped(*a, **kw):
        app = create_app(*a, **kw)
        if threshold0:
            gc.set_threshold(threshold0, 10, 10)
        if freeze:
            gc.collect()
            gc.freeze()
        return app

    api.app.create_app = wrapped


def patch(whatif: set[str]) -> None:
    if "gc-stats" in whatif:
        _gc_stats()
    threshold0 = next((int(w.split("=", 1)[1]) for w in whatif if w.startswith("gc-threshold0=")), None)
    if "gc-freeze" in whatif or threshold0:
        _gc_after_app("gc-freeze" in whatif, threshold0)
    if "quiet-spiff-logs" in whatif:
        logging.getLogger("spiff").setLevel(logging.WARNING)
    if "no-audit-lock" in whatif:
        from sqlalchemy import create_engine, text

        from engine import audit
        from engine.config import normalise_database_url
        from engine.models import AuditEvent, utcnow

        eng = create_engine(normalise_database_url(os.environ["DATABASE_URL"]))
        with eng.begin() as conn:
            conn.execute(text("CREATE SEQUENCE IF NOT EXISTS bench_audit_seq START 1000000000"))
        eng.dispose()

        def append(session, *, actor, kind, instance_id=None, task_id=None, data=None):
            data = data or {}
            seq = session.execute(text("SELECT nextval('bench_audit_seq')")).scalar_one()
            at = utcnow()
            d = audit.digest(data)
            h = audit._link_hash(audit.GENESIS_HASH, seq, at, actor, kind, instance_id, task_id, d)
            ev = AuditEvent(seq=seq, at=at, actor=actor, kind=kind, instance_id=instance_id, task_id=task_id,
                            data=data, data_digest=d, prev_hash=audit.GENESIS_HASH, hash=h)
            session.add(ev)
            return ev

        audit.append = append


if __name__ == "__main__":
    patch({w.strip() for w in os.environ.get("ANJIAN_BENCH_WHATIF", "").split(",") if w.strip()})
    from api.cli import main

    sys.argv[0] = "anjian"
    main()
