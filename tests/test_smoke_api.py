"""End-to-end over the Flask test client: deploy → start → complete every task."""
from tests.processes import permit_files


def test_permit_lifecycle_over_rest(api):
    r = api.deploy(permit_files())
    assert r.status_code == 201, r.json
    assert r.json["processes"][0] == {"key": "permit", "version": 1, "created": True,
                                      "definition_id": r.json["processes"][0]["definition_id"]}
    r = api.post("/api/v1/process-instances", "prod1",
                 json={"process_key": "permit", "business_key": "HW-1", "variables": {"area": "unit-1"}})
    assert r.status_code == 201, r.json
    inst = r.json
    assert inst["status"] == "running"
    assert [t["bpmn_id"] for t in inst["active_tasks"]] == ["apply"]

    steps = [("prod1", "apply", {"content": "动火焊接", "workers": 2}),
             ("leader1", "site_check", {}),
             ("safety1", "review", {"approved": True}),
             ("boss1", "approve", {}),
             ("safety2", "accept", {})]
    for user, bpmn_id, data in steps:
        mine = api.get("/api/v1/tasks?mine=true&process_key=permit", user).json
        task = next(t for t in mine["items"] if t["bpmn_id"] == bpmn_id)
        r = api.post(f"/api/v1/tasks/{task['id']}/complete", user, json={"data": data})
        assert r.status_code == 200, r.json
    final = api.get(f"/api/v1/process-instances/{inst['id']}", "safety1").json
    assert final["status"] == "completed"
    assert final["variables"]["content"] == "动火焊接"
    kinds = [e["kind"] for e in final["timeline"]]
    assert kinds == ["start"] + ["complete"] * 5
