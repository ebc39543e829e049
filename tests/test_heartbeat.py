"""Heartbeats the compose health checks read: the processes themselves, not only the services they use.

``anjian heartbeat ingest`` is healthy while the ingest's draining thread runs and its MQTT
subscription is up (a real private Mosquitto, stopped in the middle); the scheduler's
heartbeat is tested with real Redis in tests/test_queues_rq.py.
"""
from __future__ import annotations

import subprocess
import threading

from tests.fixtures.rq_harness import anjian_bin, wait_for
from tests.iot_support import broker, iot  # noqa: F401


def _check(data_dir, name: str, max_age: float = 2.0) -> subprocess.CompletedProcess:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANJIAN_", "DATABASE_", "REDIS_", "MQTT_"))}
    env["ANJIAN_DATA_DIR"] = str(data_dir)
    return subprocess.run([anjian_bin(), "heartbeat", name, "--max-age", str(max_age)], env=env,
                          capture_output=True, text=True, timeout=60)


def test_ingest_beats_while_subscribed_and_stops_beating_when_the_broker_is_gone(broker, iot, tmp_path):  # noqa: F811
    from engine.iot.mqtt import MqttIngest

    r = _check(tmp_path, "ingest")
    assert r.returncode == 1 and "no heartbeat" in r.stderr
    svc = MqttIngest(iot.pipeline, broker.url, client_id="anjian-heartbeat-test", sweep_seconds=3600)
    stop = threading.Event()
    runner = threading.Thread(target=svc.run_forever, args=(stop,), kwargs={"heartbeat_dir": tmp_path}, daemon=True)
    runner.start()
    try:
        wait_for(lambda: _check(tmp_path, "ingest").returncode == 0, 60, 0.2, what="a fresh ingest heartbeat")
        broker.stop()
        r = wait_for(lambda: (lambda x: x if x.returncode == 1 else None)(_check(tmp_path, "ingest")), 60, 0.5,
                     what="the heartbeat to go stale without a broker")
        assert "last heartbeat" in r.stderr
    finally:
        stop.set()
        runner.join(30)
