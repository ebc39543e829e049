"""Tasks: who sees and completes what, forms, claiming, segregation of duties, due dates."""
from datetime import datetime

import pytest

from tests.conftest import DEMO_PASSWORD
from tests.processes import permit_files


@pytest.fixture
def permit(api):
    assert api.deploy(permit_files()).status_code == 201

    def start(bk=None, user="prod1"):
        r = api.post("/api/v1/process-instances", user, json={"process_key": "permit", "business_key": bk})
        assert r.status_code == 201, r.json
        return r.json
    return start


@pytest.fixture
def extra_users(platform):
    platform.users.add_user("prod1b", DEMO_PASSWORD, ["production"], "workshop-1", replace=True)
    platform.users.add_user("dual", DEMO_PASSWORD, ["production", "supervision"], "workshop-1", replace=True)


def _complete(api, user, task_id, data=None):
    return api.post(f"/api/v1/tasks/{task_id}/complete", user, json={"data": data or {}})


def test_each_role_sees_only_its_tasks_in_its_department(api, permit):
    a = permit("A")
    b = permit("B", user="prod2")  # storage department
    assert {t["instance_id"] for t in api.get("/api/v1/tasks?mine=true", "prod1").json["items"]} == {a["id"]}
    assert {t["instance_id"] for t in api.get("/api/v1/tasks?mine=true", "prod2").json["items"]} == {b["id"]}
    assert api.get("/api/v1/tasks?mine=true", "worker1").json["total"] == 0
    assert api.get("/api/v1/tasks", "worker1").json["total"] == 0
    task_b = b["active_tasks"][0]["id"]
    r = api.get(f"/api/v1/tasks/{task_b}", "prod1")
    assert r.status_code == 403 and "storage" in r.json["detail"]
    assert _complete(api, "prod1", task_b, {"content": "xx", "workers": 1}).status_code == 403
    r = _complete(api, "leader1", a["active_tasks"][0]["id"], {"content": "xx", "workers": 1})
    assert r.status_code == 403 and "production" in r.json["detail"]
    # Supervision sees every department (listing), but completes only supervision tasks.
    assert api.get("/api/v1/tasks?state=ready", "safety1").json["total"] == 2
    assert api.get("/api/v1/tasks?mine=true", "safety1").json["total"] == 0
    assert api.get("/api/v1/tasks/not-a-uuid", "prod1").status_code == 404
    assert api.get("/api/v1/tasks/00000000-0000-0000-0000-000000000000", "prod1").status_code == 404


def test_form_errors_list_every_field_and_store_nothing(api, permit, platform):
    inst = permit()
    tid = inst["active_tasks"][0]["id"]
    detail = api.get(f"/api/v1/tasks/{tid}", "prod1").json
    assert detail["form"]["properties"]["content"]["title"] == "作业内容"
    r = _complete(api, "prod1", tid, {"workers": "two", "start": "yesterday"})
    assert r.status_code == 422
    fields = {e["field"] for e in r.json["errors"]}
    assert fields == {"content", "workers", "start"}
    after = api.get(f"/api/v1/process-instances/{inst['id']}", "prod1").json
    assert after["row_version"] == inst["row_version"] and after["active_tasks"][0]["id"] == tid
    assert [e["kind"] for e in after["timeline"]] == ["start"]
    r = api.post(f"/api/v1/tasks/{tid}/complete", "prod1", json={"data": "not an object"})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "data"
    assert _complete(api, "prod1", tid, {"content": "焊接", "workers": 2,
                                         "start": "2026-11-29T08:00:00+08:00"}).status_code == 200
    assert _complete(api, "prod1", tid, {"content": "焊接", "workers": 2}).status_code == 409


