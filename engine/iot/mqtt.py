"""``anjian ingest``: MQTT telemetry into the ingest pipeline (paho-mqtt 2.x).

- MQTT 5, stable client id, ``clean_start=False`` and a session expiry: the
  broker keeps the subscription and queues QoS 1 readings while ingest is down
  (mosquitto holds at most ``max_queued_messages`` of them: default 1000,
  docker/mosquitto.conf 1,000,000).
- Automatic reconnect with exponential backoff (1 s … 30 s); subscriptions are
  renewed in ``on_connect`` whether or not the broker kept the session.
- ``on_message`` (``on_fast_message``) only puts the message on the worker's bounded queue. With
  ``ack_after_commit`` (the default) the PUBACK is sent after the batch holding
  the message is committed, so a crash of ingest loses nothing: the broker
  redelivers; the unique (device, ts, metric) of readings turns the redelivered
  copy into a counted duplicate instead of a second reading. The PUBACKs of a
  batch go out in one write.
"""
from __future__ import annotations

import logging
import struct
import threading
import time
from typing import Callable
from urllib.parse import unquote, urlparse

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from engine.iot.pipeline import Envelope, IngestPipeline, IngestWorker
from engine.models import utcnow

log = logging.getLogger("anjian.ingest")
DEFAULT_TOPIC = "anjian/+/+/+/+"
READ_CHUNK = 1 << 16
_PUBACK = struct.Struct("!BBH")


class _IngestClient(mqtt.Client):
    """paho's client with the three costs that dominated a high message rate taken out.

    - paho reads a packet with one ``recv`` per header byte plus one for the body, and
      ``loop_read`` handles one packet per ``select``: here the socket is read in 64 KB
      chunks and every complete packet in them is handled in one pass.
    - per message paho builds an MQTT 5 ``Properties`` and an ``MQTTMessage``: a QoS 1
      message without properties goes straight to ``on_fast_message`` (bench/profile_mqtt.py).
    - ``ack()`` from another thread costs a wake-up write and one ``send`` per PUBACK:
      :meth:`ack_many` queues the PUBACKs of a committed batch as one write.

    All use paho internals (pinned paho-mqtt 2.2.0; tests/test_iot_mqtt.py covers them: broker
    restarts, redelivery, acknowledgements, messages with properties, fuzzed payloads).
    """

    def __init__(self, *args, **kwargs):
        self._rbuf = bytearray()
        self._rpos = 0
        super().__init__(*args, **kwargs)

    def _sock_recv(self, bufsize: int) -> bytes:
        buf, pos = self._rbuf, self._rpos
        if pos >= len(buf):
            data = super()._sock_recv(READ_CHUNK)  # raises BlockingIOError when nothing is there
            if not data:
                return data
            if len(data) <= bufsize:
                return data
            buf[:] = data
            pos = 0
        end = pos + bufsize
        chunk = bytes(buf[pos:end])
        self._rpos = min(end, len(buf))
        if self._rpos >= len(buf):
            buf.clear()
            self._rpos = 0
        return chunk

    def loop_read(self, max_packets: int = 1) -> mqtt.MQTTErrorCode:
        # select() cannot see what is already in our buffer: handle every buffered packet now
        while True:
            rc = super().loop_read(max_packets)
            if rc != mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS or self._rpos >= len(self._rbuf) or self._sock is None:
                return rc

    def _sock_close(self) -> None:
        self._rbuf.clear()  # the next connection starts with an empty read buffer
        self._rpos = 0
        super()._sock_close()

    # (topic, payload, packet id) of a QoS 1 message, manual ack: set by MqttIngest
    on_fast_message: Callable[[str, bytes, int], None] | None = None

    def _handle_publish(self) -> mqtt.MQTTErrorCode:
        """QoS 1 with manual ack and no MQTT 5 properties: hand topic, payload and packet id straight to
        ``on_fast_message``. paho would build a Properties object (~25 µs) and an MQTTMessage per message
        for fields ingest never reads. Anything else takes paho's own path."""
        callback = self.on_fast_message
        if callback is None or (self._in_packet["command"] & 0x06) != 0x02 or not self._manual_ack:
            return super()._handle_publish()
        packet = self._in_packet["packet"]
        try:
            pos = 2 + ((packet[0] << 8) | packet[1])
            topic = bytes(packet[2:pos]).decode("utf-8", errors="replace")
            mid = (packet[pos] << 8) | packet[pos + 1]
            pos += 2
            if self._protocol == mqtt.MQTTv5:
                if packet[pos] != 0:  # the message has properties: let paho decode them
                    return super()._handle_publish()
                pos += 1
        except IndexError:  # malformed: paho's decoder reports it
            return super()._handle_publish()
        with self._in_callback_mutex:
            callback(topic, bytes(packet[pos:]), mid)
        return mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS

    def ack_many(self, mids: list[int]) -> None:
        """PUBACK every message id in one queued write (QoS 1, manual ack)."""
        if mids:
            packet = b"".join(_PUBACK.pack(0x40, 2, mid) for mid in mids)
            self._packet_queue(0x40, packet, 0, 0)


def broker_address(url: str) -> dict:
    """``{host, port, username, password, tls}`` of an ``mqtt://`` / ``mqtts://`` URL."""
    u = urlparse(url if "://" in url else f"mqtt://{url}")
    if u.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
        raise ValueError(f"MQTT_URL must start with mqtt:// or mqtts://, got {url!r}")
    tls = u.scheme in ("mqtts", "ssl")
    return {"host": u.hostname or "127.0.0.1", "port": u.port or (8883 if tls else 1883),
            "username": unquote(u.username) if u.username else None,
            "password": unquote(u.password) if u.password else None, "tls": tls}


