"""The OpenAPI document tells the truth: a bounded schemathesis run against a real server.

A real ``anjian serve`` (gunicorn, embedded mode on a temporary SQLite database, migrated, the library
deployed, the sample plant seeded, instances, a device with alerts, hub records and an analysis run
in place) answers every operation of its own /api/v1/openapi.json, with tokens of several roles and
without one. Every answer must pass schemathesis' checks: no 5xx, a documented status, the documented
content type, a body matching the documented schema (problem+json for errors) and the documented headers.

First a fixed set of valid requests (so each 2xx body is checked against real data), then generated
ones: ``ANJIAN_CONTRACT_EXAMPLES`` valid-by-schema examples per operation (default 15) and
``ANJIAN_CONTRACT_NEGATIVE_EXAMPLES`` invalid ones (default 5), derandomized so a run is repeatable.
Nothing is skipped: without schemathesis, or when the server does not come up, the test fails.
"""
from __future__ import annotations

import json
import os
import time

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.live_server import PASSWORD, live_server

# admin, supervision, worker, designer, and no token at all.
ROLES = ("admin", "safety1", "worker1", "designer1", None)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
EXAMPLES = int(os.environ.get("ANJIAN_CONTRACT_EXAMPLES", "15"))
NEGATIVE_EXAMPLES = int(os.environ.get("ANJIAN_CONTRACT_NEGATIVE_EXAMPLES", "5"))
# Bodies no JSON parser should turn into a 500: cut short, nested past any recursion limit, a lone
# surrogate, a number too long to convert, not JSON at all.
MALFORMED = (b'{"a": ', b"[" * 2000 + b"]" * 2000, b'{"a": "\\ud800"}',
             b'{"a": ' + b"9" * 5000 + b"}", b"\xff\xfe not json")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A real server on a free port: embedded mode, SQLite, library deployed, sample plant seeded."""
    with live_server(tmp_path_factory.mktemp("contract"), secret="contract-test-secret") as live:
        yield live.url


def _call(base, method, path, user_token=None, **kw):
    headers = {"Authorization": f"Bearer {user_token}"} if user_token else {}
    return requests.request(method, base + path, headers=headers, timeout=30, **kw)


@pytest.fixture(scope="module")
def world(server):
    """Tokens of several roles and real ids: instances, tasks, a device with alerts, hub records, a run."""
    users = ("admin", "safety1", "worker1", "designer1", "prod1")
    tokens = {}
    for u in users:
        r = _call(server, "POST", "/api/v1/auth/login", json={"username": u, "password": PASSWORD})
        assert r.status_code == 200, r.text
        tokens[u] = r.json()["access_token"]

    def ok(method, path, user="admin", status=(200, 201), **kw):
        r = _call(server, method, path, tokens[user], **kw)
        assert r.status_code in status, f"{method} {path}: {r.status_code} {r.text[:500]}"
        return r.json()

    hot = ok("POST", "/api/v1/process-instances", "prod1",
             json={"process_key": "hot_work_permit", "variables": {"area": "unit-1"}})
    hazard = ok("POST", "/api/v1/process-instances", "prod1", json={"process_key": "hazard_rectification"})
    cancelled = ok("POST", "/api/v1/process-instances", "prod1", json={"process_key": "hazard_rectification"})
    ok("POST", f"/api/v1/process-instances/{cancelled['id']}/cancel", "safety1", json={"reason": "contract test"})
    ok("POST", "/api/v1/devices", json={"id": "GT-301", "type": "combustible_lel", "area": "tank-farm-3",
                                        "gas": "methane"})
    telemetry = ok("POST", "/api/v1/telemetry", json=[{"device": "GT-301", "value": 5},
                                                      {"device": "GT-301", "value": 60}])
    ok("POST", "/api/v1/hub/equipment", json={"code": "P-101", "area": "unit-1"})
    ok("POST", "/api/v1/hub/hazard", json={"ref": "H-1", "found_at": "2026-11-03T08:00:00Z", "area": "unit-1"})
    ok("POST", "/api/v1/analytics/runs", json={"period": "2026-11"})
    ok("PUT", "/api/v1/duties/worker", json={"title": "作业人员职责", "duties": [
        {"code": "W1", "title": "申请作业", "tasks": [{"process_key": "hot_work_permit", "bpmn_id": "hw_apply"}]}]})
    # An instance whose first step fails: an incident to read and resolve.
    from engine.bpmn_builder import ProcessBuilder

    b = ProcessBuilder("contract_incident", "契约测试 (脚本错误)")
    b.lane("production")
    b.start().script("boom", "除零", "ratio = 1 / 0").user("see", "查看", lane="production").end()
    b.chain("start", "boom", "see", "end")
    m = ProcessBuilder("contract_message", "契约测试 (消息启动)")
    m.lane("supervision")
    m.start("start", "收到消息", message="contract_start").user("handle", "处置", lane="supervision").end()
    m.chain("start", "handle", "end")
    ok("POST", "/api/v1/deployments", "designer1", files=[("files", ("contract_incident.bpmn", b.to_xml())),
                                                          ("files", ("contract_message.bpmn", m.to_xml()))])
    failed = ok("POST", "/api/v1/process-instances", "prod1", json={"process_key": "contract_incident"})
    incidents = ok("GET", f"/api/v1/incidents?instance_id={failed['id']}")["items"]
    assert incidents, f"no incident for the failing script: {failed}"
    # A second version of it, so a diff between two versions has something to say.
    b2 = ProcessBuilder("contract_incident", "契约测试 (脚本错误)")
    b2.lane("production")
    b2.start().script("boom", "除零", "ratio = 2 / 0").user("see", "查看", lane="production").end()
    b2.chain("start", "boom", "see", "end")
    ok("POST", "/api/v1/deployments", "designer1", files=[("files", ("contract_incident.bpmn", b2.to_xml()))])
    # A completion with a valid form, so the completion's answer is checked too.
    report = {"location": "合成装置区 P-101 泵旁", "description": "P-101 出口法兰渗漏，地面有油迹",
              "found_at": "2026-11-03T08:00:00+00:00", "reported_level": "general"}
    # A browser session (cookie + CSRF): GET /auth/session reads the cookie only.
    browser = _call(server, "POST", "/api/v1/auth/session", json={"username": "worker1", "password": PASSWORD})
    assert browser.status_code == 200, browser.text
    return {"session_cookie": browser.cookies["anjian_session"], "tokens": tokens, "hot": hot, "hazard": hazard, "cancelled": cancelled, "failed": failed,
            "incident": incidents[0]["id"], "report": report, "message_bpmn": m.to_xml().encode(),
            "task": hot["active_tasks"][0]["id"], "hazard_task": hazard["active_tasks"][0]["id"],
            "alerts": [a["id"] for a in telemetry["alerts"]]}


class Upload:
    """A multipart body: ``files`` as (filename, bytes) under one form field."""

    def __init__(self, field: str, files: list[tuple[str, bytes]]):
        self.field, self.files = field, files


def _valid_requests(w) -> list[tuple]:
    """(method, path template, path parameters, query, body, user): each must answer 2xx."""
    hot, task = w["hot"]["id"], w["task"]
    a1, a2 = w["alerts"][:2]
    return [
        ("GET", "/api/v1/me", {}, None, None, "worker1"),
        ("POST", "/api/v1/auth/session", {}, None, {"username": "worker1", "password": PASSWORD}, None),
        ("DELETE", "/api/v1/auth/session", {}, None, None, None),
        ("GET", "/api/v1/me/startable-processes", {}, None, None, "worker1"),
        ("GET", "/api/v1/me/startable-processes", {}, None, None, "safety1"),
        ("GET", "/api/v1/process-definitions", {}, None, None, "worker1"),
        ("GET", "/api/v1/process-definitions/{key}", {"key": "hot_work_permit"}, None, None, "designer1"),
        ("GET", "/api/v1/process-definitions/{key}/{version}/xml", {"key": "hot_work_permit", "version": 1},
         None, None, "designer1"),
        ("GET", "/api/v1/process-instances", {}, {"page_size": 5}, None, "admin"),
        ("GET", "/api/v1/process-instances/{instance_id}", {"instance_id": hot}, None, None, "safety1"),
        ("GET", "/api/v1/process-instances/{instance_id}", {"instance_id": w["cancelled"]["id"]}, None, None,
         "admin"),
        ("GET", "/api/v1/process-instances/{instance_id}/diagram.svg", {"instance_id": hot}, None, None, "admin"),
        ("GET", "/api/v1/tasks", {}, {"mine": "true"}, None, "worker1"),
        ("GET", "/api/v1/tasks/{task_id}", {"task_id": task}, None, None, "worker1"),
        ("POST", "/api/v1/tasks/{task_id}/claim", {"task_id": task}, None, None, "worker1"),
        ("POST", "/api/v1/tasks/{task_id}/unclaim", {"task_id": task}, None, None, "worker1"),
        ("POST", "/api/v1/tasks/{task_id}/assign", {"task_id": task}, None, {"user": "worker1"}, "admin"),
        ("POST", "/api/v1/tasks/{task_id}/complete", {"task_id": w["hazard_task"]}, None, {"data": w["report"]},
         "worker1"),
        ("GET", "/api/v1/incidents", {}, None, None, "admin"),
        ("GET", "/api/v1/incidents/{incident_id}", {"incident_id": w["incident"]}, None, None, "admin"),
        ("GET", "/api/v1/process-instances/{instance_id}", {"instance_id": w["failed"]["id"]}, None, None, "admin"),
        ("POST", "/api/v1/incidents/{incident_id}/resolve", {"incident_id": w["incident"]}, None,
         {"comment": "handled outside the process"}, "admin"),
        ("GET", "/api/v1/connectors", {}, None, None, "admin"),
        ("GET", "/api/v1/connectors/{name}", {"name": "mes"}, None, None, "admin"),
        ("GET", "/api/v1/devices", {}, None, None, "admin"),
        ("GET", "/api/v1/devices/{device_id}", {"device_id": "GT-301"}, None, None, "safety1"),
        ("GET", "/api/v1/devices/{device_id}/readings", {"device_id": "GT-301"}, None, None, "safety1"),
        ("GET", "/api/v1/devices/{device_id}/readings/downsampled", {"device_id": "GT-301"}, None, None, "safety1"),
        ("GET", "/api/v1/alerts", {}, None, None, "safety1"),
        ("GET", "/api/v1/permits", {}, None, None, "safety1"),
        ("GET", "/api/v1/permits", {}, {"status": "applied,in_review", "type": "hot_work", "area": "unit-1"}, None,
         "admin"),
        ("GET", "/api/v1/permits", {}, {"mine": "true"}, None, "worker1"),
        ("GET", "/api/v1/escalations", {}, {"overdue": "false"}, None, "safety1"),
        ("GET", "/api/v1/alerts/{alert_id}", {"alert_id": a1}, None, None, "safety1"),
        ("POST", "/api/v1/alerts/{alert_id}/acknowledge", {"alert_id": a1}, None, {"comment": "seen"}, "safety1"),
        ("POST", "/api/v1/alerts/{alert_id}/dispose", {"alert_id": a2}, None,
         {"cause": "sensor drift", "action": "recalibrated"}, "safety1"),
        ("PATCH", "/api/v1/devices/{device_id}", {"device_id": "GT-301"}, None, {"name": "3# 罐区可燃气体"}, "admin"),
        ("POST", "/api/v1/devices/import", {}, None, [{"id": "OX-1", "type": "o2", "area": "unit-1"}], "admin"),
        ("DELETE", "/api/v1/devices/{device_id}", {"device_id": "OX-1"}, None, None, "admin"),
        ("POST", "/api/v1/telemetry", {}, None, {"device": "GT-301", "value": 3.5}, "admin"),
        ("GET", "/api/v1/dead-letters", {}, None, None, "admin"),
        ("GET", "/api/v1/audit", {}, {"page_size": 20}, None, "admin"),
        ("GET", "/api/v1/audit", {}, {"instance_id": hot}, None, "safety1"),
        ("GET", "/api/v1/audit/verify", {}, None, None, "admin"),
        ("GET", "/api/v1/audit/verify", {}, {"instance_id": hot}, None, "prod1"),
        ("GET", "/api/v1/process-definitions/{key}/diff", {"key": "contract_incident"}, {"from": 1, "to": 2}, None,
         "designer1"),
        ("GET", "/api/v1/hub/kinds", {}, None, None, "worker1"),
        ("GET", "/api/v1/hub/focus-items", {}, {"status": "all"}, None, "safety1"),
        ("GET", "/api/v1/hub/recommendations", {}, {"status": "all"}, None, "safety1"),
        ("POST", "/api/v1/hub/sync-processes", {}, None, None, "admin"),
        ("GET", "/api/v1/hub/{kind}", {"kind": "equipment"}, None, None, "safety1"),
        ("POST", "/api/v1/hub/{kind}", {"kind": "equipment"}, None, {"code": "P-101", "area": "unit-1", "name": "进料泵"},
         "admin"),
        ("POST", "/api/v1/hub/{kind}", {"kind": "equipment"}, None, {"code": "P-102", "area": "unit-1"}, "admin"),
        ("GET", "/api/v1/hub/{kind}/{record_id}", {"kind": "hazard", "record_id": 1}, None, None, "safety1"),
        ("GET", "/api/v1/analytics/runs", {}, None, None, "safety1"),
        ("POST", "/api/v1/analytics/runs", {}, None, {"period": "2026-10", "analyses": ["permits"]}, "safety1"),
        ("GET", "/api/v1/analytics/{analysis}", {"analysis": "equipment_load"}, {"period": "2026-11"}, None,
         "safety1"),
        ("GET", "/api/v1/reports/fusion", {}, {"period": "2026-11", "format": "json"}, None, "safety1"),
        ("GET", "/api/v1/reports/fusion", {}, {"period": "2026-11", "format": "html"}, None, "safety1"),
        ("GET", "/api/v1/reports/fusion", {}, {"period": "2026-09", "format": "json"}, None, "safety1"),  # no runs
        ("GET", "/api/v1/assessments", {}, {"period": "2026-11"}, None, "safety1"),
        ("GET", "/api/v1/reports/fusion/charts/{name}", {"name": "trend"}, {"period": "2026-11"}, None, "safety1"),
        ("GET", "/api/v1/org/vocabulary", {}, None, None, "admin"),
        ("GET", "/api/v1/org/users", {}, {"q": "safety", "role": "supervision", "page_size": 5}, None, "admin"),
        ("GET", "/api/v1/me/duties", {}, None, None, "worker1"),
        ("GET", "/api/v1/duties/lanes", {}, None, None, "admin"),
        ("GET", "/api/v1/duties/{role}", {"role": "worker"}, None, None, "worker1"),
        ("GET", "/api/v1/duties/{role}/versions", {"role": "worker"}, None, None, "worker1"),
        ("PUT", "/api/v1/duties/{role}", {"role": "team_leader"}, None,
         {"title": "班组长职责", "duties": [{"code": "L1", "title": "现场确认"}]}, "admin"),
        ("POST", "/api/v1/messages", {}, None, {"name": "contract_start"}, "safety1"),
        ("POST", "/api/v1/process-instances", {}, None, {"process_key": "hazard_rectification"}, "prod1"),
        ("POST", "/api/v1/process-instances/{instance_id}/cancel", {"instance_id": w["hazard"]["id"]}, None,
         {"reason": "contract test"}, "safety1"),
        ("POST", "/api/v1/devices", {}, None, {"id": "H2S-1", "type": "h2s", "area": "tank-farm-3"}, "admin"),
        ("POST", "/api/v1/hub/{kind}/import", {"kind": "equipment"}, None,
         Upload("file", [("equipment.csv", "code,area,name\nP-103,unit-1,回流泵\n".encode())]),
         "admin"),
        ("POST", "/api/v1/deployments/validate", {}, None,
         Upload("files", [("contract_message.bpmn", w["message_bpmn"])]), "designer1"),
    ]


def _any_value(parameter):
    """A value of the right type for a path parameter (malformed bodies need a route that matches)."""
    return 1 if parameter.definition.get("schema", {}).get("type") == "integer" else "x"


def _describe(exc: BaseException) -> str:
    inner = getattr(exc, "exceptions", None)
    if inner:
        return "; ".join(_describe(e) for e in inner)
    title = getattr(exc, "title", None) or type(exc).__name__
    message = getattr(exc, "message", None) or str(exc)
    return f"{title}: {message[:600]}"


class Contract:
    """Calls operations of the server's own document and collects every failed check."""

    def __init__(self, server, tokens):
        self.server = server
        self.tokens = {**tokens, None: None}
        schema = schemathesis.openapi.from_url(f"{server}/api/v1/openapi.json")
        self.operations = [r.ok() for r in schema.get_all_operations()]
        self.by_label = {op.label: op for op in self.operations}
        self.failures: list[str] = []
        self.calls = 0

    def check(self, case, user, expect_2xx=False, extra_headers=None, **call):
        headers = {"Authorization": f"Bearer {self.tokens[user]}"} if user else {}
        headers.update(extra_headers or {})
        response = case.call(base_url=self.server, headers=headers, timeout=60, **call)
        self.calls += 1
        label = f"{case.operation.label} as {user or 'no token'} -> {response.status_code}"
        if expect_2xx and not 200 <= response.status_code < 300:
            self.failures.append(f"{label}: expected 2xx for a valid request: {response.text[:300]}")
        try:
            case.validate_response(response, checks=CHECKS)
        except BaseException as exc:  # noqa: BLE001 - schemathesis raises a group of check failures
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            shown = {**headers, "Authorization": "Bearer …"} if user else headers
            self.failures.append(f"{label}: {_describe(exc)}\n    {case.as_curl_command(headers=shown)[:400]}")

    def assert_clean(self, what: str, started: float) -> None:
        print(f"\n{what}: {len(self.operations)} operations, {self.calls} requests, {len(self.failures)} failures, "
              f"{time.monotonic() - started:.1f} s")
        assert not self.failures, f"{len(self.failures)} mismatch(es) between the server and its OpenAPI " \
            f"document:\n" + "\n".join(self.failures)


