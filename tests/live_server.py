"""A real ``anjian serve`` for tests that need one over HTTP (the contract test, the browser tests).

Embedded mode on a temporary SQLite data folder: migrated, the library (bpmn/ + forms/) deployed as
designer1, the sample plant seeded with the demo password, gunicorn on a free port of 127.0.0.1.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "anjian-demo"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def anjian_cli() -> str:
    exe = Path(sys.executable).with_name("anjian")
    found = str(exe) if exe.exists() else shutil.which("anjian")
    assert found, "the anjian command is not installed (make install)"
    return found


@dataclass
class LiveServer:
    url: str
    data_dir: Path
    env: dict
    cli: str

    def login(self, username: str, password: str = PASSWORD) -> str:
        """A bearer token of a demo user."""
        r = requests.post(f"{self.url}/api/v1/auth/login", json={"username": username, "password": password},
                          timeout=30)
        assert r.status_code == 200, r.text
        return r.json()["access_token"]

    def call(self, method: str, path: str, user: str | None = None, **kw) -> requests.Response:
        """An API call as a demo user (bearer token), path relative to the server."""
        headers = kw.pop("headers", {})
        if user:
            headers["Authorization"] = f"Bearer {self.login(user)}"
        return requests.request(method, self.url + path, headers=headers, timeout=60, **kw)

    def run(self, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
        """An ``anjian`` command against this server's data folder."""
        return subprocess.run([self.cli, *args], cwd=ROOT, env=self.env, capture_output=True, text=True,
                              timeout=timeout)


@contextmanager
def live_server(data: Path, *, secret: str = "live-server-test-secret", workers: int = 1, extra_env: dict | None = None):
    """Prepare ``data`` (migrate, deploy, seed), serve on a free port, yield a LiveServer, stop it."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "MQTT_URL")}
    env.update(ANJIAN_DATA_DIR=str(data), ANJIAN_SECRET_KEY=secret, PYTHONUNBUFFERED="1", **(extra_env or {}))
    cli = anjian_cli()
    for args in (["migrate"], ["deploy", "bpmn", "forms", "--as", "designer1"], ["seed", "--password", PASSWORD]):
        done = subprocess.run([cli, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"anjian {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    port = free_port()
    log = open(data / "server.log", "w")
    proc = subprocess.Popen([cli, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/readyz", timeout=5).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):  # still starting
                pass
            assert proc.poll() is None, f"the server exited:\n{(data / 'server.log').read_text()[-4000:]}"
            assert time.monotonic() < deadline, "the server did not become ready within 60 s"
            time.sleep(0.2)
        yield LiveServer(base, data, env, cli)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
