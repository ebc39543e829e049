"""Engine features the process library needs: timers due at the poll instant fire in that poll,
an ``assignee`` expression on user tasks, and the read-only ``active_instances`` script helper."""
from datetime import datetime, timedelta, timezone

import time_machine

from engine.bpmn_builder import ProcessBuilder

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def _timer_process(kind: str, expression: str) -> str:
    b = ProcessBuilder("timed", "定时")
    b.lane("team_leader")
    b.start().user("work", "作业", lane="team_leader")
    b.timer_boundary("due", "到时", "work", kind, expression, cancel=kind != "cycle")
    b.user("after", "到时处理", lane="team_leader").end("end", "结束").end("after_end", "处理完")
    b.chain("start", "work", "end")
    b.chain("due", "after", "after_end")
    return b.to_xml()


def _active(api, iid):
    return sorted(t["bpmn_id"] for t in api.get(f"/api/v1/process-instances/{iid}", "admin").json["active_tasks"])


def _start(api, key, user, variables):
    r = api.post("/api/v1/process-instances", user, json={"process_key": key, "variables": variables})
    assert r.status_code == 201, r.json
    return r.json["id"]


def test_a_timer_due_exactly_at_the_poll_instant_fires_in_that_poll(api, platform):
    cases = [("duration", "'PT1H'"), ("date", "'2026-03-02T10:00:00+00:00'"),
             ("cycle", "'R2/2026-03-02T10:00:00+00:00/PT1H'")]
    for kind, expression in cases:
        with time_machine.travel(T0, tick=False) as clock:
            api._tokens.clear()
            assert api.deploy({"timed.bpmn": _timer_process(kind, expression)}).status_code == 201
            iid = _start(api, "timed", "leader1", {})
            clock.move_to(T0 + timedelta(minutes=59, seconds=59))
            platform.instances.fire_due_timers()
            assert _active(api, iid) == ["work"], kind
            clock.move_to(T0 + timedelta(hours=1))              # exactly the due instant
            assert platform.instances.fire_due_timers() == 1, kind
            expected = ["after", "work"] if kind == "cycle" else ["after"]
            assert _active(api, iid) == expected, kind
            if kind == "cycle":                                 # the next occurrence, again exactly on time
                clock.move_to(T0 + timedelta(hours=2))
                assert platform.instances.fire_due_timers() == 1
                assert _active(api, iid) == ["after", "after", "work"]
    api._tokens.clear()


def _assignee_process(expression: str) -> str:
    b = ProcessBuilder("assigned", "指派")
    b.lane("supervision")
    b.start(variables=["plan"]).user("check", "监督检查", lane="supervision", props={"assignee": expression}).end()
    b.chain("start", "check", "end")
    return b.to_xml()


def test_assignee_expression_names_the_user_when_the_task_is_created(api, platform):
    assert api.deploy({"assigned.bpmn": _assignee_process("plan['supervisor']")}).status_code == 201
    iid = _start(api, "assigned", "safety2", {"plan": {"supervisor": "safety1"}})
    mine = lambda user: [t for t in api.get(f"/api/v1/tasks?mine=true&instance_id={iid}", user).json["items"]]  # noqa: E731
    [task] = mine("safety1")
    assert task["assignee"] == "safety1"
    assert mine("safety2") == []                              # same role, but the task is someone's
    r = api.post(f"/api/v1/tasks/{task['id']}/complete", "safety2", json={"data": {}})
    assert r.status_code == 409
    assert api.post(f"/api/v1/tasks/{task['id']}/complete", "safety1", json={"data": {}}).status_code == 200
    # An unknown user, an empty value or a failing expression leave the task to the lane's role.
    for plan in ({"supervisor": "nobody-here"}, {"supervisor": ""}, {}):
        other = _start(api, "assigned", "safety2", {"plan": plan})
        [task] = api.get(f"/api/v1/tasks?mine=true&instance_id={other}", "safety2").json["items"]
        assert task["assignee"] is None, plan


def test_an_assignee_that_is_not_an_expression_is_rejected_at_deployment(api):
    r = api.deploy({"assigned.bpmn": _assignee_process("__import__('os')")})
    assert r.status_code == 422, r.json
    assert "assignee" in str(r.json)


def _looker() -> str:
    b = ProcessBuilder("looker", "查看区域内作业")
    b.lane("production")
    b.start(variables=["area"]).script("look", "查询", (
        "found = active_instances('target', area)\n"
        "found_ids = [f['id'] for f in found]\n"
        "found_status = [f['variables'].get('permit_status') for f in found]\n"
        "found[0]['variables']['permit_status'] = 'tampered' if found else None"), lane="production")
    b.user("show", "显示", lane="production").end()
    b.chain("start", "look", "show", "end")
    return b.to_xml()


def _target() -> str:
    b = ProcessBuilder("target", "作业票")
    b.lane("production")
    b.start(variables=["area", "plan_no", "seq", "urgent", "note"]).script("init", "登记", "permit_status = 'active'\nsecret = {'a': 1}", lane="production")
    b.user("work", "作业", lane="production").end()
    b.chain("start", "init", "work", "end")
    return b.to_xml()