def test_openapi_document_matches_the_server(server, world):
    started = time.monotonic()
    contract = Contract(server, world["tokens"])
    assert len(contract.operations) >= 60
    for method, path, path_parameters, query, body, user in _valid_requests(world):
        op = contract.by_label.get(f"{method} {path}")
        assert op is not None, f"{method} {path} is not in the OpenAPI document"
        kwargs = {"path_parameters": path_parameters, "query": query}
        call = {}
        if isinstance(body, Upload):  # requests builds the multipart body: schemathesis would drop file names
            call["files"] = [(body.field, f) for f in body.files]
        elif body is not None:
            kwargs.update(body=body, media_type="application/json")
        contract.check(op.Case(**kwargs), user, expect_2xx=True, **call)
    contract.check(contract.by_label["GET /api/v1/auth/session"].Case(), None, expect_2xx=True,
                   extra_headers={"Cookie": f"anjian_session={world['session_cookie']}"})
    # Refused by gunicorn before the application: still a documented problem+json.
    tasks = contract.by_label["GET /api/v1/tasks"]
    contract.check(tasks.Case(query={"business_key": "k" * 5000}), "worker1")
    contract.check(tasks.Case(), "worker1", extra_headers={f"X-Filler-{i}": "f" * 100 for i in range(120)})

    generated = 0
    for op in contract.operations:
        for mode, examples in ((GenerationMode.POSITIVE, EXAMPLES), (GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES)):
            try:
                strategy = op.as_strategy(generation_mode=mode)
            except Exception:  # noqa: BLE001 - nothing to negate (no parameters, no body)
                continue

            @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
                      phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            @given(case=strategy, user=st.sampled_from(ROLES))
            def run(case, user):
                contract.check(case, user)

            run()
    contract.assert_clean(f"contract run ({EXAMPLES} positive + {NEGATIVE_EXAMPLES} negative examples per "
                          f"operation, {len(_valid_requests(world))} valid requests)", started)


