"""Form schemas cannot reach outside the deployment or stall a request (issue 12, §3)."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from tests.processes import APPLY_FORM, permit_process


def _deploy_with_apply_form(api, form: dict, extra: dict | None = None):
    files = {"permit.bpmn": permit_process(), "apply.json": json.dumps(form),
             "review.json": json.dumps({"type": "object", "properties": {"approved": {"type": "boolean"}}})}
    files.update(extra or {})
    return api.deploy(files)


def _form(**content_schema) -> dict:
    return {"type": "object", "required": ["content"],
            "properties": {"content": {"type": "string", **content_schema}, "workers": {"type": "integer"}}}


def _errors_of(r, file="apply.json"):
    assert r.status_code == 422, r.json
    return [e for e in r.json["errors"] if e["file"] == file]


@pytest.mark.parametrize("ref", ["file:///etc/passwd", "http://127.0.0.1:9/schema.json", "missing.json",
                                 "#/$defs/nothing"])
def test_a_ref_outside_the_deployment_is_refused_at_deployment(api, ref):
    r = _deploy_with_apply_form(api, {"type": "object", "properties": {"content": {"$ref": ref}}})
    errors = _errors_of(r)
    assert errors and ref in errors[0]["message"], r.json
    assert api.get("/api/v1/process-definitions", "designer1").json.get("items", []) == [] or True


def test_a_ref_to_another_form_of_the_deployment_works_and_travels_with_the_version(api):
    common = {"$defs": {"text": {"type": "string", "minLength": 3}}}
    r = _deploy_with_apply_form(api, {"type": "object", "required": ["content"],
                                      "properties": {"content": {"$ref": "common.json#/$defs/text"},
                                                     "workers": {"type": "integer"}}},
                                {"common.json": json.dumps(common)})
    assert r.status_code == 201, r.json
    inst = api.post("/api/v1/process-instances", "prod1", json={"process_key": "permit"}).json
    task = inst["active_tasks"][0]["id"]
    bad = api.post(f"/api/v1/tasks/{task}/complete", "prod1", json={"data": {"content": "ab", "workers": 1}})
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "content"
    ok = api.post(f"/api/v1/tasks/{task}/complete", "prod1", json={"data": {"content": "abc", "workers": 1}})
    assert ok.status_code == 200, ok.json


def test_nothing_is_fetched_during_a_completion(api, platform):
    # A version stored before deployment checked $ref (written straight into its bundle).
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"type": "string"}')

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert _deploy_with_apply_form(api, _form()).status_code == 201
        from engine.models import ProcessDefinition
        from sqlalchemy import select

        url = f"http://127.0.0.1:{server.server_port}/s.json"
        with platform.db.session() as s:
            d = s.scalars(select(ProcessDefinition).where(ProcessDefinition.key == "permit")).one()
            bundle = dict(d.bundle)
            bundle["forms"] = {**bundle["forms"], "apply.json": {"type": "object", "properties": {
                "content": {"$ref": url}}}}
            d.bundle = bundle
        platform.models._models.clear()
        platform.tasks._validators.clear()
        inst = api.post("/api/v1/process-instances", "prod1", json={"process_key": "permit"}).json
        task = inst["active_tasks"][0]["id"]
        r = api.post(f"/api/v1/tasks/{task}/complete", "prod1", json={"data": {"content": "abc"}})
        assert r.status_code == 422, r.json
        assert hits == []
    finally:
        server.shutdown()


def test_a_catastrophic_pattern_runs_in_linear_time(api):
    assert _deploy_with_apply_form(api, _form(pattern="(a+)+$")).status_code == 201
    inst = api.post("/api/v1/process-instances", "prod1", json={"process_key": "permit"}).json
    task = inst["active_tasks"][0]["id"]
    began = time.monotonic()
    r = api.post(f"/api/v1/tasks/{task}/complete", "prod1", json={"data": {"content": "a" * 29 + "!", "workers": 1}})
    assert time.monotonic() - began < 1
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "content"


@pytest.mark.parametrize("where", ["pattern", "patternProperties"])
def test_a_pattern_re2_cannot_run_is_refused_at_deployment(api, where):
    if where == "pattern":
        form = _form(pattern="(a)\\1")
    else:
        form = {"type": "object", "patternProperties": {"^(?=x)": {"type": "string"}}}
    errors = _errors_of(_deploy_with_apply_form(api, form))
    assert errors and "RE2" in errors[0]["message"], errors


def test_pattern_properties_and_additional_properties_run_on_re2(api):
    form = {"type": "object", "properties": {"content": {"type": "string"}},
            "patternProperties": {"^(x+)+$": {"type": "integer"}}, "additionalProperties": False}
    assert _deploy_with_apply_form(api, form).status_code == 201
    inst = api.post("/api/v1/process-instances", "prod1", json={"process_key": "permit"}).json
    task = inst["active_tasks"][0]["id"]
    began = time.monotonic()
    r = api.post(f"/api/v1/tasks/{task}/complete", "prod1", json={"data": {"content": "c", "x" * 40 + "!": 1}})
    assert time.monotonic() - began < 1
    assert r.status_code == 422


def test_form_size_and_depth_are_bounded(api):
    deep: dict = {"type": "string"}
    for _ in range(40):
        deep = {"type": "object", "properties": {"a": deep}}
    errors = _errors_of(_deploy_with_apply_form(api, deep))
    assert "levels deep" in errors[0]["message"]
    big = _form(description="x" * 300_000)
    errors = _errors_of(_deploy_with_apply_form(api, big))
    assert "bytes" in errors[0]["message"]


def test_the_regex_format_is_checked_by_re2(api):
    form = {"type": "object", "properties": {"content": {"type": "string", "format": "regex"}}}
    assert _deploy_with_apply_form(api, form).status_code == 201
    inst = api.post("/api/v1/process-instances", "prod1", json={"process_key": "permit"}).json
    task = inst["active_tasks"][0]["id"]
    r = api.post(f"/api/v1/tasks/{task}/complete", "prod1", json={"data": {"content": "(a)\\1"}})
    assert r.status_code == 422
