"""Sustained MQTT ingest: 500 simulated devices → real Mosquitto → ``anjian ingest`` → PostgreSQL.

Publisher processes send QoS 1 readings (each with its own ``ts``) at ``--rate`` per process or as
fast as the broker takes them, with ~0.2 % malformed or unknown-device messages mixed in. The
default publisher writes pre-encoded PUBLISH packets to a socket (bench/iot_common.RawPublisher,
~6 µs per message) so that ingest, not paho's ~70 µs per publish, is what is measured;
``--publisher paho`` uses paho. Readings/s is counted from the first publish to the moment every
acknowledged message is in the database, and the run checks that none were lost:
acknowledged by the broker = readings stored + dead letters + duplicates. CPU per message is
reported for ingest, publishers, the private broker and the PostgreSQL backends of the database.

    .venv/bin/python bench/ingest.py --private-broker --seconds 30 --publishers 2 --rate 2500
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import random
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.iot_common import AREAS, IotBench, PrivateBroker, RawPublisher, broker_drops, mqtt_client  # noqa: E402

TYPES = [("combustible_lel", "gas", 1.5, 0.5), ("o2", "o2", 20.9, 0.05), ("h2s", "h2s", 0.3, 0.1),
         ("load", "load", 70, 2.0)]


def devices(n: int) -> list[dict]:
    out = []
    for i in range(n):
        t, metric, base, noise = TYPES[i % len(TYPES)]
        row = {"id": f"D{i:04d}", "type": t, "area": AREAS[i % len(AREAS)], "name": f"bench {t} {i}"}
        if t == "combustible_lel":
            row["gas"] = "methane"
        out.append(row)
    return out


def readings(site: str, devs: list[dict], n: int, seed: int = 1) -> list[tuple[str, bytes]]:
    """``n`` (topic, payload) readings of random devices, each a microsecond after the last (unique keys)."""
    rng = random.Random(seed)
    metric_of = {t: (metric, base, noise) for t, metric, base, noise in TYPES}
    us = int(time.time() * 1e6) - 60_000_000
    out = []
    for _ in range(n):
        d = devs[rng.randrange(len(devs))]
        metric, base, noise = metric_of[d["type"]]
        us += 1
        out.append((f"anjian/{site}/{d['area']}/{d['id']}/{metric}",
                    b'{"value": %.3f, "ts": %d.%06d}' % (max(0.0, base + rng.gauss(0, noise)), *divmod(us, 1_000_000))))
    return out


def publish_worker(idx: int, site: str, devs: list[dict], seconds: float, rate: float, out: mp.Queue,
                   kind: str = "raw") -> None:
    rng = random.Random(idx)
    metric_of = {t: (metric, base, noise) for t, metric, base, noise in TYPES}
    plan = [(f"anjian/{site}/{d['area']}/{d['id']}/{metric_of[d['type']][0]}".encode(), *metric_of[d["type"]][1:])
            for d in devs]
    client = RawPublisher(f"{site}-pub-{idx}") if kind == "raw" else mqtt_client(f"{site}-pub-{idx}")
    sent = bad = 0
    last_us = 0
    infos = []
    t_end = time.time() + seconds
    t_first = time.time()
    burst = 200
    while time.time() < t_end:
        batch = []
        for _ in range(burst):
            topic, base, noise = plan[rng.randrange(len(plan))]
            r = rng.random()
            if r < 0.001:
                payload = b"{garbage"
                bad += 1
            elif r < 0.002:
                topic = topic.rsplit(b"/", 2)[0] + b"/NO-SUCH-DEVICE/" + topic.rsplit(b"/", 1)[1]
                payload = b'{"value": 1}'
                bad += 1
            else:
                # a reading's own time makes it unique: (device, ts, metric) is the de-duplication key, so
                # two readings of a publisher never share a microsecond
                last_us = max(int(time.time() * 1e6), last_us + 1)
                payload = b'{"value": %.3f, "ts": %d.%06d}' % (max(0.0, base + rng.gauss(0, noise)),
                                                                *divmod(last_us, 1_000_000))
            batch.append((topic, payload))
        sent += len(batch)
        if kind == "raw":
            client.publish_many(batch)
        else:
            infos.extend(client.publish(t.decode(), p, qos=1) for t, p in batch)
            while len(infos) > 5000:  # bound memory: settle the oldest publishes
                infos.pop(0).wait_for_publish(30)
        if rate:  # paced against the start, so a late burst is caught up instead of lost
            time.sleep(max(0.0, t_first + sent / rate - time.time()))
    if kind == "raw":
        acked = client.wait_acked(120)
        client.close()
    else:
        acked = 0
        for info in infos:
            info.wait_for_publish(60)
        acked = sent - sum(0 if i.is_published() else 1 for i in infos)
        client.loop_stop()
        client.disconnect()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out.put({"idx": idx, "sent": sent, "acked": acked, "bad": bad, "t_first": t_first, "t_last": time.time(),
             "cpu": usage.ru_utime + usage.ru_stime})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--devices", type=int, default=500)
    ap.add_argument("--publishers", type=int, default=2)
    ap.add_argument("--rate", type=float, default=0.0, help="readings/s per publisher (0: as fast as possible)")
    ap.add_argument("--ack-on-receipt", action="store_true", help="pass --ack-on-receipt to anjian ingest")
    ap.add_argument("--ingest-processes", type=int, default=1,
                    help="ingest processes, each subscribed to its own group of areas")
    ap.add_argument("--publisher", choices=["raw", "paho"], default="raw",
                    help="raw: pre-encoded QoS 1 packets on a socket (cheap); paho: one client.publish per reading")
    ap.add_argument("--keep-db", action="store_true")
    ap.add_argument("--private-broker", action="store_true",
                    help="run against our own mosquitto (limits of docker/mosquitto.conf) instead of 127.0.0.1:1883")
    args = ap.parse_args()
    broker = None
    if args.private_broker:
        import os

        broker = PrivateBroker()
        os.environ["ANJIAN_BENCH_MQTT_URL"] = broker.url

    bench = IotBench("anjian_ingest", keep_db=args.keep_db)
    try:
        p = bench.prepare()
        devs = devices(args.devices)
        p.iot.devices.import_rows(None, devs)
        extra = ["--ack-on-receipt"] if args.ack_on_receipt else []
        n = args.ingest_processes
        for i in range(n):
            topics = ",".join(f"anjian/{bench.site}/{a}/+/+" for a in AREAS[i::n])
            bench.start_ingest(*extra, "--client-id", f"{bench.site}-ingest-{i}", "--topic", topics, name=f"ingest-{i}")
        print(f"database {bench.dbname}; {len(devs)} devices in {len(AREAS)} areas; site {bench.site}; "
              f"{args.publishers} publisher process(es) for {args.seconds:g}s "
              f"({'as fast as possible' if not args.rate else f'{args.rate * args.publishers:,.0f}/s'}); "
              f"{n} ingest process(es), ack {'on receipt' if args.ack_on_receipt else 'after commit'}", flush=True)
        out: mp.Queue = mp.Queue()
        shares = [devs[i::args.publishers] for i in range(args.publishers)]
        procs = [mp.Process(target=publish_worker, args=(i, bench.site, shares[i], args.seconds, args.rate, out,
                                                         args.publisher))
                 for i in range(args.publishers)]
        t0 = time.time()
        for pr in procs:
            pr.start()
        samples = []
        results = []
        while len(results) < len(procs):
            try:
                results.append(out.get(timeout=1.0))
            except Exception:  # noqa: BLE001 - queue.Empty
                pass
            c = p.iot.readings.counts()
            samples.append((time.time() - t0, c["readings"] + c["dead_letters"]))
        for pr in procs:
            pr.join()
        acked = sum(r["acked"] for r in results)
        sent = sum(r["sent"] for r in results)
        bad = sum(r["bad"] for r in results)
        t_pub_end = max(r["t_last"] for r in results)
        deadline = time.time() + 120
        last_n, t_done = -1, time.time()
        while time.time() < deadline:
            c = p.iot.readings.counts()
            n = c["readings"] + c["dead_letters"]
            if n != last_n:
                last_n, t_done = n, time.time()
            if n >= acked or time.time() - t_done > 15:  # complete, or nothing more is coming
                break
            time.sleep(0.2)
        c = p.iot.readings.counts()
        stored, dead = c["readings"], c["dead_letters"]
        total = stored + dead
        elapsed = t_done - t0
        print(f"published {sent} ({bad} bad on purpose), acknowledged by broker {acked}")
        print(f"publishing took {t_pub_end - t0:.1f}s; last message stored after {elapsed:.1f}s")
        print(f"ingest throughput: {total / elapsed:,.0f} readings/s end to end")
        steady = [(t, n) for t, n in samples if 3.0 <= t <= args.seconds - 1]
        if len(steady) >= 2:
            (ta, na), (tb, nb) = steady[0], steady[-1]
            print(f"steady state (t={ta:.0f}..{tb:.0f}s): {(nb - na) / (tb - ta):,.0f} readings/s stored")
        cpu = bench.ingest_cpu_seconds()
        pg_cpu = postgres_cpu_seconds(bench.dbname)
        pub_cpu = sum(r["cpu"] for r in results)
        broker_cpu = process_cpu_seconds(broker.proc.pid) if broker is not None else None
        log = bench.stop_ingest()
        stats = ingest_counters(log)
        dup = stats.get("duplicates", 0)
        print(f"ingest counters: received {stats.get('received', '?')} = stored {stats.get('stored', '?')} "
              f"+ dead-lettered {stats.get('dead_lettered', 0)} + duplicates {dup}")
        print(f"in the database: {stored} readings + {dead} dead letters = {total}; with {dup} duplicates "
              f"{total + dup} of {acked} acknowledged by the broker: "
              f"{'none lost' if total + dup == acked else f'MISSING {acked - total - dup}' if total + dup < acked else 'more than sent?'}")
        if total:
            print("CPU per message (µs): " + ", ".join(
                f"{name} {sec / total * 1e6:,.0f}" for name, sec in
                (("ingest", cpu), ("publisher", pub_cpu), ("broker", broker_cpu), ("postgres backends", pg_cpu))
                if sec is not None))
            ours = sum(x for x in (cpu, pub_cpu, broker_cpu, pg_cpu) if x)
            parts = " + ".join(n for n, x in (("ingest", cpu), ("publisher", pub_cpu), ("broker", broker_cpu),
                                              ("postgres backends", pg_cpu)) if x is not None)
            print(f"ingest alone: {total / cpu:,.0f} messages per CPU-second; {parts}: "
                  f"{total / ours:,.0f} messages per CPU-second, i.e. "
                  f"{2 * total / ours:,.0f}/s if it had this machine's 2 CPUs to itself "
                  f"(load average {open('/proc/loadavg').read().split()[0]} on {__import__('os').cpu_count()} CPUs)")
        tail = [ln for ln in log.splitlines() if "ingest stopped" in ln]
        print("\n".join(tail) if tail else log[-2000:])
        if not args.private_broker:
            drops = broker_drops(bench.site)
            if drops:
                print(f"mosquitto logged 'Outgoing messages are being dropped' for our ingest {drops} time(s): "
                      f"its max_queued_messages (default 1000) overflowed while ingest lagged")
    finally:
        bench.cleanup()
        if broker is not None:
            broker.stop()


def process_cpu_seconds(pid: int) -> float | None:
    """user+system CPU seconds of a process (from /proc)."""
    from bench._harness import CLK_TCK

    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


def postgres_cpu_seconds(dbname: str) -> float:
    """CPU of the PostgreSQL backends serving our database (their process title names it); WAL writer and
    checkpointer are shared with other databases and not counted."""
    total = 0.0
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if dbname.encode() in (d / "cmdline").read_bytes():
                    total += process_cpu_seconds(int(d.name)) or 0.0
            except OSError:
                pass
    return total


def ingest_counters(log: str) -> dict:
    """The final counters every ingest process printed ("ingest stopped: {...}"), summed."""
    import ast

    out: dict = {}
    for ln in log.splitlines():
        if "ingest stopped: {" in ln:
            for k, v in ast.literal_eval(ln.split("ingest stopped: ", 1)[1]).items():
                out[k] = out.get(k, 0) + v
    return out


if __name__ == "__main__":
    main()