def test_scripts_list_active_instances_of_an_area_read_only(api, platform):
    assert api.deploy({"looker.bpmn": _looker(), "target.bpmn": _target()}).status_code == 201
    here = [_start(api, "target", "prod1", {"area": "unit-1"}) for _ in range(2)]
    _start(api, "target", "prod1", {"area": "warehouse"})
    done = _start(api, "target", "prod1", {"area": "unit-1"})
    [task] = api.get(f"/api/v1/tasks?mine=true&instance_id={done}", "prod1").json["items"]
    assert api.post(f"/api/v1/tasks/{task['id']}/complete", "prod1", json={"data": {}}).status_code == 200
    iid = _start(api, "looker", "prod1", {"area": "unit-1"})
    v = api.get(f"/api/v1/process-instances/{iid}", "admin").json["variables"]
    assert v["found_ids"] == here                              # active, same area, oldest first
    assert v["found_status"] == ["active", "active"]
    assert "secret" not in v["found"][1]["variables"]          # only scalar summary variables
    for target in here:                                        # what the script changed stayed in its copy
        assert api.get(f"/api/v1/process-instances/{target}", "admin").json["variables"]["permit_status"] == "active"


def _targets(api, *variables):
    assert api.deploy({"target.bpmn": _target()}).status_code == 201
    return [_start(api, "target", "prod1", v) for v in variables]


def test_active_instances_match_filters_on_variables_in_the_database(api, platform):
    from engine.script_queries import active_instances_helper

    a, b, c = _targets(api, {"area": "unit-1", "plan_no": "JH-1", "seq": 1, "urgent": True, "note": None},
                       {"area": "unit-1", "plan_no": "JH-2", "seq": 2, "urgent": False},
                       {"area": "warehouse", "plan_no": "2", "seq": 2.5})
    active_instances = active_instances_helper(platform.db)
    ids = lambda **kw: [p["id"] for p in active_instances("target", **kw)]  # noqa: E731
    assert ids(match={"plan_no": "JH-2"}) == [b]                      # a string
    assert ids(match={"seq": 2}) == [b]                               # an integer
    assert ids(match={"seq": 2.0}) == [b] and ids(match={"seq": 2.5}) == [c]
    assert ids(match={"plan_no": 2}) == [] and ids(match={"seq": "2"}) == []   # types are not mixed
    assert ids(match={"urgent": True}) == [a] and ids(match={"urgent": False}) == [b]
    assert ids(match={"seq": 1, "urgent": 1}) == []                   # a boolean is not a number
    assert ids(match={"note": None}) == [a, b, c]                     # null or not set
    assert ids(match={"urgent": None}) == [c]
    assert ids(match={"plan_no": "JH-2", "seq": 2}) == [b]            # every pair must hold
    assert ids(match={"plan_no": "JH-2", "seq": 1}) == []
    assert ids(match={"plan_no": "JH-9"}) == []                       # no match
    assert ids(area="warehouse", match={"plan_no": "JH-2"}) == []
    assert ids(area="unit-1", match={"plan_no": "JH-1"}) == [a]
    assert ids(match={}) == ids() == [a, b, c]
    [p] = active_instances("target", None, ("plan_no", "seq"), {"seq": 2})    # positional, as scripts call it
    assert p["variables"] == {"plan_no": "JH-2", "seq": 2}
    for bad in (["plan_no"], "plan_no=JH-1", {"plan_no": ["JH-1"]}, {"plan_no": {"a": 1}}, {1: "JH-1"},
                {"plan no": "JH-1"}, {"": 1}, {"seq": float("nan")}, {"seq": 2 ** 64}):
        try:
            active_instances("target", match=bad)
        except ValueError as e:
            assert str(e).startswith("active_instances: match"), bad
        else:
            raise AssertionError(f"accepted {bad!r}")


def test_active_instances_warns_when_the_cap_cuts_the_list(api, platform, monkeypatch, caplog):
    from engine import script_queries

    ids = _targets(api, *[{"area": "unit-1", "plan_no": f"JH-{n}"} for n in range(4)])
    monkeypatch.setattr(script_queries, "MAX_ROWS", 3)
    active_instances = script_queries.active_instances_helper(platform.db)
    with caplog.at_level("WARNING", logger="engine.script_queries"):
        assert [p["id"] for p in active_instances("target", "unit-1")] == ids[:3]   # oldest first, capped
    [warning] = [r for r in caplog.records if r.name == "engine.script_queries"]
    assert "'target'" in warning.getMessage() and "match=" in warning.getMessage()
    caplog.clear()
    with caplog.at_level("WARNING", logger="engine.script_queries"):
        assert [p["id"] for p in active_instances("target", match={"plan_no": "JH-3"})] == [ids[3]]
        monkeypatch.setattr(script_queries, "MAX_ROWS", 4)
        assert [p["id"] for p in active_instances("target")] == ids      # exactly the cap: nothing cut
    assert not [r for r in caplog.records if r.name == "engine.script_queries"]
