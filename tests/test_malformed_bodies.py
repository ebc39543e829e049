"""Malformed JSON bodies answer 400 problem+json on every endpoint, login included (issue 12, §3)."""
import pytest

from engine.jsoncodec import MalformedJSON, loads_bounded
from tests.processes import permit_files

LONE_SURROGATE = b'{"username": "\\ud800", "password": "x"}'
DEEP = b"[" * 2000 + b"]" * 2000
DEEP_OBJECT = b'{"data": ' + b'{"a": ' * 100 + b"1" + b"}" * 100 + b"}"
LONG_NUMBER = b'{"data": {"workers": ' + b"7" * 5000 + b"}}"
NAN = b'{"data": {"workers": NaN}}'
NOT_UTF8 = b'{"username": "\xff\xfe"}'
BODIES = {"lone_surrogate": LONE_SURROGATE, "deep_array": DEEP, "deep_object": DEEP_OBJECT,
          "long_number": LONG_NUMBER, "nan": NAN, "not_utf8": NOT_UTF8}
REASONS = {"lone_surrogate": "surrogate", "deep_array": "nested deeper", "deep_object": "nested deeper",
           "long_number": "5000 characters", "nan": "unexpected character", "not_utf8": "UTF-8"}


def _post(api, path, body, user=None):
    return api.post(path, user, data=body, content_type="application/json")


def _assert_400(r, kind):
    assert r.status_code == 400, (kind, r.status_code, r.get_data(as_text=True)[:300])
    assert r.mimetype == "application/problem+json"
    assert REASONS[kind] in r.json["detail"], r.json


@pytest.mark.parametrize("kind", sorted(BODIES))
def test_login_refuses_malformed_bodies(api, kind):
    _assert_400(_post(api, "/api/v1/auth/login", BODIES[kind]), kind)


@pytest.mark.parametrize("kind", sorted(BODIES))
def test_every_kind_of_endpoint_refuses_malformed_bodies(api, kind):
    assert api.deploy(permit_files()).status_code == 201
    started = api.post("/api/v1/process-instances", "prod1", json={"process_key": "permit"})
    assert started.status_code == 201, started.json
    task = api.get("/api/v1/tasks?mine=true", "prod1").json["items"][0]
    paths = ["/api/v1/process-instances", f"/api/v1/tasks/{task['id']}/complete", "/api/v1/messages",
             f"/api/v1/process-instances/{started.json['id']}/cancel"]
    for path in paths:
        _assert_400(_post(api, path, BODIES[kind], "prod1"), kind)
    # nothing happened: the task is still ready and the instance still running
    assert api.get(f"/api/v1/tasks/{task['id']}", "prod1").json["state"] == "ready"


def test_bounded_loader_keeps_big_but_sane_numbers():
    assert loads_bounded(b'{"n": 12345678901234567890123}', max_depth=8, max_number_chars=100) == {
        "n": 12345678901234567890123}
    assert loads_bounded('[[[1]]]', max_depth=3, max_number_chars=10) == [[[1]]]
    with pytest.raises(MalformedJSON):
        loads_bounded('[[[[1]]]]', max_depth=3, max_number_chars=10)
    with pytest.raises(MalformedJSON):
        loads_bounded('"\\udc00 and 12345678901234567890"', max_depth=3, max_number_chars=100)


def test_valid_bodies_still_work(api):
    r = api.post("/api/v1/auth/login", json={"username": "worker1", "password": "wrong"})
    assert r.status_code == 401
