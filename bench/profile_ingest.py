"""Profile the ingest pipeline (parse → check → store → evaluate) without MQTT, in one thread.

    .venv/bin/python bench/profile_ingest.py [--messages 60000] [--batch 1000]
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import devices, readings  # noqa: E402
from bench.iot_common import IotBench  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--messages", type=int, default=60_000)
    ap.add_argument("--batch", type=int, default=1_000)
    args = ap.parse_args()
    from engine.iot.pipeline import Envelope
    from engine.models import utcnow

    bench = IotBench("anjian_profile")
    try:
        p = bench.prepare()
        devs = devices(500)
        p.iot.devices.import_rows(None, devs)
        envs = [Envelope(topic, payload, utcnow()) for topic, payload in readings(bench.site, devs, args.messages)]
        pipe = p.iot.pipeline
        pipe.handle_envelopes(envs[:args.batch])  # warm caches
        prof = cProfile.Profile()
        t0, c0 = time.perf_counter(), time.process_time()
        prof.enable()
        for i in range(args.batch, len(envs), args.batch):
            pipe.handle_envelopes(envs[i:i + args.batch])
        prof.disable()
        n = len(envs) - args.batch
        cpu = time.process_time() - c0
        print(f"{n} messages: {cpu / n * 1e6:.1f} µs CPU each in this process (profiler on), "
              f"wall {time.perf_counter() - t0:.1f}s")
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
    finally:
        bench.cleanup()


if __name__ == "__main__":
    main()
