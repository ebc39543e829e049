"""Shared set-up of the IoT benchmarks: a fresh PostgreSQL database, devices, an ``anjian ingest`` process."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._harness import anjian_bin, create_database, db_url, drop_database  # noqa: E402

MQTT_URL = os.environ.get("ANJIAN_BENCH_MQTT_URL", "mqtt://127.0.0.1:1883")
AREAS = ["unit-1", "tank-farm-3", "pipe-rack-a", "warehouse"]


class IotBench:
    """A database with the sample plant and an ingest subprocess on the machine's broker."""

    def __init__(self, prefix: str, *, keep_db: bool = False):
        self.prefix = prefix
        self.keep_db = keep_db
        self.dbname = create_database(prefix)
        self.url = db_url(self.dbname)
        self.site = f"bench{os.getpid()}"
        self.data_dir = Path(f"/tmp/{self.dbname}")
        self.data_dir.mkdir(exist_ok=True)
        self.ingest_procs: list = []
        self.platform = None
        self.extra_env: dict = {}  # ANJIAN_* settings of this bench (rules file…), for ingest and the Platform

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ANJIAN_", "DATABASE_", "REDIS_", "MQTT_"))}
        env.update({"DATABASE_URL": self.url, "MQTT_URL": os.environ.get("ANJIAN_BENCH_MQTT_URL", MQTT_URL),
                    "ANJIAN_DATA_DIR": str(self.data_dir),
                    "ANJIAN_SECRET_KEY": "bench-secret-key-0123456789-0123456789-abcdef",
                    "ANJIAN_MQTT_CLIENT_ID": f"{self.site}-ingest", "ANJIAN_MQTT_TOPIC": f"anjian/{self.site}/+/+/+"})
        env.update(self.extra_env)
        return env

    def prepare(self):
        """Migrate, seed, and open an in-process Platform on the same database."""
        for cmd in (["migrate"], ["seed"]):
            subprocess.run([anjian_bin(), *cmd], env=self.env(), check=True, capture_output=True)
        from engine.config import Settings
        from engine.platform import Platform

        self.platform = Platform(Settings.from_env(self.env()))
        return self.platform

    def start_ingest(self, *extra: str, name: str = "ingest") -> None:
        """Start an ``anjian ingest`` process (log in ``<data>/<name>.log``) and wait until it is subscribed."""
        log_path = self.data_dir / f"{name}.log"
        log = open(log_path, "wb")
        proc = subprocess.Popen([anjian_bin(), "ingest", *extra], env=self.env(), stdout=log, stderr=subprocess.STDOUT)
        self.ingest_procs.append((proc, log_path))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if "subscribing to" in log_path.read_text(errors="replace"):
                time.sleep(0.3)  # SUBACK
                return
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        raise SystemExit("ingest did not start:\n" + log_path.read_text(errors="replace"))

    def ingest_cpu_seconds(self) -> float:
        """user+system CPU seconds used so far by the ingest processes (from /proc)."""
        from bench._harness import CLK_TCK

        total = 0.0
        for proc, _ in self.ingest_procs:
            try:
                fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / CLK_TCK
            except (OSError, IndexError, ValueError):
                pass
        return total

    def stop_ingest(self) -> str:
        """SIGTERM every ingest process; returns their logs."""
        out = []
        for proc, log_path in self.ingest_procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
            out.append(log_path.read_text(errors="replace"))
        self.ingest_procs = []
        return "\n".join(out)

    def cleanup(self) -> None:
        self.stop_ingest()
        if self.platform is not None:
            self.platform.close()
        if not self.keep_db:
            import shutil

            drop_database(self.dbname)
            shutil.rmtree(self.data_dir, ignore_errors=True)  # the ingest logs were printed


def broker_drops(client_prefix: str, log_path: str = "/var/log/mosquitto/mosquitto.log") -> int:
    """Times the machine's mosquitto logged dropping messages for our clients (its max_queued_messages)."""
    try:
        with open(log_path, errors="replace") as f:
            return sum(1 for ln in f if "being dropped for client" in ln and client_prefix in ln)
    except OSError:
        return -1


