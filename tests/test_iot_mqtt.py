"""MQTT ingest against a real Mosquitto: end to end, broker restarts, ingest downtime, fuzzed payloads."""
import json
import time
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from engine.iot.mqtt import MqttIngest
from engine.iot.pipeline import Envelope
from engine.models import utcnow
from engine.principal import SYSTEM
from tests.iot_support import (AREA, OTHER_AREA, alert_files, broker, deploy, gas_detector,  # noqa: F401
                               gas_permit_process, iot, publisher, ready_tasks, start_permit, wait_for)

TOPIC = f"anjian/plant/{AREA}/GT-301/gas"


def _ingest(iot, url, client_id="anjian-ingest-test", **kw):
    svc = MqttIngest(iot.pipeline, url, client_id=client_id, sweep_seconds=3600, **kw)
    svc.start()
    assert svc.wait_connected(10), "ingest did not connect"
    return svc


def _count(iot):
    return iot.readings.counts()


def test_mqtt_reading_raises_red_alert_starts_response_and_suspends_permit(broker, iot, platform):
    deploy(platform, {"permit.bpmn": gas_permit_process(), **alert_files()})
    gas_detector(platform)
    here, there = start_permit(platform, AREA), start_permit(platform, OTHER_AREA)
    svc = _ingest(iot, broker.url)
    pub = publisher(broker.url, "gw-e2e")
    try:
        pub.publish(TOPIC, json.dumps({"value": 2.0, "unit": "%LEL"}), qos=1).wait_for_publish(5)
        assert wait_for(lambda: _count(iot)["readings"] == 1)
        assert ready_tasks(platform, here) == ["work"]
        t0 = time.monotonic()
        pub.publish(TOPIC, json.dumps({"value": 30.0, "quality": "good"}), qos=1).wait_for_publish(5)
        assert wait_for(lambda: ready_tasks(platform, here) == ["stop_work"], timeout=5)
        assert time.monotonic() - t0 < 2.0
        assert ready_tasks(platform, there) == ["work"]
        assert wait_for(lambda: {a["rule"] for a in iot.alerts.list(SYSTEM)["items"]
                                 if a["process_status"]} >= {"permit_pass", "gas_threshold"})
        alerts = {a["rule"]: a for a in iot.alerts.list(SYSTEM)["items"]}
        assert alerts["permit_pass"]["grade"] == "red" and alerts["gas_threshold"]["grade"] == "yellow"
        # each new alert started its own alert_response instance
        assert alerts["permit_pass"]["process_status"] == alerts["gas_threshold"]["process_status"] == "started"
        assert alerts["permit_pass"]["process_instance_id"] != alerts["gas_threshold"]["process_instance_id"]
    finally:
        pub.loop_stop()
        svc.stop()


def _distinct_values(iot):
    from sqlalchemy import func, select

    from engine.iot.models import Reading

    with iot.db.session(write=False) as s:
        return s.scalar(select(func.count(func.distinct(Reading.value))))


def test_broker_restart_mid_stream_loses_nothing(broker, iot, platform):
    """At least once: every reading arrives; one whose ack the broker never got may arrive twice."""
    gas_detector(platform)
    svc = _ingest(iot, broker.url, client_id="ingest-restart")
    pub = publisher(broker.url, "gw-restart")
    try:
        for i in range(50):
            pub.publish(TOPIC, json.dumps({"value": i / 10}), qos=1)
        assert wait_for(lambda: _count(iot)["readings"] >= 50)
        pub.loop_stop()
        broker.stop()
        assert wait_for(lambda: not svc.connected.is_set(), timeout=5)
        # the gateway buffers while the broker is down: QoS 1 publishes queue in the client
        for i in range(50, 100):
            pub.publish(TOPIC, json.dumps({"value": i / 10}), qos=1)
        broker.start()
        pub.loop_start()
        assert wait_for(lambda: _distinct_values(iot) == 100, timeout=30), _count(iot)
        assert svc.connects >= 2 and wait_for(svc.subscribed.is_set, timeout=10)  # SUBACK may follow the backlog
        # and after the reconnect the subscription works for new readings too
        before = _count(iot)["readings"]
        pub.publish(TOPIC, json.dumps({"value": 42.42}), qos=1)
        assert wait_for(lambda: _distinct_values(iot) == 101, timeout=10)
        assert _count(iot)["readings"] == before + 1
        stats = iot.stats.snapshot()  # a redelivered reading without ts cannot be recognised: stored again
        assert stats["received"] == _count(iot)["readings"] + stats.get("duplicates", 0)
    finally:
        pub.loop_stop()
        svc.stop()


def test_readings_published_while_ingest_is_down_arrive_after_it_restarts(broker, iot, platform):
    gas_detector(platform)
    svc = _ingest(iot, broker.url, client_id="ingest-persistent")
    svc.stop()  # the session (subscription + queue) stays on the broker
    pub = publisher(broker.url, "gw-offline")
    try:
        infos = [pub.publish(TOPIC, json.dumps({"value": 1.0 + i / 100}), qos=1) for i in range(200)]
        for info in infos:
            info.wait_for_publish(5)
        assert _count(iot)["readings"] == 0
        broker.stop()  # and even a broker restart in between keeps the queued messages (persistence)
        broker.start()
        svc = _ingest(iot, broker.url, client_id="ingest-persistent")
        assert wait_for(lambda: _count(iot)["readings"] == 200, timeout=20), _count(iot)
    finally:
        pub.loop_stop()
        svc.stop()


