"""The SIMOPS matrix of GB 30871-2022 for every ordered pair of the eight special operations (issue 14 §2).

Table-driven over bpmn/simops_matrix.dmn through engine/simops.py, the rule the register and every
permit review apply: in one area every pair is cross-work a coordinator clears (4.7), except what the
standard forbids outright — hot work within 30 m of blinding in a fire/explosion area (7.6, both
ways), two blindings on one pipeline (7.10), painting in a confined space with hot work on that
equipment (6.7, both ways). The hot-work and confined-space diagrams evaluate their own tables: they
must say the same as the matrix.
"""
from itertools import product
from pathlib import Path

import pytest

from engine import simops

BPMN = Path(__file__).resolve().parent.parent / "bpmn"
KINDS = ["hot_work", "confined_space", "blinding", "height", "lifting", "temp_power", "excavation", "road_closure"]
MATRIX = (BPMN / "simops_matrix.dmn").read_text(encoding="utf-8")


def rules(kind):
    return simops.rules_from_dmn(MATRIX, kind)


def permit(kind, iid, **facts):
    return {"process_key": f"{kind}_permit", "instance_id": iid, "business_key": f"{kind.upper()}-{iid}",
            "permit_status": "working", **facts}


def check(first, second, area_class="fire_explosion", facts=None):
    """The conflict of ``second`` (applied for while ``first`` is live) with ``first``, both ways:
    from the second's side by its rules, and from the first's side, as the register lists it.
    ``facts``: {"first": {...}, "second": {...}}."""
    facts = facts or {}
    a = permit(first, 1, **facts.get("first", {}))
    b = permit(second, 2, **facts.get("second", {}))
    from_second = simops.conflicts(b, [a], rules(second), area_class)
    from_first = simops.conflicts(a, [b], rules(first), area_class)
    assert len(from_second) == 1 and len(from_first) == 1, (first, second)
    return from_second[0], from_first[0]


FORBIDDEN = {
    # (first live, second applied for): (facts that make it forbidden, facts that do not, clause)
    ("hot_work", "blinding"): ({}, {"first": {"nearby": [{"permit_ref": "BLINDING-2", "distance_m": 35}]}}, "7.6"),
    ("blinding", "hot_work"): ({}, {"second": {"nearby": [{"permit_ref": "BLINDING-1", "distance_m": 30}]}}, "7.6"),
    ("blinding", "blinding"): ({"first": {"pipeline": "P-1001"}, "second": {"pipeline": "p-1001 "}},
                               {"first": {"pipeline": "P-1001"}, "second": {"pipeline": "P-1002"}}, "7.10"),
    ("hot_work", "confined_space"): ({"first": {"equipment_id": "V-101"},
                                      "second": {"equipment_id": "V-101", "painting_planned": True}},
                                     {"first": {"equipment_id": "V-101"}, "second": {"equipment_id": "V-101"}}, "6.7"),
    ("confined_space", "hot_work"): ({"first": {"equipment_id": "V-101", "painting_planned": True},
                                      "second": {"equipment_id": "V-101"}},
                                     {"first": {"equipment_id": "V-102", "painting_planned": True},
                                      "second": {"equipment_id": "V-101"}}, "6.7"),
}


@pytest.mark.parametrize("first,second", list(product(KINDS, KINDS)), ids=lambda k: k)
def test_every_ordered_pair_in_one_area_is_cross_work_both_ways(first, second):
    """Without the facts of a forbidden case, every pair needs a coordinator, from either side."""
    harmless = FORBIDDEN.get((first, second), (None, {}, None))[1]
    for c in check(first, second, facts=harmless):
        assert c["forbidden"] is False and c["refusal"] == ""
        assert c["clause"].startswith("GB 30871-2022")
    s, f = check(first, second, facts=harmless)
    assert (s["process_key"], f["process_key"]) == (f"{first}_permit", f"{second}_permit")


@pytest.mark.parametrize("first,second", list(FORBIDDEN), ids=lambda k: k)
def test_what_the_standard_forbids_is_forbidden_from_either_side(first, second):
    facts, _, clause = FORBIDDEN[(first, second)]
    for c in check(first, second, facts=facts):
        assert c["forbidden"] is True and c["refusal"], (first, second, c)
        assert clause in c["clause"] and clause in c["reason"]


def test_only_the_pairs_of_the_standard_are_ever_forbidden():
    """With every fact that could forbid something at once, only 7.6, 7.10 and 6.7 pairs are forbidden."""
    everything = {"equipment_id": "V-101", "painting_planned": True, "pipeline": "P-1"}
    forbidden = set()
    for first, second in product(KINDS, KINDS):
        s, f = check(first, second, facts={"first": everything, "second": everything})
        assert s["forbidden"] == f["forbidden"], (first, second)        # the same answer from either side
        if s["forbidden"]:
            forbidden.add((first, second))
    assert forbidden == set(FORBIDDEN)


def test_hot_work_near_blinding_outside_a_fire_explosion_area_is_cross_work_only():
    for area_class in ("general", "pipe_rack"):
        for c in check("hot_work", "blinding", area_class=area_class):
            assert c["forbidden"] is False
    for area_class in ("fire_explosion", "major_hazard_tank_farm"):
        for c in check("hot_work", "blinding", area_class=area_class):
            assert c["forbidden"] is True
    # A distance recorded below 30 m stays forbidden; at 30 m or more only coordination is needed.
    near = {"first": {"nearby": [{"permit_ref": "BLINDING-2", "distance_m": 29.5}]}}
    assert all(c["forbidden"] and "29.5" in c["refusal"] for c in check("hot_work", "blinding", facts=near))


def test_the_diagrams_own_tables_say_what_the_matrix_says():
    own = {"hot_work": "simops_permits.dmn", "confined_space": "simops_confined_space.dmn"}
    for kind, table in own.items():
        mine = simops.rules_from_dmn((BPMN / table).read_text(encoding="utf-8"), kind)
        strip = [{k: v for k, v in r.items() if k != "types"} for r in mine]
        assert strip == [{k: v for k, v in r.items() if k != "types"} for r in rules(kind)]
        assert {r["other"] for r in mine} == {f"{k}_permit" for k in KINDS}
