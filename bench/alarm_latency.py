"""Alarm latency: a breaching reading on the real broker → permit interrupted, stop-work task committed.

For each trial a permit instance is started in ``tank-farm-3`` and waits in its
work task, which has an interrupting ``gas_alarm`` message boundary (the same
shape as bpmn/hot_work_permit.bpmn's ``hw_work``). A normal reading is
published, then a reading above the permit's pass threshold (30 %LEL methane =
1.5 %vol > 0.5 %vol); the clock runs from that publish until the permit's
stop-work task row is committed in PostgreSQL (polled every 2 ms on a separate
connection). Open alerts are closed with a disposal between trials, so every
trial opens a new red alert and starts an alert_response instance too.

``--silent 1000`` (the default) adds that many detectors (spread over the
plant's four areas, the permit's included) that report once and then fall
silent together, with the sensor-fault rule's ``silent_s`` cut to 5 s: from
the first trials on, every data-gap sweep of the ingest process (every 10 s)
finds 1,000 silent detectors and, because the trials close every open alert,
opens their alerts again. Target: p95 < 1 s. ``--silent 0`` measures the alarm
path alone.

    .venv/bin/python bench/alarm_latency.py [--trials 200] [--silent 1000]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.iot_common import IotBench, mqtt_client, percentile  # noqa: E402

AREA = "tank-farm-3"
DEVICE = "GT-LAT-01"


def permit_bpmn() -> str:
    from engine.bpmn_builder import ProcessBuilder

    b = ProcessBuilder("bench_hot_work_permit", "动火作业 (基准)")
    b.lane("production").lane("supervision")
    b.start(variables=["area"]).user("hw_work", "动火作业", lane="production")
    b.message_boundary("gas_alarm", "气体报警", "hw_work", "gas_alarm")
    b.user("stop_work", "停止作业并撤离", lane="supervision")
    b.end("end").end("end2", "已停工")
    b.chain("start", "hw_work", "end")
    b.chain("gas_alarm", "stop_work", "end2")
    return b.to_xml()


def alert_bpmn() -> str:
    from engine.bpmn_builder import ProcessBuilder

    b = ProcessBuilder("alert_response", "预警处置 (基准)")
    b.lane("supervision")
    b.start("start", "收到预警", message="alert", variables=["area", "department"]).user("handle", "处置", lane="supervision").end()
    b.chain("start", "handle", "end")
    return b.to_xml()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--keep-db", action="store_true")
    ap.add_argument("--silent", type=int, default=1000, help="detectors that fall silent together (0: none)")
    ap.add_argument("--silent-s", type=float, default=5.0, help="the sensor-fault rule's silent_s for the bench")
    args = ap.parse_args()

    import psycopg

    from engine.principal import SYSTEM

    bench = IotBench("anjian_alarm", keep_db=args.keep_db)
    try:
        if args.silent:
            from bench.iot_common import AREAS
            from engine.iot.rules import DEFAULT_RULES_PATH

            rules = json.loads(Path(DEFAULT_RULES_PATH).read_text())
            for r in rules["rules"]:
                if r["kind"] == "sensor_fault":
                    r["silent_s"] = args.silent_s
            path = bench.data_dir / "bench_rules.json"
            path.write_text(json.dumps(rules, ensure_ascii=False))
            bench.extra_env["ANJIAN_ALERT_RULES"] = str(path)
        p = bench.prepare()
        # a one-task stand-in for bpmn/alert_response.bpmn: each new alert starts an instance of it
        p.deployments.deploy({"bench_permit.bpmn": permit_bpmn().encode(),
                              "alert_response.bpmn": alert_bpmn().encode()}, "bench")
        p.iot.devices.import_rows(None, [{"id": DEVICE, "type": "combustible_lel", "area": AREA, "gas": "methane"}])
        silent = [{"id": f"GT-SIL-{i:04d}", "type": "combustible_lel", "area": AREAS[i % len(AREAS)], "gas": "methane"}
                  for i in range(args.silent)]
        if silent:
            p.iot.devices.import_rows(None, silent, chunk=500)
        bench.start_ingest()
        pub = mqtt_client(f"{bench.site}-gateway", inflight=100)
        if silent:  # every silent detector reports once, then they all stop at the same moment
            for d in silent:
                pub.publish(f"anjian/{bench.site}/{d['area']}/{d['id']}/gas", json.dumps({"value": 1.0}), qos=1)
            pub.publish(f"anjian/{bench.site}/{AREA}/{DEVICE}/gas", json.dumps({"value": 1.0}), qos=1).wait_for_publish(30)
            t_silent = time.monotonic()
            print(f"{len(silent)} detectors reported once and fell silent; their gap is {args.silent_s:g} s, "
                  f"the ingest sweeps every 10 s", flush=True)
        topic = f"anjian/{bench.site}/{AREA}/{DEVICE}/gas"
        poll = psycopg.connect(bench.url, autocommit=True)
        q = "SELECT 1 FROM tasks WHERE instance_id = %s AND bpmn_id = 'stop_work' AND state = 'ready'"
        latencies, misses = [], 0
        print(f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}; load average {os.getloadavg()[0]:.1f}; "
              f"database {bench.dbname}; {args.trials} trials; topic {topic}", flush=True)
        for trial in range(args.trials):
            inst = p.instances.start(SYSTEM, "bench_hot_work_permit", None, {"area": AREA})["id"]
            pub.publish(topic, json.dumps({"value": 2.0}), qos=1).wait_for_publish(5)
            time.sleep(0.05)
            t0 = time.perf_counter()
            pub.publish(topic, json.dumps({"value": 30.0}), qos=1)
            deadline = t0 + 10
            while time.perf_counter() < deadline:
                if poll.execute(q, (inst,)).fetchone():
                    break
                time.sleep(0.002)
            else:
                misses += 1
                continue
            latencies.append(time.perf_counter() - t0)
            for a in p.iot.alerts.list(SYSTEM, status="active", page_size=50)["items"]:
                p.iot.alerts.dispose(SYSTEM, a["id"], {"cause": "基准测试", "action": "自动关闭"})
            if (trial + 1) % 50 == 0:
                print(f"  {trial + 1} trials, p95 so far {percentile(latencies, 95) * 1000:.0f} ms", flush=True)
        pub.loop_stop()
        if silent:
            from sqlalchemy import func, select

            from engine.iot.models import Alert
            with p.db.session(write=False) as s:
                gap_alerts = s.scalar(select(func.count()).select_from(Alert).where(Alert.rule == "sensor_fault"))
                grouped = s.scalar(select(func.count()).select_from(Alert).where(
                    Alert.rule == "sensor_fault", Alert.device_id.is_(None)))
            print(f"data-gap alerts opened during the run: {gap_alerts} ({grouped} grouped), "
                  f"{time.monotonic() - t_silent:.0f} s after the detectors fell silent")
        ms = [x * 1000 for x in latencies]
        print(f"trials {args.trials}, interrupted {len(ms)}, missed {misses}")
        if ms:
            print(f"latency publish → stop-work task committed: p50 {percentile(ms, 50):.0f} ms, "
                  f"p95 {percentile(ms, 95):.0f} ms, p99 {percentile(ms, 99):.0f} ms, max {max(ms):.0f} ms")
            print(f"targets p95 < 1000 ms: {'met' if percentile(ms, 95) < 1000 else 'NOT met'}; "
                  f"p99 < 2000 ms: {'met' if percentile(ms, 99) < 2000 else 'NOT met'}")
        responders = p.instances.list(SYSTEM, process_key="alert_response", page_size=1)["total"] \
            if hasattr(p.instances, "list") else "?"
        print(f"alert_response instances started: {responders}")
        log = bench.stop_ingest()
        tail = [ln for ln in log.splitlines() if "ingest stopped" in ln]
        print(tail[-1] if tail else log[-1500:])
    finally:
        bench.cleanup()


if __name__ == "__main__":
    main()
