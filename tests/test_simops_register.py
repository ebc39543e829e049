"""SIMOPS through REST, from whichever permit comes second (issue 14 §2): the reviews of hot work and
confined space and the register (GET /api/v1/permits) read the live permits of the area both ways,
and what GB 30871-2022 forbids — 7.6 (hot work within 30 m of blinding in a fire/explosion area),
7.10 (two blindings on one pipeline), 6.7 (painting in a confined space with hot work) — is refused
whatever coordinator is named. Blinding runs as a stand-in process until its diagram is in bpmn/
(tests/mini_permits.py)."""
from tests.mini_permits import deploy_mini
from tests.test_library_confined_space import APPLICATION as CS_APPLICATION
from tests.test_library_confined_space import ISOLATED, inside
from tests.test_library_hot_work import APPROVE, applied, working
from tests.test_library_support import plant  # noqa: F401
from tests.test_permit_register import row


def blinding(plant, area="unit-1", pipeline="P-1001", equipment_id=""):
    return plant.start("worker1", "blinding_permit", {"area": area, "pipeline": pipeline, "equipment_id": equipment_id})


def conflicts(plant, iid):
    return [(c["instance_id"], c["forbidden"], c["clause"]) for c in row(plant, iid)["simops_conflicts"]]


def test_hot_work_applied_beside_live_blinding_in_a_fire_explosion_area_is_refused_7_6(plant, monkeypatch):
    deploy_mini(plant, monkeypatch, "blinding")
    blind = blinding(plant)
    assert row(plant, blind)["status"] == "working"
    hot = applied(plant, "unit-1", equipment_state="shutdown_purged")        # unit-1: fire/explosion area
    review = plant.form("prod1", hot, "hw_unit_review")["data"]
    assert [(c["process_key"], c["forbidden"]) for c in review["active_permits_in_area"]] == [("blinding_permit", True)]
    plant.complete("prod1", hot, "hw_unit_review", {**APPROVE, "coordinator": "赵协调"})
    data = plant.form("prod1", hot, "hw_unit_review")["data"]                 # back: a coordinator cannot clear it
    assert "7.6" in data["simops_refusal"] and "禁止" in data["simops_refusal"]
    assert conflicts(plant, hot) == [(blind, True, "GB 30871-2022 7.6")]
    # The same pair from the blinding side: hot work live first, then the blinding is registered.
    assert conflicts(plant, blind) == []                                     # the hot work is not live
    # At 30 m or more (recorded by the review, naming the blinding permit) it is cross-work only.
    plant.complete("prod1", hot, "hw_unit_review", {**APPROVE, "coordinator": "赵协调", "nearby_operations": [
        {"kind": "blinding", "distance_m": 45, "permit_ref": str(blind)}]})
    assert plant.variables(hot)["simops_refusal"] == ""
    assert conflicts(plant, hot) == [(blind, False, "GB 30871-2022 4.7")]


def test_blinding_after_live_hot_work_is_listed_as_forbidden_from_both_sides(plant, monkeypatch):
    deploy_mini(plant, monkeypatch, "blinding")
    hot = working(plant, "unit-1", equipment_state="shutdown_purged")
    blind = blinding(plant)
    assert conflicts(plant, blind) == [(hot, True, "GB 30871-2022 7.6")]
    assert conflicts(plant, hot) == [(blind, True, "GB 30871-2022 7.6")]
    # Outside a fire/explosion area the same pair is cross-work a coordinator clears.
    hot2 = working(plant, "warehouse")
    blind2 = blinding(plant, area="warehouse")
    assert conflicts(plant, blind2) == [(hot2, False, "GB 30871-2022 4.7")]


def test_two_blindings_on_one_pipeline_are_forbidden_7_10(plant, monkeypatch):
    deploy_mini(plant, monkeypatch, "blinding")
    first = blinding(plant, pipeline="P-1001")
    second = blinding(plant, pipeline="P-1001")
    other_line = blinding(plant, pipeline="P-2002")
    assert conflicts(plant, second) == [(first, True, "GB 30871-2022 7.10"), (other_line, False, "GB 30871-2022 4.7")]
    assert conflicts(plant, first) == [(second, True, "GB 30871-2022 7.10"), (other_line, False, "GB 30871-2022 4.7")]
    assert "同一管道 P-1001" in row(plant, first)["simops_conflicts"][0]["refusal"]


def test_painting_in_a_confined_space_with_hot_work_on_it_is_refused_whichever_comes_first_6_7(plant):
    # Confined space with painting inside V-101 first, hot work on V-101 second: refused from the hot-work side.
    cs = inside(plant, equipment_id="V-101", painting_inside=True)
    hot = applied(plant, "unit-1", equipment_state="shutdown_purged", equipment_id="V-101")
    plant.complete("prod1", hot, "hw_unit_review", {**APPROVE, "coordinator": "赵协调"})
    assert "6.7" in plant.form("prod1", hot, "hw_unit_review")["data"]["simops_refusal"]
    assert conflicts(plant, hot) == [(cs, True, "GB 30871-2022 6.7")]
    assert conflicts(plant, cs) == []                                        # the hot work is not live
    # Hot work on V-102 first, painting inside V-102 second: refused from the confined-space side.
    hot2 = working(plant, "unit-1", coordinator="赵协调", equipment_state="shutdown_purged", equipment_id="V-102")
    cs2 = plant.start("worker1", "confined_space_permit", {"area": "unit-1"})
    plant.complete("worker1", cs2, "cs_apply", {**CS_APPLICATION, "equipment_id": "V-102", "painting_inside": True})
    plant.complete("leader1", cs2, "cs_isolation", ISOLATED)
    plant.complete("prod1", cs2, "cs_approval", {**APPROVE, "coordinator": "赵协调"})
    assert "6.7" in plant.form("prod1", cs2, "cs_approval")["data"]["simops_refusal"]
    assert (hot2, True, "GB 30871-2022 6.7") in conflicts(plant, cs2)
    # Painting in another vessel: cross-work only, listed on both sides.
    assert (cs, False, "GB 30871-2022 4.7") in conflicts(plant, hot2)
    assert (hot2, False, "GB 30871-2022 4.7") in conflicts(plant, cs)