class PrivateBroker:
    """A mosquitto of our own on a free port with docker/mosquitto.conf's limits (``--private-broker``)."""

    def __init__(self):
        import shutil
        import socket
        import tempfile

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.dir = Path(tempfile.mkdtemp(prefix="anjian-bench-mosq-"))
        self.dir.chmod(0o777)
        # the queue and in-flight limits of the broker we ship (docker/mosquitto.conf)
        shipped = [ln for ln in (Path(__file__).resolve().parent.parent / "docker" / "mosquitto.conf").read_text()
                   .splitlines() if ln.startswith(("max_queued_messages", "max_inflight_messages"))]
        (self.dir / "m.conf").write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
                                         + "\n".join(shipped) + "\n")
        self.proc = subprocess.Popen([shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c",
                                      str(self.dir / "m.conf")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        self.url = f"mqtt://127.0.0.1:{self.port}"

    def stop(self) -> None:
        import shutil

        self.proc.terminate()
        self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


def mqtt_client(client_id: str, *, inflight: int = 1000):
    """A connected paho publisher on the benchmark broker."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from engine.iot.mqtt import broker_address

    addr = broker_address(os.environ.get("ANJIAN_BENCH_MQTT_URL", MQTT_URL))
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    c.max_inflight_messages_set(inflight)
    c.max_queued_messages_set(0)
    c.connect(addr["host"], addr["port"])
    c.loop_start()
    return c


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


class RawPublisher:
    """A minimal MQTT 3.1.1 QoS 1 publisher on a plain socket, cheap enough not to be the bottleneck.

    paho spends ~100 µs of Python per publish (packet objects, locks, its network thread); this
    one encodes a whole burst of PUBLISH packets into one buffer, writes it with one ``sendall``
    and counts PUBACKs in a reader thread (~5 µs per message). At most ``window`` messages are
    unacknowledged, so packet ids (1..65535) are never reused while in flight. It is what a
    gateway batching its readings looks like to the broker; the bench measures ingest, not paho.
    """

    def __init__(self, client_id: str, *, window: int = 20_000):
        import socket
        import threading

        from engine.iot.mqtt import broker_address

        addr = broker_address(os.environ.get("ANJIAN_BENCH_MQTT_URL", MQTT_URL))
        self.sock = socket.create_connection((addr["host"], addr["port"]))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        cid = client_id.encode()
        # protocol "MQTT" level 4, clean session, keepalive 0 (no pings to interleave with PUBACKs)
        self._send_packet(0x10, b"\x00\x04MQTT\x04\x02\x00\x00" + len(cid).to_bytes(2, "big") + cid)
        connack = self._recv_exact(4)
        if connack[0] != 0x20 or connack[3] != 0:
            raise SystemExit(f"broker refused the bench publisher: {connack!r}")
        self.window = threading.Semaphore(window)
        self.acked = 0
        self.sent = 0
        self._mid = 0
        self._done = threading.Event()
        self._reader = threading.Thread(target=self._read_acks, daemon=True)
        self._reader.start()

    @staticmethod
    def _varint(n: int) -> bytes:
        out = bytearray()
        while True:
            n, digit = n >> 7, n & 0x7F
            out.append(digit | (0x80 if n else 0))
            if not n:
                return bytes(out)

    def _send_packet(self, first: int, body: bytes) -> None:
        self.sock.sendall(bytes([first]) + self._varint(len(body)) + body)

    def _recv_exact(self, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise SystemExit("broker closed the connection")
            buf += chunk
        return buf

    def _read_acks(self) -> None:
        pending = 0  # bytes of a PUBACK split across reads
        while not self._done.is_set():
            try:
                data = self.sock.recv(1 << 16)
            except OSError:
                return
            if not data:
                return
            pending += len(data)
            n, pending = divmod(pending, 4)  # every packet the broker sends a publisher here is a 4-byte PUBACK
            if n:
                self.acked += n
                self.window.release(n)

    def publish_many(self, messages: list[tuple[bytes, bytes]]) -> None:
        """QoS 1 PUBLISH of every (topic, payload), written with one sendall."""
        buf = bytearray()
        varint = self._varint
        for topic, payload in messages:
            self.window.acquire()
            self._mid = self._mid % 65535 + 1
            buf += b"\x32" + varint(4 + len(topic) + len(payload)) + len(topic).to_bytes(2, "big") + topic \
                + self._mid.to_bytes(2, "big") + payload
        self.sock.sendall(buf)
        self.sent += len(messages)

    def wait_acked(self, timeout: float = 60.0) -> int:
        """Wait until every message is acknowledged (or timeout); returns the number acknowledged."""
        deadline = time.monotonic() + timeout
        while self.acked < self.sent and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.acked

    def close(self) -> None:
        self._done.set()
        try:
            self.sock.sendall(b"\xe0\x00")  # DISCONNECT
            self.sock.close()
        except OSError:
            pass
