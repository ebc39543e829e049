"""The stack bench/service_tasks.py and bench/timer_burst.py run on: a fresh PostgreSQL database, a
private redis-server on a free port, the probe connector (tests/rq_connector_pkg) pip-installed in a
temporary directory, and two Platforms on them — ``setup`` (no REDIS_URL: instances created with it
leave their outbox rows unsent) and ``prod`` (relays the outbox to RQ as ``anjian scheduler`` does) —
with the processes ``bench_call`` and ``bench_timer`` deployed. Workers and the scheduler are real
``anjian`` subprocesses (tests/fixtures/rq_harness.py). Everything is removed at the end.

    with running_stack("anjian-bench-x-", "anjian_bench_x") as stack:
        stack.setup.instances.start(WHO, "bench_call", variables={"n": 1})
        stack.start_workers("anjian", 2)
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import func, select, text  # noqa: E402

from engine.bpmn_builder import ProcessBuilder  # noqa: E402
from engine.config import Settings  # noqa: E402
from engine.models import ProcessInstance  # noqa: E402
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


class Stack:
    """The platforms, the private Redis and the worker processes of one bench run."""

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

    def close(self) -> None:
        self.stop_all()
        self.prod.close()
        self.setup.close()


def pct(values: list, p: float):
    """The ``p`` th percentile of sorted ``values`` (nearest rank); None when there are none."""
    if not values:
        return None
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


@contextmanager
def running_stack(prefix: str, database: str, cls: type[Stack] = Stack):
    """A ``cls`` (:class:`Stack` or a bench's subclass) on a fresh database ``<database>_…`` and a
    private redis-server in a temporary directory ``<prefix>…``; stopped and removed on exit."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        workdir = Path(tmp)
        redis = H.RedisServer(workdir / "redis").start()
        try:
            with H.fresh_pg_database(database) as url:
                probe = H.install_probe_connector(workdir / "probe")
                stack = cls(workdir, redis, url, probe)
                try:
                    yield stack
                finally:
                    stack.close()
        finally:
            redis.stop()
