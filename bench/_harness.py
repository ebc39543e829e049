"""Shared plumbing of the benchmarks: a throw-away PostgreSQL database, a real
``anjian serve`` (gunicorn) subprocess, a light keep-alive HTTP client and CPU
accounting read from /proc.

Nothing here imports the engine: the benchmarks talk to the server over HTTP
exactly as a client would.
"""
from __future__ import annotations

import http.client
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("ANJIAN_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
DEMO_PASSWORD = "anjian-demo"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def anjian_bin() -> str:
    """The ``anjian`` console script of the interpreter running the benchmark."""
    for cand in (Path(sys.executable).parent / "anjian", REPO / ".venv" / "bin" / "anjian"):
        if cand.exists():
            return str(cand)
    raise SystemExit("anjian console script not found; run with .venv/bin/python")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- database


def _admin():
    import psycopg

    return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)


def db_url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def create_database(prefix: str) -> str:
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:4]}"
    with _admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_database(name: str) -> None:
    with _admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def backend_pids(dbname: str) -> list[int]:
    """PostgreSQL backend processes currently connected to ``dbname``."""
    with _admin() as conn:
        return [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (dbname,))]


# ---------------------------------------------------------------- server


class Server:
    """``anjian migrate`` + ``anjian seed`` + ``anjian serve`` on a fresh database."""

    def __init__(self, *, workers: int = 2, threads: int | None = None, keep_db: bool = False,
                 db_prefix: str = "anjian_bench", dbname: str | None = None, whatif: str | None = None):
        self.workers = workers
        self.threads = threads
        self.keep_db = keep_db
        self.db_prefix = db_prefix
        self.dbname = dbname
        self.whatif = whatif
        self._own_db = dbname is None
        self.proc: subprocess.Popen | None = None
        self.port = free_port()
        self.tmp = tempfile.TemporaryDirectory(prefix="anjian-bench-")
        self.log_path = Path(self.tmp.name) / "server.log"

    @property
    def env(self) -> dict:
        env = dict(os.environ)
        env.update({
            "DATABASE_URL": db_url(self.dbname),
            "ANJIAN_DATA_DIR": self.tmp.name,
            "ANJIAN_SECRET_KEY": "bench-secret-key-" + "x" * 40,
        })
        env.pop("REDIS_URL", None)
        return env

    def prepare(self) -> None:
        if self.dbname is None:
            self.dbname = create_database(self.db_prefix)
        for cmd in (["migrate"], ["seed"]):
            r = subprocess.run([anjian_bin(), *cmd], env=self.env, cwd=REPO, capture_output=True, text=True)
            if r.returncode != 0:
                raise RuntimeError(f"anjian {cmd[0]} failed:\n{r.stdout}\n{r.stderr}")

    def start(self) -> None:
        args = [anjian_bin(), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                "--workers", str(self.workers)]
        if self.threads:
            args += ["--threads", str(self.threads)]
        env = self.env
        if self.whatif:  # runtime-patched server (bench/_whatif_server.py), for what-if figures only
            args = [sys.executable, str(REPO / "bench" / "_whatif_server.py"), *args[1:]]
            env["ANJIAN_BENCH_WHATIF"] = self.whatif
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(args, env=env, cwd=REPO, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited:\n" + self.log_path.read_text(errors="replace"))
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/readyz")
                if c.getresponse().status == 200:
                    c.close()
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("server not ready after 60 s:\n" + self.log_path.read_text(errors="replace"))

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)   # gunicorn master stops its workers
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if getattr(self, "_log", None):
            self._log.close()

    def cleanup(self) -> None:
        self.stop()
        if self.dbname and self._own_db and not self.keep_db:
            drop_database(self.dbname)
        elif self.dbname and self.keep_db:
            print(f"kept database {self.dbname} ({db_url(self.dbname)})")
        self.tmp.cleanup()

    def server_pids(self) -> list[int]:
        """gunicorn master and its workers."""
        if self.proc is None:
            return []
        return [self.proc.pid, *children(self.proc.pid)]

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


@contextmanager
def running_server(**kw):
    srv = Server(**kw)
    try:
        srv.prepare()
        srv.start()
        yield srv
    finally:
        srv.cleanup()


# ---------------------------------------------------------------- /proc accounting


def children(ppid: int) -> list[int]:
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == ppid:
                out.append(int(d))
        except (OSError, IndexError, ValueError):
            continue
    return out


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of one process (all threads), in seconds; 0 if gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return 0.0


