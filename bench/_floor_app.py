"""The least a Flask endpoint on gunicorn can do per request, served for bench/stack_floor.py.

    python bench/_floor_app.py PORT MODE DATABASE_URL

MODE ``flask``: parse a JSON body, answer a small JSON object. MODE ``flask+pg``:
the same plus one PostgreSQL transaction that rewrites a 10 KB text column of one
row (what a workflow step persists at the least), on a pooled psycopg connection
with no ORM: BEGIN, UPDATE, COMMIT. MODE ``flask+pg-autocommit``: the UPDATE alone
in autocommit (one round trip instead of three). gunicorn is configured as ``anjian serve`` configures it (2 workers,
gthread, 8 threads, no access log).
"""
from __future__ import annotations

import sys
import threading

from flask import Flask, jsonify, request
from gunicorn.app.base import BaseApplication

STATE = ("状态" * 8 + "{\"task\": \"0f8fad5b-d9cb-469f-a165-70867728950e\", \"state\": 64}, ") * 100


def build(mode: str, database_url: str) -> Flask:
    app = Flask(__name__)
    pool = []
    lock = threading.Lock()

    def connection():
        import psycopg

        with lock:
            if pool:
                return pool.pop()
        return psycopg.connect(database_url)

    @app.post("/step/<int:row>")
    def step(row):
        body = request.get_json()
        if mode.startswith("flask+pg"):
            conn = connection()
            try:
                # flask+pg: BEGIN, UPDATE, COMMIT (three round trips, as a transaction in
                # psycopg); flask+pg-autocommit: the UPDATE alone (one round trip).
                conn.autocommit = mode == "flask+pg-autocommit"
                if mode == "flask+pg-pipeline":
                    with conn.pipeline(), conn.cursor() as cur:
                        cur.execute("UPDATE floor SET state = %s, version = version + 1 WHERE id = %s",
                                    (STATE + str(body["n"]), row))
                        conn.commit()
                else:
                    with conn.cursor() as cur:
                        cur.execute("UPDATE floor SET state = %s, version = version + 1 WHERE id = %s",
                                    (STATE + str(body["n"]), row))
                    conn.commit()
            finally:
                with lock:
                    pool.append(conn)
        return jsonify({"ok": True, "n": body["n"], "row": row})

    @app.get("/readyz")
    def ready():
        return {"ok": True}

    return app


class _Server(BaseApplication):
    def __init__(self, port: int, mode: str, database_url: str):
        self.port, self.mode, self.database_url = port, mode, database_url
        super().__init__()

    def load_config(self):
        self.cfg.set("bind", f"127.0.0.1:{self.port}")
        self.cfg.set("workers", 2)
        self.cfg.set("threads", 8)
        self.cfg.set("worker_class", "gthread")
        self.cfg.set("accesslog", None)

    def load(self):
        return build(self.mode, self.database_url)


if __name__ == "__main__":
    port, mode, url = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    sys.argv = sys.argv[:1]   # gunicorn parses the command line too
    _Server(port, mode, url).run()