def test_bad_messages_over_mqtt_are_dead_lettered_with_topic_and_counted(broker, iot, platform):
    gas_detector(platform)
    svc = _ingest(iot, broker.url, client_id="ingest-dead")
    pub = publisher(broker.url, "gw-dead")
    cases = [(TOPIC, b"{not json"), (f"anjian/plant/{AREA}/GT-999/gas", b'{"value": 1}'),
             (TOPIC, b'{"value": 250}'), (f"anjian/plant/{OTHER_AREA}/GT-301/gas", b'{"value": 1}'),
             (f"anjian/plant/{AREA}/GT-301/o2", b'{"value": 1}'), (TOPIC, b'{"value": 1, "unit": "ppm"}'),
             (TOPIC, b'{"value": 3}')]
    try:
        for topic, body in cases:
            pub.publish(topic, body, qos=1)
        assert wait_for(lambda: sum(_count(iot).values()) == len(cases), timeout=10)
        dead = iot.readings.dead_letters(page_size=20)["items"]
        assert sorted(d["reason"] for d in dead) == ["area_mismatch", "malformed", "out_of_range", "unit_mismatch",
                                                      "unknown_device", "unknown_metric"]
        assert all(d["topic"].startswith("anjian/plant/") for d in dead)
        stats = iot.stats.snapshot()
        assert stats["received"] == 7 and stats["stored"] == 1 and stats["dead_lettered"] == 6
        # an impossible value is also a blue sensor fault on the device
        # (alerts are raised right after the batch is stored: wait for them)
        assert wait_for(lambda: iot.alerts.list(SYSTEM, rule="sensor_fault")["items"])
        fault = iot.alerts.list(SYSTEM, rule="sensor_fault")["items"]
        assert fault and fault[0]["grade"] == "blue" and "250" in fault[0]["title"]
    finally:
        pub.loop_stop()
        svc.stop()


_json_values = st.recursive(st.none() | st.booleans() | st.floats(allow_nan=True) | st.integers() | st.text(max_size=8),
                            lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3),
                            max_leaves=8)
_payloads = st.one_of(
    st.binary(max_size=200),
    _json_values.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({"value": _json_values}, optional={"ts": _json_values, "unit": _json_values,
                                                               "quality": _json_values})
      .map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({"value": st.floats(-1e6, 1e6)}, optional={
        "ts": st.one_of(st.floats(-1e13, 1e13), st.text(max_size=30)), "quality": st.sampled_from(["good", "bad", "x"])})
      .map(lambda v: json.dumps(v).encode()),
)
_topics = st.one_of(st.just(TOPIC), st.just(f"anjian/plant/{AREA}/GT-999/gas"),
                    st.text(st.characters(blacklist_categories=("Cs",)), max_size=40))


@pytest.mark.filterwarnings("ignore")
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(batch=st.lists(st.tuples(_topics, _payloads), min_size=1, max_size=20))
@example(batch=[("anjian/plant/tank-farm-3/GT\x00/gas", b'{"value": 1}'), (TOPIC, b'{"value": 1, "unit": "\x00"}'),
                (TOPIC, b'"\\ud800"'), (TOPIC, b'{"value": 1e400}'), (TOPIC, b'{"value": 1, "ts": 1e300}')])
def test_fuzzed_payloads_never_crash_and_every_message_is_accounted_for(session_platform, batch):
    iot = session_platform.iot
    if iot.devices.lookup("GT-301") is None:
        gas_detector(session_platform)
    before = iot.readings.counts()
    result = iot.pipeline.handle_envelopes([Envelope(t, p, utcnow()) for t, p in batch])
    after = iot.readings.counts()
    assert result["stored"] + result["dead_lettered"] + result["duplicates"] == len(batch)
    assert after["readings"] - before["readings"] == result["stored"]
    assert after["dead_letters"] - before["dead_letters"] == result["dead_lettered"]


def test_fuzzed_payloads_through_the_real_broker_are_all_accounted_for(broker, iot, platform):
    gas_detector(platform)
    svc = _ingest(iot, broker.url, client_id="ingest-fuzz")
    pub = publisher(broker.url, "gw-fuzz")
    examples = []

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(payload=_payloads)
    def collect(payload):
        examples.append(payload)

    collect()
    try:
        for p in examples:
            pub.publish(TOPIC, p, qos=1)
        assert wait_for(lambda: sum(_count(iot).values()) + iot.stats.snapshot().get("duplicates", 0)
                        == len(examples), timeout=20), (_count(iot), len(examples))
        assert iot.stats.snapshot()["received"] == len(examples)
        assert svc.worker._thread.is_alive()
    finally:
        pub.loop_stop()
        svc.stop()