def system_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine."""
    with open("/proc/stat") as f:
        vals = [int(v) for v in f.readline().split()[1:]]
    idle = vals[3] + vals[4]
    return sum(vals) - idle, sum(vals)


class CpuMeter:
    """CPU seconds consumed by groups of processes between start() and stop()."""

    def __init__(self, groups: dict[str, list[int]]):
        self.groups = groups

    def start(self):
        self._t0 = time.perf_counter()
        self._sys0 = system_cpu()
        self._self0 = time.process_time()
        self._c0 = {g: {p: proc_cpu_seconds(p) for p in pids} for g, pids in self.groups.items()}
        return self

    def stop(self) -> dict:
        wall = time.perf_counter() - self._t0
        busy1, tot1 = system_cpu()
        busy0, tot0 = self._sys0
        out = {"wall": wall, "client": time.process_time() - self._self0,
               "machine_busy_frac": (busy1 - busy0) / max(1, tot1 - tot0)}
        for g, c0 in self._c0.items():
            out[g] = sum(max(0.0, proc_cpu_seconds(p) - v) for p, v in c0.items())
        return out


# ---------------------------------------------------------------- HTTP


def run_threads(target, n: int) -> float:
    """Run ``target(i)`` for i in range(n) on n threads at once; returns the wall seconds until all end."""
    threads = [threading.Thread(target=target, args=(i,), daemon=True) for i in range(n)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


class HttpError(Exception):
    def __init__(self, status, body, method, path):
        super().__init__(f"{method} {path} -> {status}: {body[:500]!r}")
        self.status = status
        self.body = body


class Client:
    """A keep-alive JSON client on http.client (far less client CPU than requests,
    which matters when client and server share two cores)."""

    def __init__(self, port: int, host: str = "127.0.0.1"):
        self.host, self.port = host, port
        self.conn = None

    def _connect(self):
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def call(self, method: str, path: str, body=None, token: str | None = None, *, raw_body: bytes | None = None,
             content_type: str = "application/json"):
        headers = {}
        if token:
            headers["Authorization"] = "Bearer " + token
        payload = raw_body
        if body is not None:
            payload = json.dumps(body).encode()
        if payload is not None:
            headers["Content-Type"] = content_type
        for attempt in (0, 1):
            if self.conn is None:
                self._connect()
            try:
                self.conn.request(method, path, body=payload, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
                if resp.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                    http.client.CannotSendRequest, http.client.ResponseNotReady):
                # keep-alive connection closed by the server between requests: reconnect once
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        if resp.status >= 400:
            raise HttpError(resp.status, data.decode(errors="replace"), method, path)
        return json.loads(data) if data else None

    def close(self):
        if self.conn is not None:
            self.conn.close()


def login(client: Client, username: str, password: str = DEMO_PASSWORD) -> str:
    return client.call("POST", "/api/v1/auth/login", {"username": username, "password": password})["access_token"]


def deploy(client: Client, token: str, files: dict[str, str]) -> dict:
    boundary = "----anjianbench" + uuid.uuid4().hex
    parts = []
    for name, content in files.items():
        data = content.encode() if isinstance(content, str) else content
        parts.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n"
                     f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return client.call("POST", "/api/v1/deployments", token=token, raw_body=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


# ---------------------------------------------------------------- statistics


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of ``values``."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(p / 100.0 * len(s)) - 1))
    return s[k]


def fmt_ms(values: list[float], ps=(50, 95, 99)) -> str:
    return "  ".join(f"p{p}={percentile(values, p) * 1000:.1f}" for p in ps) + " ms"


class PgActivitySampler:
    """Samples pg_stat_activity of one database in a thread: what the backends
    serving the API are doing (running, waiting on a lock, idle in transaction…)."""

    def __init__(self, dbname: str, interval: float = 0.02):
        import threading

        self.dbname = dbname
        self.interval = interval
        self.samples = 0
        self.counts: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        with _admin() as conn:
            while not self._stop.is_set():
                rows = conn.execute(
                    "SELECT state, wait_event_type, wait_event FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()", (self.dbname,)).fetchall()
                self.samples += 1
                for state, wtype, wev in rows:
                    if state == "idle":
                        continue
                    key = f"{state}" + (f" / {wtype}:{wev}" if wtype else " / on CPU")
                    self.counts[key] = self.counts.get(key, 0) + 1
                self._stop.wait(self.interval)

    def start(self):
        self._thread.start()
        return self

    def stop(self) -> dict[str, float]:
        """Average number of backends in each (state / wait event), per sample."""
        self._stop.set()
        self._thread.join()
        return {k: v / max(1, self.samples) for k, v in sorted(self.counts.items(), key=lambda kv: -kv[1])}