def test_claim_unclaim_assign(api, permit, extra_users):
    tid = permit()["active_tasks"][0]["id"]
    assert api.post(f"/api/v1/tasks/{tid}/claim", "prod1").json["assignee"] == "prod1"
    r = api.post(f"/api/v1/tasks/{tid}/claim", "prod1b")
    assert r.status_code == 409 and "prod1" in r.json["detail"]
    assert _complete(api, "prod1b", tid, {"content": "焊接", "workers": 1}).status_code == 409
    assert api.get("/api/v1/tasks?assignee=me", "prod1").json["total"] == 1
    assert api.get("/api/v1/tasks?mine=true", "prod1b").json["total"] == 0
    assert api.post(f"/api/v1/tasks/{tid}/unclaim", "prod1b").status_code == 403
    assert api.post(f"/api/v1/tasks/{tid}/unclaim", "prod1").json["assignee"] is None
    # Only department heads and supervisors assign; the assignee may then complete it.
    assert api.post(f"/api/v1/tasks/{tid}/assign", "prod1", json={"user": "prod1b"}).status_code == 403
    r = api.post(f"/api/v1/tasks/{tid}/assign", "head1", json={"user": "nobody"})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "user"
    assert api.post(f"/api/v1/tasks/{tid}/assign", "head1", json={"user": "prod1b"}).json["assignee"] == "prod1b"
    assert _complete(api, "prod1", tid, {"content": "焊接", "workers": 1}).status_code == 409
    assert _complete(api, "prod1b", tid, {"content": "焊接", "workers": 1}).status_code == 200


def test_segregation_of_duties(api, permit, extra_users):
    inst = permit(user="dual")
    _complete(api, "dual", inst["active_tasks"][0]["id"], {"content": "焊接", "workers": 1})
    check = api.get(f"/api/v1/tasks?instance_id={inst['id']}&state=ready", "leader1").json["items"][0]
    assert _complete(api, "leader1", check["id"]).status_code == 200
    review = api.get(f"/api/v1/tasks?instance_id={inst['id']}&state=ready", "safety1").json["items"][0]
    assert review["bpmn_id"] == "review"
    r = _complete(api, "dual", review["id"], {"approved": True})
    assert r.status_code == 403
    assert r.json["reason"] == "segregation_of_duties" and "apply" in r.json["detail"]
    assert _complete(api, "safety1", review["id"], {"approved": True}).status_code == 200
    # approve: neither the applicant nor the reviewer.
    approve = api.get(f"/api/v1/tasks?instance_id={inst['id']}&state=ready", "boss1").json["items"][0]
    assert approve["bpmn_id"] == "approve"


def test_due_dates_priority_sorting_and_filters(api, permit):
    for bk in ("P1", "P2"):
        inst = permit(bk)
        _complete(api, "prod1", inst["active_tasks"][0]["id"], {"content": "焊接", "workers": 1})
        check = api.get(f"/api/v1/tasks?instance_id={inst['id']}&state=ready", "leader1").json["items"][0]
        _complete(api, "leader1", check["id"])
    permit("P3")
    review = api.get("/api/v1/tasks?process_key=permit&state=ready&candidate_role=supervision", "safety1").json
    assert review["total"] == 2
    t = review["items"][0]
    created = datetime.fromisoformat(t["created_at"])
    due = datetime.fromisoformat(t["due_at"])
    assert round((due - created).total_seconds()) == 4 * 3600 and t["priority"] == 80
    by_priority = api.get("/api/v1/tasks?state=ready&sort=priority&order=desc", "safety1").json["items"]
    assert [x["priority"] for x in by_priority] == sorted([x["priority"] for x in by_priority], reverse=True)
    due_before = api.get(f"/api/v1/tasks?due_before={t['due_at'].replace('+', '%2B')}&state=ready",
                         "safety1").json
    assert all(x["due_at"] and x["due_at"] < t["due_at"] for x in due_before["items"])
    assert api.get("/api/v1/tasks?sort=name", "safety1").status_code == 422
    completed = api.get("/api/v1/tasks?state=completed&process_key=permit", "safety1").json
    assert completed["total"] == 4 and {x["completed_by"] for x in completed["items"]} == {"prod1", "leader1"}


def test_sorting_by_due_puts_tasks_without_a_deadline_last(api, permit):
    """The workspace lists my tasks soonest due first: an undated task must not push dated ones off page 1."""
    dated = permit("D1")
    _complete(api, "prod1", dated["active_tasks"][0]["id"], {"content": "焊接", "workers": 1})  # → site_check, PT2H
    undated = [permit(f"U{i}")["active_tasks"][0]["id"] for i in range(4)]  # apply: no deadline
    for order in ("asc", "desc"):
        items = api.get(f"/api/v1/tasks?state=ready&process_key=permit&sort=due&order={order}", "safety1").json["items"]
        assert [x["due_at"] is None for x in items] == [False] + [True] * 4, (order, items)
        assert [x["id"] for x in items[1:]] == undated  # then in the order they came