def test_malformed_json_bodies_answer_documented_problems(server, world):
    """Every operation that takes JSON answers a documented problem+json 4xx to a body no parser can take."""
    started = time.monotonic()
    contract = Contract(server, world["tokens"])
    for op in contract.operations:
        if "application/json" not in [b.media_type for b in op.body]:
            continue
        path_parameters = {p.name: _any_value(p) for p in op.path_parameters}
        for raw in MALFORMED:
            contract.check(op.Case(path_parameters=path_parameters), "admin",
                           extra_headers={"Content-Type": "application/json"}, data=raw)
    contract.assert_clean("malformed bodies", started)


def test_every_error_status_is_problem_json(server):
    """The document itself: every documented 4xx/5xx answer is problem+json with the Problem schema."""
    doc = requests.get(f"{server}/api/v1/openapi.json", timeout=30).json()
    responses = doc["components"]["responses"]
    wrong = []
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            statuses = operation["responses"]
            if path != "/api/v1/auth/login" and "401" not in statuses:
                wrong.append(f"{method} {path}: 401 not documented")
            if not any(s.startswith("2") for s in statuses):
                wrong.append(f"{method} {path}: no success answer documented")
            for status, answer in statuses.items():
                answer = responses[answer["$ref"].rsplit("/", 1)[-1]] if "$ref" in answer else answer
                if status.startswith(("4", "5")):
                    content = answer.get("content", {})
                    if list(content) != ["application/problem+json"] or \
                            content["application/problem+json"]["schema"] != {"$ref": "#/components/schemas/Problem"}:
                        wrong.append(f"{method} {path} {status}: {json.dumps(content)[:200]}")
                elif status.startswith("2") and "content" in answer:
                    for media, body in answer["content"].items():
                        if body.get("schema") in (None, {}):
                            wrong.append(f"{method} {path} {status} {media}: no schema")
    assert not wrong, "\n".join(wrong)