class MqttIngest:
    """Subscribes to telemetry and feeds an :class:`IngestWorker`."""

    def __init__(self, pipeline: IngestPipeline, url: str, *, client_id: str = "anjian-ingest",
                 topic: str | list[str] = DEFAULT_TOPIC, session_expiry: int = 7 * 24 * 3600, keepalive: int = 30,
                 receive_maximum: int = 1000, ack_after_commit: bool = True, queue_size: int = 20_000,
                 batch_size: int = 2_000, sweep_seconds: float = 10.0):
        self.pipeline = pipeline
        self.address = broker_address(url)
        self.client_id = client_id
        # several filters partition the plant between ingest processes (e.g. one per group of areas), which
        # keeps each device's rule state in one process
        self.topics = [t.strip() for t in (topic.split(",") if isinstance(topic, str) else topic) if t.strip()]
        self.topic = ",".join(self.topics)
        self.session_expiry = session_expiry
        self.keepalive = keepalive
        self.receive_maximum = receive_maximum
        self.ack_after_commit = ack_after_commit
        self.worker = IngestWorker(pipeline, maxsize=queue_size, batch_size=batch_size, sweep_seconds=sweep_seconds,
                                   acker=self._ack_batch if ack_after_commit else None, heartbeat=self._beat)
        self._heartbeat = None  # set by run_forever: `anjian ingest` writes the heartbeat file compose checks
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.connects = 0
        self._generation = 0
        self.client = self._make_client()

    def _make_client(self) -> mqtt.Client:
        c = _IngestClient(CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv5,
                          manual_ack=self.ack_after_commit)
        if self.address["username"]:
            c.username_pw_set(self.address["username"], self.address["password"])
        if self.address["tls"]:
            c.tls_set()
        c.reconnect_delay_set(min_delay=1, max_delay=30)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_subscribe = self._on_subscribe
        c.on_message = self._on_message
        if self.ack_after_commit:
            c.on_fast_message = self._on_fast_message
        return c

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the worker thread and the network loop (connects, and reconnects, in the background)."""
        self.worker.start()
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.session_expiry
        props.ReceiveMaximum = self.receive_maximum
        self.client.connect_async(self.address["host"], self.address["port"], keepalive=self.keepalive,
                                  clean_start=False, properties=props)
        self.client.loop_start()

    def stop(self) -> None:
        """Disconnect (the session stays on the broker) and finish the queued batch."""
        try:
            self.client.disconnect()
        finally:
            self.client.loop_stop()
            self.worker.stop()

    def _beat(self) -> None:
        """Heartbeat while the draining thread runs and the broker connection is up."""
        if self._heartbeat is not None and self.subscribed.is_set():
            self._heartbeat.beat()

    def run_forever(self, stop: threading.Event, report_every: float = 10.0, heartbeat_dir=None) -> None:
        """Run until ``stop`` is set, logging the counters every ``report_every`` seconds.

        With ``heartbeat_dir`` the draining thread writes the ``ingest`` heartbeat
        there (engine/heartbeat.py) while it runs and the subscription is up.
        """
        if heartbeat_dir is not None:
            from engine.heartbeat import Heartbeat

            self._heartbeat = Heartbeat(heartbeat_dir, "ingest")
        self.start()
        try:
            last = {}
            while not stop.wait(report_every):
                now = self.pipeline.stats.snapshot()
                if now != last:
                    log.info("ingest: %s", ", ".join(f"{k}={v}" for k, v in sorted(now.items())))
                    last = now
        finally:
            self.stop()

    # ------------------------------------------------------------------ callbacks (network thread)

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            log.warning("MQTT connect to %s:%s refused: %s", self.address["host"], self.address["port"], reason_code)
            return
        self._generation += 1
        self.connects += 1
        log.info("MQTT connected to %s:%s as %s (session present: %s); subscribing to %s",
                 self.address["host"], self.address["port"], self.client_id, flags.session_present, self.topic)
        client.subscribe([(t, 1) for t in self.topics])
        self.connected.set()

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        if any(rc.is_failure for rc in reason_codes):
            log.error("subscription to %s refused: %s", self.topic, reason_codes)
            return
        self.subscribed.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        self.connected.clear()
        self.subscribed.clear()
        if reason_code.is_failure:
            log.warning("MQTT connection lost (%s); reconnecting with backoff", reason_code)

    def _on_message(self, client, userdata, msg):
        # the ack token: (connection generation, packet id) — acked after the batch is committed
        token = (self._generation, msg.mid) if self.ack_after_commit and msg.qos == 1 else None
        self.worker.offer(Envelope(msg.topic, msg.payload, utcnow(), None, token))

    def _on_fast_message(self, topic: str, payload: bytes, mid: int) -> None:
        self.worker.offer(Envelope(topic, payload, utcnow(), None, (self._generation, mid)))

    def _ack_batch(self, batch: list[Envelope]) -> None:
        """PUBACK the committed messages of the current connection in one write.

        A message received before a reconnect carries a packet id of the old connection: acking it
        would acknowledge another message, so it is left for the broker to redeliver (a duplicate the
        readings' unique key absorbs).
        """
        generation = self._generation
        mids = [env.token[1] for env in batch if env.token is not None and env.token[0] == generation]
        if mids:
            self.client.ack_many(mids)

    def wait_connected(self, timeout: float = 10.0) -> bool:
        """True once connected and subscribed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.subscribed.is_set():
                return True
            time.sleep(0.01)
        return False
