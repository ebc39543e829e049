"""Helpers for the process-library scenario tests (no tests in this module).

``Plant`` deploys the whole library (bpmn/ and forms/) through the REST API
and drives it as the seeded users of engine/sample_plant.py, the way a plant's
employees would: list my tasks, complete one with form data, look at the
instance. Time is moved with time-machine and due timers are fired through
``platform.instances.fire_due_timers`` (what the scheduler does).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import time_machine

ROOT = Path(__file__).resolve().parent.parent
LIBRARY_DIRS = (ROOT / "bpmn", ROOT / "forms")


def library_files() -> dict[str, bytes]:
    """Every deployable file of the library (what ``anjian deploy bpmn forms`` sends)."""
    files = {}
    for folder in LIBRARY_DIRS:
        for path in sorted(folder.rglob("*")):
            if "tools" in path.relative_to(folder).parts[:-1]:
                continue  # the generator and its node layout tool (package.json), as the CLI skips them
            if path.is_file() and path.suffix in (".bpmn", ".dmn", ".json"):
                files[path.name] = path.read_bytes()
    return files


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


class Plant:
    """The sample plant running the library, seen through the REST API."""

    def __init__(self, api, platform, start: datetime | None = None):
        self.api = api
        self.platform = platform
        self.clock = time_machine.travel(start or at("2026-03-02T09:00:00"), tick=False)
        self.traveller = self.clock.start()
        self.api._tokens.clear()  # tokens issued at another (real) time
        r = api.deploy(library_files())
        assert r.status_code == 201, r.json

    def close(self) -> None:
        self.clock.stop()
        self.api._tokens.clear()  # tokens issued in travelled time are expired in real time

    # ------------------------------------------------------------------ time

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def later(self, **delta) -> datetime:
        """Move the clock forward and fire every due timer, as the scheduler would."""
        self.traveller.shift(timedelta(**delta))
        self.api._tokens.clear()  # bearer tokens live 8 h; log in again after a jump
        self.platform.instances.fire_due_timers(self.now())
        return self.now()

    def jobs(self) -> None:
        """What the worker does after a commit: service tasks (connectors) and thrown messages."""
        while self.platform.dispatcher.run_once():
            pass

    # ------------------------------------------------------------------ instances

    def start(self, user: str, key: str, variables: dict, business_key: str | None = None) -> int:
        r = self.api.post("/api/v1/process-instances", user,
                          json={"process_key": key, "business_key": business_key, "variables": variables})
        assert r.status_code == 201, r.json
        assert r.json["status"] != "error", r.json
        return r.json["id"]

    def instance(self, instance_id: int) -> dict:
        r = self.api.get(f"/api/v1/process-instances/{instance_id}", "admin")
        assert r.status_code == 200, r.json
        return r.json

    def status(self, instance_id: int) -> str:
        inst = self.instance(instance_id)
        assert not inst["incidents"], inst["incidents"]
        return inst["status"]

    def variables(self, instance_id: int) -> dict:
        return self.instance(instance_id)["variables"]

    def active(self, instance_id: int) -> list[str]:
        """bpmn ids of the ready tasks of an instance (including called processes)."""
        return sorted(t["bpmn_id"] for t in self.instance(instance_id)["active_tasks"])

    # ------------------------------------------------------------------ tasks

    def tasks(self, user: str, instance_id: int | None = None) -> list[dict]:
        """The ready tasks ``user`` may work on (their task list)."""
        query = "/api/v1/tasks?mine=true&page_size=500"
        if instance_id is not None:
            query += f"&instance_id={instance_id}"
        r = self.api.get(query, user)
        assert r.status_code == 200, r.json
        return r.json["items"]

    def sees(self, user: str, instance_id: int) -> list[str]:
        """Names of the tasks ``user`` sees for an instance."""
        return sorted(t["name"] for t in self.tasks(user, instance_id))

    def task(self, user: str, instance_id: int, bpmn_id: str) -> dict:
        found = [t for t in self.tasks(user, instance_id) if t["bpmn_id"] == bpmn_id]
        assert found, f"{user} does not see {bpmn_id}; sees {[t['bpmn_id'] for t in self.tasks(user, instance_id)]}"
        return found[0]

    def form(self, user: str, instance_id: int, bpmn_id: str) -> dict:
        task = self.task(user, instance_id, bpmn_id)
        return self.api.get(f"/api/v1/tasks/{task['id']}", user).json

    def try_complete(self, user: str, instance_id: int, bpmn_id: str, data: dict, *, task_id: str | None = None):
        if task_id is None:
            task_id = self.task(user, instance_id, bpmn_id)["id"]
        return self.api.post(f"/api/v1/tasks/{task_id}/complete", user, json={"data": data})

    def complete(self, user: str, instance_id: int, bpmn_id: str, data: dict | None = None) -> dict:
        r = self.try_complete(user, instance_id, bpmn_id, data or {})
        assert r.status_code == 200, r.json
        assert r.json["instance"]["status"] != "error", self.instance(instance_id)["incidents"]
        return r.json

    def message(self, user: str, name: str, correlation: dict, payload: dict | None = None):
        return self.api.post("/api/v1/messages", user,
                             json={"name": name, "correlation": correlation, "payload": payload or {}})


import pytest  # noqa: E402


@pytest.fixture
def plant(api, platform):
    """The library deployed on a clean platform, the clock stopped at a Monday 09:00 UTC."""
    p = Plant(api, platform)
    yield p
    p.close()