def test_redelivered_reading_is_stored_once_and_raises_no_second_alert(broker, iot, platform):
    """The same QoS 1 reading twice (a gateway's retry, a redelivery): one reading, one alert, counted."""
    deploy(platform, alert_files())
    gas_detector(platform)
    svc = _ingest(iot, broker.url, client_id="ingest-dedup")
    pub = publisher(broker.url, "gw-dedup")
    ts = utcnow().isoformat()
    try:
        for _ in range(2):
            pub.publish(TOPIC, json.dumps({"value": 30.0, "ts": ts}), qos=1).wait_for_publish(5)
        later = json.dumps({"value": 31.0, "ts": utcnow().isoformat()})
        pub.publish(TOPIC, later, qos=1).wait_for_publish(5)
        assert wait_for(lambda: iot.stats.snapshot().get("received", 0) == 3), iot.stats.snapshot()
        stats = iot.stats.snapshot()
        assert stats["stored"] == 2 and stats["duplicates"] == 1 and stats.get("dead_lettered", 0) == 0
        assert _count(iot) == {"readings": 2, "dead_letters": 0}
        # readings are counted as stored before their rules raise the alert: wait for the alert too
        assert wait_for(lambda: [a["process_status"] for a in iot.alerts.list(SYSTEM, rule="gas_threshold")["items"]
                                 if a["process_status"]])
        alerts = iot.alerts.list(SYSTEM, rule="gas_threshold")["items"]
        assert len(alerts) == 1 and alerts[0]["process_status"] == "started"
        # the repeat did not count as an occurrence; the later reading did
        assert alerts[0]["occurrences"] <= 2 and alerts[0]["value"] in (30.0, 31.0)
        assert iot.stats.snapshot()["alerts_opened"] == 1
    finally:
        pub.loop_stop()
        svc.stop()


def test_redelivery_after_ingest_restart_without_ack_is_a_duplicate(broker, iot, platform):
    """Ingest stored a batch but died before its PUBACK: the broker redelivers, nothing is stored twice."""
    gas_detector(platform)
    t0 = utcnow()
    envs = [Envelope(TOPIC, json.dumps({"value": 1.0 + i / 10, "ts": (t0 - timedelta(seconds=i)).isoformat()})
                     .encode(), utcnow()) for i in range(60)]
    first = iot.pipeline.handle_envelopes(envs)  # as if stored, then the process died before acking
    assert first["stored"] == 60 and first["duplicates"] == 0
    svc = _ingest(iot, broker.url, client_id="ingest-redeliver")
    pub = publisher(broker.url, "gw-redeliver")
    try:
        for env in envs:  # the broker hands the same messages over again
            pub.publish(env.topic, env.payload, qos=1)
        assert wait_for(lambda: iot.stats.snapshot().get("received", 0) == 120), iot.stats.snapshot()
        stats = iot.stats.snapshot()
        assert stats["duplicates"] == 60 and stats["stored"] == 60
        assert stats["received"] == stats["stored"] + stats.get("dead_lettered", 0) + stats["duplicates"]
        assert _count(iot)["readings"] == 60
    finally:
        pub.loop_stop()
        svc.stop()


def test_committed_messages_are_acknowledged_so_a_restarted_ingest_gets_none_again(broker, iot, platform):
    """PUBACKs go out in one write per committed batch: after a clean restart the broker redelivers nothing."""
    gas_detector(platform)
    svc = _ingest(iot, broker.url, client_id="ingest-acks")
    pub = publisher(broker.url, "gw-acks")
    try:
        t0 = utcnow()
        for i in range(300):
            pub.publish(TOPIC, json.dumps({"value": 1.0, "ts": (t0 - timedelta(milliseconds=i)).isoformat()}), qos=1)
        assert wait_for(lambda: _count(iot)["readings"] == 300, timeout=20), _count(iot)
        time.sleep(0.3)  # the acks of the last batch leave right after its commit
        svc.stop()
        iot.stats.c.clear()
        svc = _ingest(iot, broker.url, client_id="ingest-acks")
        time.sleep(1.0)
        assert iot.stats.snapshot().get("received", 0) == 0  # nothing unacknowledged was left on the broker
        assert _count(iot)["readings"] == 300
    finally:
        pub.loop_stop()
        svc.stop()


def test_a_message_with_mqtt5_properties_takes_pahos_own_decoder(broker, iot, platform):
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    gas_detector(platform)
    svc = _ingest(iot, broker.url, client_id="ingest-props")
    pub = publisher(broker.url, "gw-props")
    try:
        props = Properties(PacketTypes.PUBLISH)
        props.ContentType = "application/json"
        props.UserProperty = ("gateway", "gw-7")
        pub.publish(TOPIC, json.dumps({"value": 3.5}), qos=1, properties=props).wait_for_publish(5)
        pub.publish(TOPIC, json.dumps({"value": 4.5}), qos=1).wait_for_publish(5)
        assert wait_for(lambda: _count(iot)["readings"] == 2), _count(iot)
        assert sorted(r["value"] for r in iot.readings.readings("GT-301", None, None)["items"]) == [3.5, 4.5]
    finally:
        pub.loop_stop()
        svc.stop()
