"""Profile ``anjian ingest`` in-process: the paho network thread and the worker thread, each with cProfile.

    .venv/bin/python bench/profile_mqtt.py [--messages 60000]
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import devices, readings  # noqa: E402
from bench.iot_common import IotBench, PrivateBroker, RawPublisher  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--messages", type=int, default=60_000)
    args = ap.parse_args()
    broker = PrivateBroker()
    os.environ["ANJIAN_BENCH_MQTT_URL"] = broker.url
    bench = IotBench("anjian_profile")
    profiles: dict[str, cProfile.Profile] = {}
    try:
        p = bench.prepare()
        devs = devices(500)
        p.iot.devices.import_rows(None, devs)
        from engine.iot import mqtt as m
        from engine.iot.pipeline import IngestWorker

        def profiled(name, fn):
            def run(*a, **kw):
                prof = profiles[name] = cProfile.Profile()
                prof.enable()
                try:
                    return fn(*a, **kw)
                finally:
                    prof.disable()
            return run

        IngestWorker._run = profiled("worker", IngestWorker._run)
        m._IngestClient._thread_main = profiled("network", m._IngestClient._thread_main)
        svc = m.MqttIngest(p.iot.pipeline, broker.url, client_id="prof-ingest", topic=f"anjian/{bench.site}/+/+/+")
        svc.start()
        assert svc.wait_connected(10)
        pub = RawPublisher("prof-pub")
        msgs = [(topic.encode(), payload) for topic, payload in readings(bench.site, devs, args.messages)]
        t0 = time.time()
        c0 = time.process_time()
        for i in range(0, len(msgs), 500):
            pub.publish_many(msgs[i:i + 500])
            time.sleep(0.05)  # ~10,000/s offered
        while p.iot.stats.snapshot().get("received", 0) < args.messages and time.time() - t0 < 300:
            time.sleep(0.1)
        cpu = time.process_time() - c0
        n = p.iot.stats.snapshot().get("received", 0)
        print(f"{n} messages in {time.time() - t0:.1f}s; this process {cpu / n * 1e6:.0f} µs CPU per message "
              f"(publisher thread and profilers included)")
        svc.stop()
        pub.close()
        for name, prof in profiles.items():
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(22)
            print(f"===== {name} thread =====")
            print("\n".join(out.getvalue().splitlines()[:40]))
    finally:
        bench.cleanup()
        broker.stop()


if __name__ == "__main__":
    main()