def test_a_blueprint_added_later_documents_its_errors_as_problems():
    """The mechanism is the Api's, not a decorator's: any flask-smorest blueprint registered gets it."""
    import flask_smorest
    from flask import Flask
    from flask.views import MethodView
    from marshmallow import Schema, fields

    from api.openapi import DocumentedApi

    app = Flask("later")
    app.config.update(API_TITLE="t", API_VERSION="v1", OPENAPI_VERSION="3.0.3")
    api = DocumentedApi(app)
    blp = flask_smorest.Blueprint("org", __name__, url_prefix="/api/v1/org")

    class Body(Schema):
        code = fields.String(required=True)

    @blp.route("/departments/<string:code>")
    class Department(MethodView):
        @blp.arguments(Body)
        def put(self, body, code):
            return {}

        def get(self, code):
            return {}

    api.register_blueprint(blp)
    ops = api.spec.to_dict()["paths"]["/api/v1/org/departments/{code}"]
    assert sorted(ops["put"]["responses"]) == ["400", "401", "403", "404", "409", "413", "414", "422", "431", "503"]
    assert sorted(ops["get"]["responses"]) == ["401", "403", "404", "414", "431", "503"]
    forbidden = api.spec.to_dict()["components"]["responses"]["FORBIDDEN"]
    assert forbidden["content"] == {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def test_a_binary_device_file_is_a_422_naming_the_file(api):
    """Found by the contract run: an image uploaded as the device file answered 500 (UnicodeDecodeError)."""
    from io import BytesIO

    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"
    r = api.post("/api/v1/devices/import", "admin", data={"file": (BytesIO(png), "devices.png")},
                 content_type="multipart/form-data")
    assert r.status_code == 422, r.data
    assert r.mimetype == "application/problem+json"
    assert r.json["errors"][0]["field"] == "file"
    r = api.post("/api/v1/devices/import", "admin", data=png, content_type="text/csv")
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "file"
    assert api.get("/api/v1/devices", "admin").json["total"] == 0
