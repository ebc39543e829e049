"""Issue 12 §2: `assign` hands a task only to someone who may work on it."""
import pytest

from tests.conftest import DEMO_PASSWORD
from tests.processes import permit_files


@pytest.fixture
def permit(api, platform):
    assert api.deploy(permit_files()).status_code == 201
    platform.users.add_user("dual", DEMO_PASSWORD, ["production", "supervision"], "workshop-1", replace=True)

    def start(user="prod1"):
        r = api.post("/api/v1/process-instances", user, json={"process_key": "permit"})
        assert r.status_code == 201, r.json
        return r.json
    return start


def _complete(api, user, task_id, data=None):
    return api.post(f"/api/v1/tasks/{task_id}/complete", user, json={"data": data or {}})


def _assign(api, by, task_id, user):
    return api.post(f"/api/v1/tasks/{task_id}/assign", by, json={"user": user})


def test_a_department_head_cannot_hand_a_production_task_to_maintenance_or_another_department(api, permit):
    inst = permit()
    tid = inst["active_tasks"][0]["id"]  # apply: production lane, workshop-1
    r = _assign(api, "head1", tid, "maint1")  # maintenance role, maintenance department
    assert r.status_code == 403 and r.headers["Content-Type"] == "application/problem+json"
    assert r.json["reason"] == "role" and "production" in r.json["detail"]
    r = _assign(api, "head1", tid, "prod2")  # production role, storage department
    assert r.status_code == 403 and r.json["reason"] == "department" and "storage" in r.json["detail"]
    # Nothing stored: the task is unassigned and neither of them can complete it.
    task = api.get(f"/api/v1/tasks/{tid}", "head1").json
    assert task["assignee"] is None
    assert _complete(api, "maint1", tid, {"content": "焊接", "workers": 1}).status_code == 403
    assert _complete(api, "prod2", tid, {"content": "焊接", "workers": 1}).status_code == 403
    kinds = [e["kind"] for e in api.get(f"/api/v1/audit?instance_id={inst['id']}", "safety1").json["items"]]
    assert kinds == ["start"]
    # Someone who may work on it can be assigned and completes it.
    assert _assign(api, "head1", tid, "prod1").json["assignee"] == "prod1"
    assert _complete(api, "prod1", tid, {"content": "焊接", "workers": 1}).status_code == 200


def test_a_plant_wide_role_is_inside_every_department(api, permit, platform):
    platform.users.add_user("prodsafe", DEMO_PASSWORD, ["production", "supervision"], "safety", replace=True)
    tid = permit()["active_tasks"][0]["id"]
    assert _assign(api, "safety1", tid, "prodsafe").json["assignee"] == "prodsafe"


def test_segregation_of_duties_bars_the_assignee(api, permit):
    inst = permit(user="dual")
    assert _complete(api, "dual", inst["active_tasks"][0]["id"], {"content": "焊接", "workers": 1}).status_code == 200
    check = api.get(f"/api/v1/tasks?instance_id={inst['id']}&state=ready", "leader1").json["items"][0]
    assert _complete(api, "leader1", check["id"]).status_code == 200
    review = api.get(f"/api/v1/tasks?instance_id={inst['id']}&state=ready", "safety1").json["items"][0]
    assert review["bpmn_id"] == "review"
    r = _assign(api, "safety1", review["id"], "dual")
    assert r.status_code == 403 and r.json["reason"] == "segregation_of_duties" and "apply" in r.json["detail"]
    assert api.get(f"/api/v1/tasks/{review['id']}", "safety1").json["assignee"] is None
    assert _assign(api, "safety1", review["id"], "safety2").json["assignee"] == "safety2"


def test_a_department_head_assigns_only_tasks_of_their_department(api, permit):
    tid = permit(user="prod2")["active_tasks"][0]["id"]  # storage department
    r = _assign(api, "head1", tid, "prod2")
    assert r.status_code == 403 and r.json["reason"] == "department"
    assert api.get(f"/api/v1/tasks/{tid}", "prod2").json["assignee"] is None


def test_an_assignee_demoted_after_the_assignment_can_no_longer_complete(api, permit, platform):
    platform.users.add_user("prod9", DEMO_PASSWORD, ["production"], "workshop-1", replace=True)
    inst = permit()
    tid = inst["active_tasks"][0]["id"]
    assert _assign(api, "head1", tid, "prod9").json["assignee"] == "prod9"
    # The assignment was right when made; then prod9 moves to maintenance (admin, org service).
    platform.users.add_user("prod9", DEMO_PASSWORD, ["maintenance"], "workshop-1", replace=True)
    platform.users.forget("prod9")  # this process re-reads at once (others within the refresh period)
    r = _complete(api, "prod9", tid, {"content": "焊接", "workers": 1})
    assert r.status_code == 403 and "production" in r.json["detail"]
    task = api.get(f"/api/v1/tasks/{tid}", "head1").json
    assert task["state"] == "ready"
    kinds = [e["kind"] for e in api.get(f"/api/v1/audit?instance_id={inst['id']}", "safety1").json["items"]]
    assert "complete" not in kinds
