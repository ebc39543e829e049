"""Helpers for the process-library scenario tests (no tests in this module).

``Plant`` deploys the whole library (bpmn/ and forms/) through the REST API
and drives it as the seeded users of engine/sample_plant.py, the way a plant's
employees would: list my tasks, complete one with form data, look at the
instance. Time is moved with time-machine and due timers are fired through
``platform.instances.fire_due_timers`` (what the scheduler does).
"""
from __future__ import annotations

import copy
import hashlib
import json
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


# The analysis of a deployment (engine/definitions.py ``analyse``: BPMN and DMN parsing, form, DMN and
# script checks) is a function of the files, the library's forms and the connector operations only,
# and the scenario tests deploy the same library hundreds of times. A Plant analyses it once per
# session and reuses the answer (a copy) for the same inputs; the deployment is still made through
# the REST API and stored as always. The analysis itself is tested where it is the subject
# (test_library_validation.py, test_deployments_dmn.py, test_deployments*.py).
_ANALYSED: dict[str, list] = {}
# Bearer tokens issued at a Plant's start instant, by (client's backend, start): see Plant._reuse_start_tokens.
_START_TOKENS: dict[tuple[str, datetime], dict[tuple, str]] = {}


def _analysis_key(deployments, files: dict[str, bytes]) -> str:
    h = hashlib.sha256()
    for name, content in sorted(files.items()):
        h.update(name.encode() + b"\0" + hashlib.sha256(content).digest())
    h.update(json.dumps(deployments.library_forms(), sort_keys=True).encode())
    h.update(repr(sorted((name, sorted(op.required_params())) for name, op in deployments._operators().items()))
             .encode())
    return h.hexdigest()


def deploy_library(api, platform, files: dict[str, bytes] | None = None):
    """``api.deploy`` of the library (``files``: it with changes), analysed once per session."""
    files = library_files() if files is None else files
    deployments = platform.deployments
    analyse = deployments.validate

    def validate(given):
        key = _analysis_key(deployments, given)
        if key not in _ANALYSED:
            _ANALYSED[key] = analyse(given)  # raises for an invalid deployment: nothing kept
        return copy.deepcopy(_ANALYSED[key])

    own = vars(deployments).get("validate")  # a test's stand-in, if any, stays
    deployments.validate = validate
    try:
        return api.deploy(files)
    finally:
        if own is None:
            del deployments.validate
        else:
            deployments.validate = own


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


class Plant:
    """The sample plant running the library, seen through the REST API."""

    def __init__(self, api, platform, start: datetime | None = None):
        self.api = api
        self.platform = platform
        self.start_at = start or at("2026-03-02T09:00:00")
        self.clock = time_machine.travel(self.start_at, tick=False)
        self.traveller = self.clock.start()
        self.api._tokens.clear()  # tokens issued at another (real) time
        self._reuse_start_tokens()
        self._tokens_since = self.start_at  # every token held was issued at or after this
        self._moved = False
        r = deploy_library(api, platform)
        assert r.status_code == 201, r.json

    def close(self) -> None:
        self._keep_start_tokens()
        self.clock.stop()
        self.api._tokens.clear()  # tokens issued in travelled time are expired in real time

    # ------------------------------------------------------------------ tokens
    # A login costs an argon2 verification (~0.2 s of CPU) and every scenario test logged its users in
    # again. The clock stands still at the start instant until the first later(): the tokens issued
    # then are the same for every Plant of the session starting at that instant (per backend), and are
    # reused as a client keeps its token, once the server still accepts them (a test may have reset a
    # password or deactivated a user). After a jump the tokens are dropped only when one of them could
    # have expired.

    def _key(self) -> tuple[str, datetime]:
        return (self.api.backend, self.start_at)

    def _reuse_start_tokens(self) -> None:
        from engine.errors import Unauthorized

        for key, token in _START_TOKENS.get(self._key(), {}).items():
            try:
                self.platform.users.principal_from_token(token)
            except Unauthorized:
                continue
            self.api._tokens[key] = token

    def _keep_start_tokens(self) -> None:
        if not self._moved:
            _START_TOKENS[self._key()] = {k: v for k, v in self.api._tokens.items() if k[0] == self.api.backend}

    # ------------------------------------------------------------------ time

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def later(self, **delta) -> datetime:
        """Move the clock forward and fire every due timer, as the scheduler would."""
        self._keep_start_tokens()
        before = self.now()
        self.traveller.shift(timedelta(**delta))
        self._moved = True
        # bearer tokens live token_ttl (8 h): log in again once a token held could have expired
        ttl = timedelta(seconds=self.platform.users.token_ttl)
        if self.now() <= before or self.now() >= self._tokens_since + ttl - timedelta(minutes=1):
            self.api._tokens.clear()
            self._tokens_since = self.now()
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
