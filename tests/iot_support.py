"""Helpers of the IoT tests: a private Mosquitto, test diagrams, devices, a publisher."""
from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from engine.bpmn_builder import ProcessBuilder
from engine.principal import SYSTEM
from tests.conftest import service_unavailable
from tests.processes import message_started_process

AREA = "tank-farm-3"
OTHER_AREA = "unit-1"


def gas_permit_process(key="test_hot_work_permit") -> str:
    """A permit-like process: the work task has an interrupting gas_alarm boundary → stop-work task."""
    b = ProcessBuilder(key, "动火作业 (测试)")
    b.lane("production").lane("supervision")
    b.start(variables=["area"]).user("work", "动火作业进行中", lane="production")
    b.message_boundary("gas_alarm", "气体报警", "work", "gas_alarm")
    b.user("stop_work", "停止作业并撤离", lane="supervision")
    b.end("end").end("end2", "已停工")
    b.chain("start", "work", "end")
    b.chain("gas_alarm", "stop_work", "end2")
    return b.to_xml()


def alert_files() -> dict[str, str]:
    """The alert_response process (started by the 'alert' message) as the tests deploy it."""
    return {"alert_response.bpmn": message_started_process("alert_response")}


def start_permit(platform, area=AREA, key="test_hot_work_permit") -> int:
    """Start a permit instance in ``area``; returns its id (it waits at 'work')."""
    return platform.instances.start(SYSTEM, key, None, {"area": area})["id"]


def deploy(platform, files: dict[str, str]) -> None:
    """Deploy diagrams as the designer would."""
    platform.deployments.deploy({k: v.encode() for k, v in files.items()}, "designer1")


def gas_detector(platform, device_id="GT-301", area=AREA, **extra) -> dict:
    """Register a methane %LEL detector (level 1 25 %LEL, level 2 50 %LEL, permit pass 10 %LEL)."""
    return platform.iot.devices.create(SYSTEM, {"id": device_id, "type": "combustible_lel", "area": area,
                                                "gas": "methane", **extra})


def ready_tasks(platform, instance_id) -> list[str]:
    """bpmn ids of the ready tasks of an instance."""
    from sqlalchemy import select

    from engine.models import TaskRecord

    with platform.db.session(write=False) as s:
        return sorted(s.scalars(select(TaskRecord.bpmn_id).where(TaskRecord.instance_id == instance_id,
                                                                  TaskRecord.state == "ready")))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    """A private mosquitto with persistence on a free port, to stop and restart at will."""

    def __init__(self):
        self.binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="anjian-mosq-"))
        self.dir.chmod(0o777)  # run as root, mosquitto drops to its own user and must still write here
        self.conf = self.dir / "mosquitto.conf"
        self.conf.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
                             f"persistence_location {self.dir}/\nautosave_interval 1\n"
                             f"max_queued_messages 100000\nlog_dest stderr\nlog_type all\n")
        self.proc = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> "Broker":
        if not Path(self.binary).exists():
            service_unavailable("mosquitto binary")
        log = open(self.dir / "broker.log", "ab")
        self.proc = subprocess.Popen([self.binary, "-c", str(self.conf)], stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        service_unavailable(f"private mosquitto on port {self.port}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: mosquitto saves its persistence file
            self.proc.wait(10)
        self.proc = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def broker():
    b = Broker().start()
    yield b
    b.cleanup()


@pytest.fixture
def iot(platform):
    """The platform's IoT service with in-memory rule state and caches forgotten."""
    platform.iot.reset_state()
    return platform.iot


def publisher(url: str, client_id: str):
    """A connected paho publisher (MQTT 5, persistent session so QoS 1 survives broker restarts)."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from engine.iot.mqtt import broker_address

    addr = broker_address(url)
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    c.reconnect_delay_set(0.1, 1)
    c.connect(addr["host"], addr["port"], clean_start=False)
    c.loop_start()
    return c


def wait_for(predicate, timeout=10.0, interval=0.02):
    """Poll ``predicate`` until truthy; returns its last value."""
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = predicate()
    return value
