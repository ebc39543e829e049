"""Timer start events: one instance per occurrence, exactly once, missed ones not replayed."""
from datetime import datetime, timedelta, timezone

import time_machine

from engine.bpmn_builder import ProcessBuilder
from engine.models import utcnow


def rounds_process(expression: str, kind: str = "cycle") -> str:
    b = ProcessBuilder("daily_rounds", "每日巡检")
    b.lane("team_leader")
    b.start("start", "每日 08:00", timer=(kind, repr(expression)))
    b.user("check", "巡检记录", lane="team_leader").end()
    b.chain("start", "check", "end")
    return b.to_xml()


def test_cycle_starts_one_instance_per_occurrence(api, platform):
    first = (utcnow() + timedelta(hours=1)).replace(microsecond=0)
    expr = f"R/{first.isoformat()}/PT1H"
    assert api.deploy({"rounds.bpmn": rounds_process(expr)}).status_code == 201
    ts = platform.timer_starts
    assert ts.fire_due() == 0  # not due yet
    with time_machine.travel(first + timedelta(seconds=1), tick=False):
        assert ts.fire_due() == 1
        assert ts.fire_due() == 0  # the same occurrence never starts twice
    with time_machine.travel(first + timedelta(hours=3, seconds=5), tick=False):
        # Two occurrences were missed while the plant was down: only one instance, schedule moves on.
        assert ts.fire_due() == 1
    listed = api.get("/api/v1/process-instances?process_key=daily_rounds", "safety1").json
    assert listed["total"] == 2
    keys = sorted(i["business_key"] for i in listed["items"])
    assert keys[0] == f"daily_rounds@{first.isoformat(timespec='minutes')}"
    inst = api.get(f"/api/v1/process-instances/{listed['items'][0]['id']}", "safety1").json
    assert [t["bpmn_id"] for t in inst["active_tasks"]] == ["check"]
    assert inst["variables"]["scheduled_at"]


def test_two_schedulers_race_for_one_occurrence(api, platform):
    due = (utcnow() + timedelta(minutes=5)).replace(microsecond=0)
    assert api.deploy({"rounds.bpmn": rounds_process(due.isoformat(), kind="date")}).status_code == 201
    with time_machine.travel(due + timedelta(seconds=1), tick=False):
        pending = platform.timer_starts.due()
        assert len(pending) == 1
        results = [platform.timer_starts.fire(*pending[0]), platform.timer_starts.fire(*pending[0])]
    assert sum(r is not None for r in results) == 1
    assert platform.timer_starts.due(now=datetime(2100, 1, 1, tzinfo=timezone.utc)) == []  # a date fires once


def test_timer_start_needs_a_constant_expression(api):
    b = ProcessBuilder("dyn", "动态")
    b.lane("team_leader")
    b.start("start", "开始", timer=("date", "next_shift")).user("t", "任务", lane="team_leader").end()
    b.chain("start", "t", "end")
    r = api.deploy({"dyn.bpmn": b.to_xml()})
    assert r.status_code == 422 and "constant" in r.json["errors"][0]["message"]


def test_the_embedded_runner_starts_due_occurrences(api, platform):
    due = (utcnow() + timedelta(minutes=1)).replace(microsecond=0)
    assert api.deploy({"rounds.bpmn": rounds_process(due.isoformat(), kind="date")}).status_code == 201
    with time_machine.travel(due + timedelta(seconds=1), tick=False):
        assert platform.dispatcher.run_once() >= 1
    assert api.get("/api/v1/process-instances?process_key=daily_rounds", "safety1").json["total"] == 1
