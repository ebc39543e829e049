"""The permits the report counts are the platform's own: a hot-work permit walked through the library
(apply → approve → gas analysis → site check → work → acceptance) is in the hub after
``hub sync-processes`` and in the month's fusion report."""
from engine.permits import PERMIT_TYPES
from tests.hub_support import truncate_hub
from tests.test_library_hot_work import working
from tests.test_library_support import plant  # noqa: F401


def test_the_hot_work_walkthrough_permit_is_in_the_hub_and_the_report(api, platform, plant):
    truncate_hub(platform.db)
    iid = working(plant, area="warehouse")                                 # second grade: the unit approves
    plant.later(hours=2)
    plant.complete("worker1", iid, "hw_work", {"action": "complete"})
    plant.complete("prod1", iid, "hw_acceptance", {"no_embers": True, "site_cleared": True,
                                                   "facilities_restored": True})
    applied_only = plant.start("worker1", "hot_work_permit", {"area": "unit-1"})  # still with the applicant

    synced = api.post("/api/v1/hub/sync-processes", "safety1").json
    assert synced["work_record"]["inserted"] == 2, synced["work_record"]
    again = api.post("/api/v1/hub/sync-processes", "safety1").json
    assert again["work_record"]["outcomes"] == {"created": 0, "updated": 0, "unchanged": 2, "rejected": 0}
    permits = {x["ref"]: x for x in api.get("/api/v1/hub/work_record?source=permit", "safety1").json["items"]}
    done, pending = permits[f"permit:{iid}"], permits[f"permit:{applied_only}"]
    assert (done["kind"], done["grade"], done["area"], done["status"]) == ("hot_work", "second", "warehouse", "closed")
    assert done["applied_at"] <= done["approved_at"] <= done["started_at"] < done["ended_at"]
    assert done["hours"] > 0                                              # workers × the hours worked
    assert pending["status"] == "applied" and pending["approved_at"] is None

    assert api.post("/api/v1/analytics/runs", "safety1", json={"period": "2026-03"}).status_code == 201
    report = api.get("/api/v1/reports/fusion?period=2026-03&format=json", "boss1").json
    assert report["indicators"]["permits"] == 2
    by_grade = {r["group"]: r["count"] for r in report["analyses"]["permits"]["result"]["by_grade"]}
    assert by_grade["second"] == 1
    html = api.get("/api/v1/reports/fusion?period=2026-03", "boss1").data.decode()
    assert 'data-kpi="permits">作业许可<b>2</b>' in html


def test_every_registered_permit_process_is_synced():
    """The mapping reads the keys from PERMIT_TYPES: a permit type added there is synced without more code."""
    from engine.hub import feed

    assert set(feed.PERMITS) == {t.process_key for t in PERMIT_TYPES}
    assert {"hot_work_permit", "confined_space_permit"} <= set(feed.PERMITS)
